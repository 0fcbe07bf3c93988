//go:build !linux

package main

import "syscall"

// childProcAttr: only Linux can tie the child's life to ours; elsewhere the
// driver stops it on every exit path it controls. (The driver needs Linux's
// /proc and loopback range anyway; this file keeps `go vet ./...` building.)
func childProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
