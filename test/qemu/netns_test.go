//go:build qemu

package qemu

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// nsPrefix names the namespaces this tier creates: lwgoq-<pid>.
const nsPrefix = "lwgoq-"

// tapNet is a network namespace holding a TAP (tap0, 198.18.0.1/24) for QEMU
// to open by name from inside the namespace (QEMU must run there: it opens
// the TAP by name in its own namespace, facts/qemu-e1000.md §6). Nothing in
// the root namespace is touched; Close deletes the namespace and with it the
// TAP.
type tapNet struct {
	name string
}

func ipCmd(args ...string) error {
	ctx, cancel := ctxTimeout(10 * time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// tapNetAvailable says why a TAP network cannot be made here.
func tapNetAvailable() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("not root (network namespaces and TAP need CAP_NET_ADMIN)")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return err
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("ip (iproute2): %w", err)
	}
	return nil
}

// cleanupStale deletes namespaces of earlier runs whose process is gone.
func cleanupStale() {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], nsPrefix) {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimPrefix(f[0], nsPrefix))
		if err != nil {
			continue
		}
		if unix.Kill(pid, 0) == unix.ESRCH {
			ipCmd("netns", "del", f[0])
		}
	}
}

func newTapNet(t *testing.T) *tapNet {
	t.Helper()
	need(t, "TAP network", tapNetAvailable())
	cleanupStale()
	n := &tapNet{name: nsPrefix + strconv.Itoa(os.Getpid())}
	if err := ipCmd("netns", "add", n.name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	for _, args := range [][]string{
		{"-n", n.name, "link", "set", "lo", "up"},
		{"-n", n.name, "tuntap", "add", "dev", "tap0", "mode", "tap"},
		{"-n", n.name, "addr", "add", "198.18.0.1/24", "dev", "tap0"},
		{"-n", n.name, "link", "set", "tap0", "up"},
	} {
		if err := ipCmd(args...); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// Close deletes the namespace (and the TAP in it).
func (n *tapNet) Close() { ipCmd("netns", "del", n.name) }

// wrap is the command prefix that runs a program inside the namespace.
func (n *tapNet) wrap() []string { return []string{"ip", "netns", "exec", n.name} }

// listen opens a TCP listener inside the namespace: a socket keeps the
// namespace it was created in, so the thread that creates it enters the
// namespace and is then discarded (never unlocked).
func (n *tapNet) listen(addr string) (net.Listener, error) {
	type res struct {
		l   net.Listener
		err error
	}
	c := make(chan res, 1)
	go func() {
		runtime.LockOSThread() // not unlocked: the thread dies with the goroutine
		fd, err := unix.Open("/run/netns/"+n.name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			c <- res{nil, err}
			return
		}
		err = unix.Setns(fd, unix.CLONE_NEWNET)
		unix.Close(fd)
		if err != nil {
			c <- res{nil, err}
			return
		}
		l, err := net.Listen("tcp4", addr)
		c <- res{l, err}
	}()
	r := <-c
	return r.l, r.err
}
