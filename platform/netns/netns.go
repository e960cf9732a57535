//go:build linux

package netns

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/platform/tap"
)

// DefaultPrefix starts the names of everything this package creates.
const DefaultPrefix = "lwgo"

// cmdTimeout bounds each ip(8) invocation of setup and teardown.
const cmdTimeout = 10 * time.Second

// Config configures a test network. The zero Config is usable.
type Config struct {
	// Prefix starts the namespace name, <Prefix>-<pid>-<n>, and (its first
	// four bytes) the TAP name, <prefix><pid>t<n>. Letters and digits only.
	// Default DefaultPrefix.
	Prefix string
	// Subnet is the x of 198.18.x.0/24, the test network: the kernel gets
	// 198.18.x.1/24, the stack is meant to take 198.18.x.2/24. Namespaces
	// are isolated, so the same subnet in several of them does not clash.
	// Default 0.
	Subnet uint8
	// TAP configures the device; its Name is ignored (generated).
	TAP tap.Config
}

// Net is a network namespace holding the kernel side of a TAP whose other
// side, Dev, this process holds in the root namespace's view. Everything it
// names was created by New and is removed by Close.
type Net struct {
	// Name is the namespace's name (ip netns).
	Name string
	// TAPName is the TAP interface's name inside the namespace.
	TAPName string
	// Dev is the opened TAP, for the stack.
	Dev *tap.Device
	// KernelAddr is the kernel's address on the TAP, 198.18.x.1/24.
	KernelAddr netip.Prefix
	// StackAddr is the address meant for the stack, 198.18.x.2/24.
	StackAddr netip.Prefix

	closeOnce sync.Once
	closeErr  error
}

var seq atomic.Uint32

// Available reports why test networks cannot be made here, or nil: they
// need root, /dev/net/tun and the ip command (iproute2).
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("netns: not root (network namespaces and TAP devices need CAP_NET_ADMIN)")
	}
	if err := unix.Access("/dev/net/tun", unix.R_OK|unix.W_OK); err != nil {
		return fmt.Errorf("netns: /dev/net/tun: %w", err)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("netns: the ip command (iproute2) is not on PATH")
	}
	return nil
}

