//go:build !linux

package devstack

import (
	"os"
	"syscall"
)

// sysProcAttr is a best effort outside Linux: the development machines and CI
// run Linux, and other systems have no parent-death signal, so a crashed
// parent may leave a service running there.
func sysProcAttr(cred *credential) *syscall.SysProcAttr {
	return nil
}

// killGroup falls back to killing the main process only.
func killGroup(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
