package main

import "syscall"

// childProcAttr puts the server in its own process group and has the kernel
// stop it if the driver dies, so a crashed or killed run leaves nothing
// listening.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
