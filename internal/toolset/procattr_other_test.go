//go:build !linux

package toolset

import "os/exec"

func dieWithTest(*exec.Cmd) {}