// New creates a namespace and a TAP, moves the TAP into the namespace and
// configures the kernel side: the TAP with cfg.TAP's MTU, address
// 198.18.x.1/24, IPv6 disabled, reverse-path filtering off, link up, and lo
// up. The TAP is opened from this process in the root namespace and then
// moved (a moved TAP must never be reopened by name from the root
// namespace: TUNSETIFF would create a new one there). On failure everything
// already made is removed.
func New(ctx context.Context, cfg Config) (n *Net, err error) {
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if !isAlnum(cfg.Prefix) {
		return nil, fmt.Errorf("netns: prefix %q: letters and digits only", cfg.Prefix)
	}
	pid := os.Getpid()
	id := seq.Add(1)
	tp := cfg.Prefix[:min(4, len(cfg.Prefix))]
	n = &Net{
		Name:       fmt.Sprintf("%s-%d-%d", cfg.Prefix, pid, id),
		TAPName:    fmt.Sprintf("%s%dt%d", tp, pid, id),
		KernelAddr: netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, cfg.Subnet, 1}), 24),
		StackAddr:  netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, cfg.Subnet, 2}), 24),
	}
	if len(n.TAPName) >= unix.IFNAMSIZ {
		return nil, fmt.Errorf("netns: TAP name %q too long; use a shorter prefix", n.TAPName)
	}
	if _, err := ip(ctx, "netns", "add", n.Name); err != nil {
		return nil, err
	}
	register(n)
	defer func() {
		if err != nil {
			n.Close()
			n = nil
		}
	}()
	tc := cfg.TAP
	tc.Name = n.TAPName
	n.Dev, err = tap.Open(tc)
	if err != nil {
		return n, err
	}
	mtu := n.Dev.MTU()
	steps := [][]string{
		{"link", "set", n.TAPName, "netns", n.Name},
		{"-n", n.Name, "link", "set", "lo", "up"},
		{"-n", n.Name, "link", "set", n.TAPName, "mtu", strconv.Itoa(mtu)},
	}
	for _, s := range steps {
		if _, err := ip(ctx, s...); err != nil {
			return n, err
		}
	}
	// Before the link goes up: no IPv6 router solicitations, MLD or DAD
	// noise on the TAP, and no reverse-path filtering surprises.
	err = n.Do(func() error {
		for _, kv := range [][2]string{
			{"net/ipv6/conf/" + n.TAPName + "/disable_ipv6", "1"},
			{"net/ipv4/conf/all/rp_filter", "0"},
			{"net/ipv4/conf/default/rp_filter", "0"},
			{"net/ipv4/conf/" + n.TAPName + "/rp_filter", "0"},
		} {
			if err := os.WriteFile("/proc/sys/"+kv[0], []byte(kv[1]), 0); err != nil {
				return fmt.Errorf("netns: sysctl %s: %w", kv[0], err)
			}
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	steps = [][]string{
		{"-n", n.Name, "addr", "add", n.KernelAddr.String(), "dev", n.TAPName},
		{"-n", n.Name, "link", "set", n.TAPName, "up"},
	}
	for _, s := range steps {
		if _, err := ip(ctx, s...); err != nil {
			return n, err
		}
	}
	return n, nil
}

// NewVethPair creates two namespaces joined by a veth pair, for kernel-to-
// kernel reference measurements: a's end has 198.18.x.1/24 and b's end
// 198.18.x.2/24 (a.KernelAddr and b.KernelAddr; StackAddr is the other's
// address). The veth is created inside a's namespace with its peer in b's,
// so nothing appears in the root namespace. Both Nets have a nil Dev;
// closing either one removes the veth.
func NewVethPair(ctx context.Context, cfg Config) (a, b *Net, err error) {
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if !isAlnum(cfg.Prefix) {
		return nil, nil, fmt.Errorf("netns: prefix %q: letters and digits only", cfg.Prefix)
	}
	pid := os.Getpid()
	mk := func(host byte) *Net {
		id := seq.Add(1)
		peer := 3 - host
		return &Net{
			Name:       fmt.Sprintf("%s-%d-%d", cfg.Prefix, pid, id),
			TAPName:    fmt.Sprintf("%s%dv%d", cfg.Prefix[:min(4, len(cfg.Prefix))], pid, id),
			KernelAddr: netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, cfg.Subnet, host}), 24),
			StackAddr:  netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18, cfg.Subnet, peer}), 24),
		}
	}
	a, b = mk(1), mk(2)
	if len(a.TAPName) >= unix.IFNAMSIZ || len(b.TAPName) >= unix.IFNAMSIZ {
		return nil, nil, fmt.Errorf("netns: veth name %q too long; use a shorter prefix", b.TAPName)
	}
	defer func() {
		if err != nil {
			b.Close()
			a.Close()
			a, b = nil, nil
		}
	}()
	for _, n := range []*Net{a, b} {
		if _, err = ip(ctx, "netns", "add", n.Name); err != nil {
			n.closeOnce.Do(func() {}) // nothing to remove
			return a, b, err
		}
		register(n)
	}
	steps := [][]string{
		{"-n", a.Name, "link", "add", a.TAPName, "type", "veth", "peer", "name", b.TAPName, "netns", b.Name},
	}
	mtu := cfg.TAP.MTU
	if mtu == 0 {
		mtu = 1500
	}
	for _, n := range []*Net{a, b} {
		steps = append(steps,
			[]string{"-n", n.Name, "link", "set", "lo", "up"},
			[]string{"-n", n.Name, "link", "set", n.TAPName, "mtu", strconv.Itoa(mtu)},
			[]string{"-n", n.Name, "addr", "add", n.KernelAddr.String(), "dev", n.TAPName},
			[]string{"-n", n.Name, "link", "set", n.TAPName, "up"},
		)
	}
	for _, s := range steps {
		if _, err = ip(ctx, s...); err != nil {
			return a, b, err
		}
	}
	return a, b, nil
}

