//go:build linux

// Command visorinit is the /init of the visor appliance image (`make demo`
// and test/qemu's TestVisorAppliance): it mounts proc, sysfs and devtmpfs,
// then runs /visor with the arguments in /etc/visor.args (one per line, so
// a password may hold spaces), typically
//
//	-e1000 auto -dhcp -password …
//
// visor finds QEMU's emulated e1000 through sysfs and drives it with lwgo's
// userspace driver. visorinit stays PID 1: it reaps orphans, and when visor
// exits it reports visor's status through isa-debug-exit (port 0xf4, if the
// VM has one: 0 → QEMU exits 1) and powers the VM off.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

func uptime() string {
	b, _ := os.ReadFile("/proc/uptime")
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

func logf(format string, a ...any) {
	fmt.Printf("visorinit %s: %s\n", uptime(), fmt.Sprintf(format, a...))
}

func main() {
	for _, m := range []struct{ src, dst, typ string }{
		{"proc", "/proc", "proc"},
		{"sysfs", "/sys", "sysfs"},
		{"devtmpfs", "/dev", "devtmpfs"},
	} {
		os.MkdirAll(m.dst, 0o755)
		if err := syscall.Mount(m.src, m.dst, m.typ, 0, ""); err != nil && !errors.Is(err, syscall.EBUSY) {
			logf("mount %s: %v", m.dst, err)
		}
	}
	var args []string
	if b, err := os.ReadFile("/etc/visor.args"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if l != "" {
				args = append(args, l)
			}
		}
	}
	logf("starting /visor (%d arguments)", len(args))
	cmd := exec.Command("/visor", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, os.Stdout, os.Stderr
	cmd.Env = []string{"PATH=/", "HOME=/tmp"}
	ok := false
	if err := cmd.Start(); err != nil {
		logf("start /visor: %v", err)
	} else {
		// Reap every child until visor itself exits (PID 1 adopts orphans).
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, 0, nil)
			if err != nil && !errors.Is(err, syscall.EINTR) {
				logf("wait: %v", err)
				break
			}
			if pid == cmd.Process.Pid {
				logf("visor exited: %v", describe(ws))
				ok = ws.Exited() && ws.ExitStatus() == 0
				break
			}
		}
	}
	if fd, err := syscall.Open("/dev/port", syscall.O_WRONLY, 0); err == nil {
		b := []byte{1}
		if ok {
			b[0] = 0
		}
		syscall.Pwrite(fd, b, 0xf4)
		syscall.Close(fd)
	}
	syscall.Sync()
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
}

func describe(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return "signal " + ws.Signal().String()
	}
	return fmt.Sprintf("status %d", ws.ExitStatus())
}
