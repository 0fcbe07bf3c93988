//go:build linux

package devstack

import "syscall"

// sysProcAttr puts the child in its own process group, so a terminal's Ctrl-C
// reaches only `pinhole dev` (which then stops the services in order), and
// asks the kernel to SIGKILL the child if we die first, so nothing outlives a
// crashed test binary.
//
// Pdeathsig fires when the OS thread that forked the child exits, not the
// whole process. The Go runtime only retires a thread when a goroutine that
// called runtime.LockOSThread exits while still locked, which this package
// never does, so in practice the signal tracks the process lifetime.
//
// Go applies the credential before setting Pdeathsig in the child, which
// matters because the kernel clears the parent-death signal on a uid change.
func sysProcAttr(cred *credential) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if cred != nil {
		attr.Credential = &syscall.Credential{Uid: cred.uid, Gid: cred.gid}
	}
	return attr
}

// killGroup kills the whole process group, so helpers a service forked
// (PostgreSQL backends, for instance) die with it when a graceful stop timed
// out.
func killGroup(pid int) error {
	return syscall.Kill(-pid, syscall.SIGKILL)
}
