package interop

import (
	"context"
	"crypto/sha256"
	"errors"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/lwgo/lwgo/netif"
	"github.com/lwgo/lwgo/platform/hosted"
	"github.com/lwgo/lwgo/platform/netns"
	"github.com/lwgo/lwgo/platform/tap"
	"github.com/lwgo/lwgo/rawapi"
)

func TestMain(m *testing.M) {
	netns.CleanupOnSignal()
	if netns.Available() == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		netns.CleanupStale(ctx, netns.DefaultPrefix)
		cancel()
	}
	os.Exit(m.Run())
}

// needTier skips the test unless it can run here (root, /dev/net/tun, ip
// and the named tools), or fails it when CI=true.
func needTier(tb testing.TB, tools ...string) {
	tb.Helper()
	err := netns.Available()
	for _, tool := range tools {
		if err != nil {
			break
		}
		if _, e := exec.LookPath(tool); e != nil {
			err = errors.New("interop: " + tool + " is not on PATH (make deps installs it)")
		}
	}
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("CI=true, but the interop tier cannot run: %v", err)
	}
	tb.Skip(err)
}

// rig is one test network: a namespace with the kernel on one side of a TAP
// and an lwgo stack on the other, run by hosted.Run on its own goroutine.
type rig struct {
	tb    testing.TB
	n     *netns.Net
	s     *rawapi.Stack
	nif   *rawapi.Netif
	inbox *hosted.Inbox
	// stack and kernel addresses
	addr, kaddr netip.Addr
}

type rigConfig struct {
	tap   tap.Config
	stack rawapi.Config
	// wrap, if set, puts devices (impairments) between the TAP and the
	// stack; they run on the stack's goroutine and may use its clock.
	wrap func(d netif.Device, clk *hosted.Clock) netif.Device
}

// newRig builds a rig; the test's cleanup stops the loop and removes the
// network.
func newRig(tb testing.TB, rc rigConfig, tools ...string) *rig {
	tb.Helper()
	needTier(tb, tools...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := netns.New(ctx, netns.Config{Subnet: 9, TAP: rc.tap})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := n.Close(); err != nil {
			tb.Errorf("removing the test network: %v", err)
		}
	})
	cfg := rc.stack
	if cfg.PoolBufs == 0 {
		cfg.PoolBufs = 2048
	}
	if cfg.Seed == 0 {
		cfg.Seed = 0x5eed
	}
	if cfg.TCP.ISNSecret == [16]byte{} {
		cfg.TCP.ISNSecret = [16]byte{'l', 'w', 'g', 'o'}
	}
	s := rawapi.New(cfg)
	clk := hosted.NewClock()
	var dev netif.Device = n.Dev
	if rc.wrap != nil {
		dev = rc.wrap(dev, clk)
	}
	nif, err := s.AddNetif(dev, rawapi.NetifConfig{Name: "tap0", Addr: n.StackAddr})
	if err != nil {
		tb.Fatal(err)
	}
	s.SetUp(nif)
	r := &rig{tb: tb, n: n, s: s, nif: nif, inbox: hosted.NewInbox(64), addr: n.StackAddr.Addr(), kaddr: n.KernelAddr.Addr()}
	w := hosted.NewWaker()
	if err := n.Dev.Notify(w); err != nil {
		tb.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- hosted.Run(runCtx, s, clk, hosted.WithWaker(w), hosted.WithInbox(r.inbox))
	}()
	tb.Cleanup(func() {
		stop()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			tb.Error("the stack's loop did not stop within 10 s")
		}
	})
	// Runs first: once the traffic is over, every packet buffer must come
	// back to the pool (connections that finished hold none).
	tb.Cleanup(func() { r.checkPool() })
	return r
}

// checkPool waits up to 3 s for the stack's packet pool to be full again
// and reports a leak otherwise.
func (r *rig) checkPool() {
	r.tb.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		var avail, total int
		r.do(func() { avail, total = r.s.Pool().Available(), r.s.Pool().Cap() })
		if avail == total {
			return
		}
		if time.Now().After(deadline) {
			st, ts, _ := r.stats()
			r.tb.Errorf("lwgo's packet pool: %d of %d buffers free 3 s after the test\n%s\nTCP %+v", avail, total, st.String(), ts)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// do runs f on the stack's goroutine and waits for it.
func (r *rig) do(f func()) {
	r.tb.Helper()
	ch := make(chan struct{})
	for !r.inbox.Post(func() { f(); close(ch) }) {
		time.Sleep(time.Millisecond)
	}
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		r.tb.Fatal("the stack's loop did not run a posted function within 10 s")
	}
}

// stats returns the stack's and the device's counters.
func (r *rig) stats() (rawapi.Stats, rawapi.TCPStats, tap.Stats) {
	var s rawapi.Stats
	var ts rawapi.TCPStats
	var d tap.Stats
	r.do(func() { s, ts, d = r.s.Stats(), r.s.TCPStats(), r.n.Dev.Stats() })
	return s, ts, d
}

// run runs a command inside the namespace, failing the test on error.
func (r *rig) run(timeout time.Duration, name string, args ...string) string {
	r.tb.Helper()
	out, err := r.n.Run(context.Background(), timeout, name, args...)
	if err != nil {
		r.tb.Fatalf("%v\n%s", err, out)
	}
	return string(out)
}

// body returns n bytes of deterministic pseudo-random data (never
// repeating, so reordering shows in a hash) and its SHA-256.
func body(n int) ([]byte, [32]byte) {
	bodies.Lock()
	defer bodies.Unlock()
	if b, ok := bodies.m[n]; ok {
		return b.data, b.sum
	}
	data := make([]byte, n)
	rand.NewChaCha8([32]byte{'l', 'w', 'g', 'o', byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)}).Read(data)
	e := bodyEntry{data, sha256.Sum256(data)}
	if bodies.m == nil {
		bodies.m = make(map[int]bodyEntry)
	}
	bodies.m[n] = e
	return e.data, e.sum
}

type bodyEntry struct {
	data []byte
	sum  [32]byte
}

var bodies struct {
	sync.Mutex
	m map[int]bodyEntry
}

// python returns Debian's python3 when present (pyenv's shim may not be
// usable inside the namespace's environment), else python3 from PATH.
func python() string {
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	return "python3"
}
