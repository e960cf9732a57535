//go:build linux

package netns

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lwgo/lwgo/platform/tap"
)

// These tests create namespaces and TAPs: root only. Under CI=true they fail
// instead of skipping when that is impossible.

const testPrefix = "lwgonstest"

func needRoot(t *testing.T) {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true, but the namespace tier cannot run here: %v", err)
		}
		t.Skip(err)
	}
}

func netnsExists(t *testing.T, name string) bool {
	t.Helper()
	out, err := ip(context.Background(), "netns", "list")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(out)) {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			return true
		}
	}
	return false
}

func TestNewClose(t *testing.T) {
	needRoot(t)
	ctx := context.Background()
	n, err := New(ctx, Config{Prefix: testPrefix, Subnet: 42, TAP: tap.Config{MTU: 1400}})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if !strings.HasPrefix(n.Name, testPrefix+"-"+strconv.Itoa(os.Getpid())+"-") {
		t.Errorf("name %q", n.Name)
	}
	if n.KernelAddr.String() != "198.18.42.1/24" || n.StackAddr.String() != "198.18.42.2/24" {
		t.Errorf("addresses %v %v", n.KernelAddr, n.StackAddr)
	}
	if !n.Dev.LinkUp() || n.Dev.MTU() != 1400 {
		t.Errorf("device: link %v, MTU %d", n.Dev.LinkUp(), n.Dev.MTU())
	}
	out, err := n.Run(ctx, 5*time.Second, "ip", "-o", "addr", "show", "dev", n.TAPName)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "inet 198.18.42.1/24") || strings.Contains(string(out), "inet6") {
		t.Errorf("kernel side addresses:\n%s", out)
	}
	out, err = n.Run(ctx, 5*time.Second, "ip", "-o", "link", "show", "dev", n.TAPName)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "mtu 1400") || !strings.Contains(string(out), "UP") {
		t.Errorf("kernel side link:\n%s", out)
	}
	// Sysctls, read from inside with Do.
	err = n.Do(func() error {
		for file, want := range map[string]string{
			"net/ipv6/conf/" + n.TAPName + "/disable_ipv6": "1",
			"net/ipv4/conf/all/rp_filter":                  "0",
			"net/ipv4/conf/" + n.TAPName + "/rp_filter":    "0",
		} {
			b, err := os.ReadFile("/proc/sys/" + file)
			if err != nil {
				return err
			}
			if got := strings.TrimSpace(string(b)); got != want {
				t.Errorf("%s = %s, want %s", file, got, want)
			}
		}
		ifs, err := net.Interfaces()
		if err != nil {
			return err
		}
		if len(ifs) != 2 {
			t.Errorf("interfaces in the namespace: %v (want lo and the TAP)", ifs)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The TAP is not in the root namespace.
	if _, err := net.InterfaceByName(n.TAPName); err == nil {
		t.Errorf("%s visible in the root namespace", n.TAPName)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if netnsExists(t, n.Name) {
		t.Errorf("%s still exists after Close", n.Name)
	}
	if n.Dev.LinkUp() {
		t.Error("device still open after Close")
	}
	if err := n.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestRunTimeoutKills(t *testing.T) {
	needRoot(t)
	n, err := New(context.Background(), Config{Prefix: testPrefix})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	start := time.Now()
	_, err = n.Run(context.Background(), 200*time.Millisecond, "sh", "-c", "sleep 30 & sleep 30")
	if err == nil {
		t.Fatal("Run of sleep 30 with a 200 ms timeout succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run took %v to time out", d)
	}
	// The whole process group died: nothing is left in the namespace.
	time.Sleep(100 * time.Millisecond)
	out, err := ip(context.Background(), "netns", "pids", n.Name)
	if err != nil {
		t.Fatal(err)
	}
	if pids := strings.Fields(string(out)); len(pids) != 0 {
		t.Errorf("processes left in the namespace: %v", pids)
	}
	// A leftover background process is killed by Close.
	cmd := n.Command(context.Background(), "sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		t.Fatal("Close left a process running in the namespace")
	}
}

// TestCleanupStale: namespaces named after a dead process are removed; those
// of live processes (this one) and foreign names stay.
func TestCleanupStale(t *testing.T) {
	needRoot(t)
	ctx := context.Background()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	deadPid := dead.Process.Pid
	stale := testPrefix + "-" + strconv.Itoa(deadPid) + "-1"
	foreign := testPrefix + "x-" + strconv.Itoa(deadPid) + "-1"
	for _, name := range []string{stale, foreign} {
		if _, err := ip(ctx, "netns", "add", name); err != nil {
			t.Fatal(err)
		}
		defer removeNetns(name)
	}
	live, err := New(ctx, Config{Prefix: testPrefix})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	removed, err := CleanupStale(ctx, testPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != stale {
		t.Errorf("removed %v, want [%s]", removed, stale)
	}
	if netnsExists(t, stale) {
		t.Errorf("%s survived", stale)
	}
	if !netnsExists(t, foreign) || !netnsExists(t, live.Name) {
		t.Errorf("CleanupStale removed a namespace it does not own")
	}
	if _, err := CleanupStale(ctx, "bad-prefix"); err == nil {
		t.Error("CleanupStale accepted a prefix with a dash")
	}
}

func TestVethPair(t *testing.T) {
	needRoot(t)
	a, b, err := NewVethPair(context.Background(), Config{Prefix: testPrefix, Subnet: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	out, err := a.Run(context.Background(), 10*time.Second, "ping", "-c", "1", "-W", "2", b.KernelAddr.Addr().String())
	if err != nil {
		if _, lerr := exec.LookPath("ping"); lerr != nil {
			t.Skip("no ping")
		}
		t.Fatalf("%v\n%s", err, out)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if netnsExists(t, a.Name) || netnsExists(t, b.Name) {
		t.Error("namespaces left after Close")
	}
}

func TestNewBadPrefix(t *testing.T) {
	for _, p := range []string{"a-b", "x y", "a/b"} {
		if _, err := New(context.Background(), Config{Prefix: p}); err == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
}