// Close closes the TAP (which deletes the interface), kills the processes
// left in the namespace and deletes it. It is idempotent and safe to call
// from any goroutine once nothing polls Dev any more.
func (n *Net) Close() error {
	n.closeOnce.Do(func() {
		var errs []error
		if n.Dev != nil {
			errs = append(errs, n.Dev.Close())
		}
		errs = append(errs, removeNetns(n.Name))
		unregister(n)
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

// removeNetns kills what runs in namespace name and deletes it.
func removeNetns(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	killPids(ctx, name)
	var err error
	for try := 0; try < 5; try++ {
		if _, err = ip(ctx, "netns", "del", name); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond) // a just-killed process may still hold it
	}
	return err
}

// killPids SIGKILLs every process in namespace name and waits briefly for
// them to go.
func killPids(ctx context.Context, name string) {
	for try := 0; try < 20; try++ {
		out, err := ip(ctx, "netns", "pids", name)
		if err != nil {
			return
		}
		pids := strings.Fields(string(out))
		if len(pids) == 0 {
			return
		}
		for _, p := range pids {
			if pid, err := strconv.Atoi(p); err == nil && pid > 1 && pid != os.Getpid() {
				unix.Kill(pid, unix.SIGKILL)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Command returns a command that runs name inside the namespace (ip netns
// exec). It runs in its own process group, which is SIGKILLed when ctx is
// done, and dies with this process's thread (Pdeathsig); Close kills
// whatever is still running in the namespace.
func (n *Net) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

// Run runs name inside the namespace with a timeout and returns its
// combined output.
func (n *Net) Run(ctx context.Context, timeout time.Duration, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var out bytes.Buffer
	cmd := n.Command(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("netns %s: %s %s: %w (ctx: %v)", n.Name, name, strings.Join(args, " "), err, ctx.Err())
	}
	return out.Bytes(), err
}

// Do runs f on a goroutine locked to an OS thread that has entered the
// namespace, so that sockets f opens (net.Dial, net.Listen, unix.Socket)
// belong to the namespace; they stay usable from any goroutine after f
// returns. Goroutines f starts do not inherit the namespace. The thread is
// returned to the root namespace afterwards, or discarded if that fails.
func (n *Net) Do(f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netns: open own namespace: %w", err)
			return
		}
		defer unix.Close(orig)
		target, err := unix.Open("/run/netns/"+n.Name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netns: open %s: %w", n.Name, err)
			return
		}
		err = unix.Setns(target, unix.CLONE_NEWNET)
		unix.Close(target)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netns: setns %s: %w", n.Name, err)
			return
		}
		ferr := f()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			// Stay locked: the thread exits with this goroutine.
			errc <- errors.Join(ferr, fmt.Errorf("netns: setns back: %w", err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// AddNeighbor adds a permanent ARP entry on the kernel side, so the kernel
// sends to addr without asking.
func (n *Net) AddNeighbor(ctx context.Context, addr netip.Addr, mac wire.MAC) error {
	_, err := ip(ctx, "-n", n.Name, "neigh", "replace", addr.String(), "lladdr", mac.String(), "dev", n.TAPName, "nud", "permanent")
	return err
}

// ip runs ip(8) with args and a timeout and returns its standard output.
func ip(ctx context.Context, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, cmdTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "ip", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("netns: ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

func isAlnum(s string) bool {
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
}

// The registry of live Nets, for CleanupOnSignal.
var registry struct {
	sync.Mutex
	nets map[*Net]struct{}
}

func register(n *Net) {
	registry.Lock()
	defer registry.Unlock()
	if registry.nets == nil {
		registry.nets = make(map[*Net]struct{})
	}
	registry.nets[n] = struct{}{}
}

func unregister(n *Net) {
	registry.Lock()
	defer registry.Unlock()
	delete(registry.nets, n)
}

var signalOnce sync.Once

// CleanupOnSignal makes SIGINT, SIGTERM and SIGHUP close every live Net of
// this process before the process dies of the signal (re-raised with the
// default action). Call it once from TestMain or main; it is idempotent.
// SIGKILL and crashes leave namespaces behind: CleanupStale removes them on
// the next run.
func CleanupOnSignal() {
	signalOnce.Do(func() {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
		go func() {
			sig := <-c
			registry.Lock()
			nets := make([]*Net, 0, len(registry.nets))
			for n := range registry.nets {
				nets = append(nets, n)
			}
			registry.Unlock()
			for _, n := range nets {
				n.Close()
			}
			signal.Reset(sig)
			syscall.Kill(os.Getpid(), sig.(syscall.Signal))
		}()
	})
}

// CleanupStale removes namespaces named <prefix>-<pid>-<n>, and TAP
// interfaces in the root namespace named <prefix[:4]><pid>t<n>, whose pid is
// no longer a running process: the leftovers of runs that were killed. It
// never touches names of live processes (this one included), other names,
// or non-TAP interfaces. It returns the names it removed.
func CleanupStale(ctx context.Context, prefix string) ([]string, error) {
	if !isAlnum(prefix) {
		return nil, fmt.Errorf("netns: prefix %q: letters and digits only", prefix)
	}
	var removed []string
	var errs []error
	out, err := ip(ctx, "netns", "list")
	if err != nil {
		return nil, err
	}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		name := f[0]
		rest, ok := strings.CutPrefix(name, prefix+"-")
		if !ok {
			continue
		}
		pidStr, nStr, ok := strings.Cut(rest, "-")
		if !ok || !isDigits(nStr) || !isStale(pidStr) {
			continue
		}
		if err := removeNetns(name); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, name)
	}
	tp := prefix[:min(4, len(prefix))]
	out, err = ip(ctx, "-o", "-d", "link", "show")
	if err != nil {
		return removed, errors.Join(append(errs, err)...)
	}
	for line := range strings.Lines(string(out)) {
		// "12: name: <...> ... \    tun type tap ..."
		f := strings.Fields(line)
		if len(f) < 2 || !strings.Contains(line, "tun type tap") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
		rest, ok := strings.CutPrefix(name, tp)
		if !ok {
			continue
		}
		pidStr, nStr, ok := strings.Cut(rest, "t")
		if !ok || !isDigits(nStr) || !isStale(pidStr) {
			continue
		}
		if _, err := ip(ctx, "link", "del", name); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, name)
	}
	return removed, errors.Join(errs...)
}

// isStale reports whether s is the decimal pid of a process that no longer
// exists.
func isStale(s string) bool {
	if !isDigits(s) {
		return false
	}
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 1 || pid == os.Getpid() {
		return false
	}
	return unix.Kill(pid, 0) == unix.ESRCH
}

func isDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
