// Package appflags is the one flag convention of lwgo's programs, and the
// code that turns those flags into a running stack:
//
//	-tap NAME              attach to a new Linux TAP interface NAME (platform/tap)
//	-e1000 ADDR|auto       drive the Intel e1000 at PCI address ADDR (or the first one)
//	                       with lwgo's userspace driver (drivers/e1000; Linux, root)
//	-offload               open the TAP with virtio headers and every offload both ways:
//	                       checksums, and TCP segmentation (64 KiB super-segments in and out)
//	-host-ip CIDR          give the kernel's side of the TAP this address and bring it up
//	-ip CIDR               the stack's address and prefix, e.g. 10.0.0.2/24
//	-gw IP                 default gateway
//	-dns IP                DNS server, for programs that resolve names
//	-dhcp                  configure the address by DHCP instead of -ip/-gw (Open waits for the lease)
//	-pcap FILE             record every frame to FILE (netif/pcap)
//	-drop-chance P         drop each frame the stack sends with probability P (netif/fault)
//	-corrupt-chance P      flip one bit of each frame the stack sends with probability P
//	-fault-seed N          seed of the fault injector
//	-cpuprofile FILE       write a CPU profile of the program's run to FILE (runtime/pprof)
//
// A program registers the flags with Register, parses its FlagSet and calls
// Open, which builds the device chain (TAP, then pcap, then faults), the
// stack and its interface. Event-driven programs then call Run, which is
// platform/hosted.Run woken by the TAP; sequential programs use Seq, whose
// IdleFunc sleeps until the deadline or the TAP has frames.
//
// The faults impair the frames the stack sends only: the kernel's side of a
// TAP cannot be wrapped. That is enough to exercise the stack's
// retransmissions and the peer's duplicate handling.
package appflags

import (
	"bufio"
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"runtime/pprof"
	"time"

	"github.com/lwgo/lwgo/netif"
	"github.com/lwgo/lwgo/netif/fault"
	"github.com/lwgo/lwgo/netif/pcap"
	"github.com/lwgo/lwgo/platform/hosted"
	"github.com/lwgo/lwgo/rawapi"
)

// Flags holds the parsed flags. Register creates one; tests fill one in.
type Flags struct {
	TAP           string
	Offload       bool
	E1000         string
	HostIP        string
	IP            string
	GW            string
	DNS           string
	DHCP          bool
	PCAP          string
	DropChance    float64
	CorruptChance float64
	FaultSeed     uint64
	CPUProfile    string
}

// Register adds the flags to fs and returns where they will be stored.
func Register(fs *flag.FlagSet) *Flags {
	f := &Flags{}
	fs.StringVar(&f.TAP, "tap", "", "attach to a new TAP interface `NAME` (Linux, root)")
	fs.BoolVar(&f.Offload, "offload", false, "with -tap: virtio headers with checksum and TCP segmentation offload both ways")
	fs.StringVar(&f.E1000, "e1000", "", "drive the Intel e1000 at PCI address `ADDR` (or auto: the first) with lwgo's userspace driver (Linux, root)")
	fs.StringVar(&f.HostIP, "host-ip", "", "give the kernel's side of the TAP this address `CIDR` and bring it up")
	fs.StringVar(&f.IP, "ip", "", "the stack's address and prefix `CIDR`, e.g. 10.0.0.2/24")
	fs.StringVar(&f.GW, "gw", "", "default gateway `IP`")
	fs.StringVar(&f.DNS, "dns", "", "DNS server `IP`")
	fs.BoolVar(&f.DHCP, "dhcp", false, "configure the address by DHCP instead of -ip")
	fs.StringVar(&f.PCAP, "pcap", "", "record every frame to `FILE` (pcap)")
	fs.Float64Var(&f.DropChance, "drop-chance", 0, "drop each frame the stack sends with probability `P`")
	fs.Float64Var(&f.CorruptChance, "corrupt-chance", 0, "flip a bit of each frame the stack sends with probability `P`")
	fs.Uint64Var(&f.FaultSeed, "fault-seed", 1, "seed of the fault injector")
	fs.StringVar(&f.CPUProfile, "cpuprofile", "", "write a CPU profile to `FILE`")
	return f
}

// Addrs are the parsed addresses.
type Addrs struct {
	IP     netip.Prefix // invalid with -dhcp
	GW     netip.Addr   // invalid when absent
	DNS    netip.Addr   // invalid when absent
	HostIP netip.Prefix // invalid when absent
}

// Check validates the flags and parses the addresses.
func (f *Flags) Check() (Addrs, error) {
	var a Addrs
	var err error
	switch {
	case f.DHCP && (f.IP != "" || f.GW != ""):
		return a, errors.New("-dhcp excludes -ip and -gw")
	case !f.DHCP && f.IP == "":
		return a, errors.New("give -ip CIDR or -dhcp")
	case f.E1000 != "" && f.TAP != "":
		return a, errors.New("-e1000 excludes -tap")
	case f.Offload && f.TAP == "":
		return a, errors.New("-offload needs -tap")
	}
	if f.IP != "" {
		if a.IP, err = netip.ParsePrefix(f.IP); err != nil || !a.IP.Addr().Is4() {
			return a, fmt.Errorf("-ip %q: want an IPv4 address with a prefix length, like 10.0.0.2/24", f.IP)
		}
	}
	if f.GW != "" {
		if a.GW, err = netip.ParseAddr(f.GW); err != nil || !a.GW.Is4() {
			return a, fmt.Errorf("-gw %q: want an IPv4 address", f.GW)
		}
		if !a.IP.Contains(a.GW) {
			return a, fmt.Errorf("-gw %v is not on %v", a.GW, a.IP.Masked())
		}
	}
	if f.DNS != "" {
		if a.DNS, err = netip.ParseAddr(f.DNS); err != nil || !a.DNS.Is4() {
			return a, fmt.Errorf("-dns %q: want an IPv4 address", f.DNS)
		}
	}
	if f.HostIP != "" {
		if f.TAP == "" {
			return a, errors.New("-host-ip needs -tap")
		}
		if a.HostIP, err = netip.ParsePrefix(f.HostIP); err != nil || !a.HostIP.Addr().Is4() {
			return a, fmt.Errorf("-host-ip %q: want an IPv4 address with a prefix length", f.HostIP)
		}
		if a.IP.IsValid() && a.HostIP.Addr() == a.IP.Addr() {
			return a, errors.New("-host-ip and -ip must differ")
		}
	}
	for _, c := range []struct {
		name string
		p    float64
	}{{"-drop-chance", f.DropChance}, {"-corrupt-chance", f.CorruptChance}} {
		if !(c.p >= 0 && c.p <= 1) {
			return a, fmt.Errorf("%s %v: want a probability in [0, 1]", c.name, c.p)
		}
	}
	return a, nil
}

// Options are what a program adds to the flags.
type Options struct {
	// Config sizes the stack. Seed and TCP.ISNSecret, when zero, are drawn
	// from crypto/rand.
	Config rawapi.Config
	// Device, when set, replaces -tap (tests; in-process wiring).
	Device netif.Device
	// Context ends Idle waits and Run when done; nil means never.
	Context context.Context
	// DHCPTimeout bounds Open's wait for a lease with -dhcp. Default 30 s.
	DHCPTimeout time.Duration
	// Hostname is sent in DHCP requests (option 12). Default "lwgo".
	Hostname string
}

// Net is a running stack and what it runs on.
type Net struct {
	Stack *rawapi.Stack
	Netif *rawapi.Netif
	// Dev is the device the stack polls: the outermost wrapper.
	Dev netif.Device
	// Clock is the monotonic clock the stack runs on.
	Clock *hosted.Clock
	// Addrs are the configured addresses; with -dhcp, the lease's.
	Addrs Addrs
	// DHCP is the DHCP client with -dhcp; it renews the lease from Poll.
	DHCP *rawapi.DHCP

	// dns relays the DNS servers of each new or renewed lease to the
	// resolver attached with AttachDNS.
	dns dnsRelay

	ctx      context.Context
	notified bool // the device wakes us when frames arrive
	polled   bool // the device cannot wake us at all (-e1000): Run polls it
	waker    *hosted.Waker
	wake     chan struct{} // for Idle: a wake pending
	timer    *time.Timer
	pcapBuf  *bufio.Writer
	closers  []func() error
}

// fanWaker wakes both the hosted loop and Idle; the device's Notify takes one
// Waker.
type fanWaker struct{ n *Net }

func (w fanWaker) Wake() {
	w.n.waker.Wake()
	select {
	case w.n.wake <- struct{}{}:
	default:
	}
}

// unixClock stamps pcap records with wall-clock time.
type unixClock struct{}

func (unixClock) Now() rawapi.Time { return rawapi.Time(time.Now().UnixNano()) }

// Open builds the device chain, the stack and its interface, up. On error
// it undoes what it did.
func (f *Flags) Open(o Options) (n *Net, err error) {
	addrs, err := f.Check()
	if err != nil {
		return nil, err
	}
	n = &Net{Clock: hosted.NewClock(), Addrs: addrs, ctx: o.Context, waker: hosted.NewWaker(),
		wake: make(chan struct{}, 1), timer: time.NewTimer(time.Hour)}
	n.timer.Stop()
	if n.ctx == nil {
		n.ctx = context.Background()
	}
	defer func() {
		if err != nil {
			n.Close()
			n = nil
		}
	}()
	if f.CPUProfile != "" {
		fh, err := os.Create(f.CPUProfile)
		if err != nil {
			return n, err
		}
		if err := pprof.StartCPUProfile(fh); err != nil {
			fh.Close()
			return n, err
		}
		n.closers = append(n.closers, func() error { pprof.StopCPUProfile(); return fh.Close() })
	}
	dev := o.Device
	cfg := o.Config
	switch {
	case dev != nil:
	case f.E1000 != "":
		if dev, err = n.openE1000(f.E1000, &cfg); err != nil {
			return n, err
		}
	case f.TAP != "":
		if dev, err = n.openTAP(f.TAP, addrs.HostIP, f.Offload); err != nil {
			return n, err
		}
	default:
		return n, errors.New("no device: give -tap NAME or -e1000 ADDR")
	}
	if f.PCAP != "" {
		fh, err := os.Create(f.PCAP)
		if err != nil {
			return n, err
		}
		n.pcapBuf = bufio.NewWriterSize(fh, 1<<16)
		n.closers = append(n.closers, func() error {
			err := n.pcapBuf.Flush()
			if err2 := fh.Close(); err == nil {
				err = err2
			}
			return err
		})
		dev = pcap.New(dev, pcap.NewWriter(n.pcapBuf, unixClock{}, 0))
	}
	if f.DropChance > 0 || f.CorruptChance > 0 {
		dev = fault.New(dev, n.Clock, fault.Config{Seed: f.FaultSeed, DropRate: f.DropChance,
			CorruptRate: f.CorruptChance, CorruptOffset: 14})
	}
	n.Dev = dev
	if cfg.Seed == 0 {
		cfg.Seed = randUint64()
	}
	if cfg.TCP.ISNSecret == ([16]byte{}) {
		crand.Read(cfg.TCP.ISNSecret[:])
	}
	n.Stack = rawapi.New(cfg)
	n.Netif, err = n.Stack.AddNetif(dev, rawapi.NetifConfig{Name: "en0", Addr: addrs.IP, Gateway: addrs.GW})
	if err != nil {
		return n, fmt.Errorf("adding the interface: %w", err)
	}
	n.Stack.SetUp(n.Netif)
	if f.DHCP {
		if err := n.dhcp(o.DHCPTimeout, o.Hostname); err != nil {
			return n, err
		}
	}
	return n, nil
}

// dhcp runs a DHCP client until it has a lease (polling the stack here,
// before the program's loop starts) and takes the addresses from it. The
// client stays registered with the stack and renews the lease from Poll.
func (n *Net) dhcp(timeout time.Duration, hostname string) error {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	if hostname == "" {
		hostname = "lwgo"
	}
	c, err := rawapi.NewDHCP(n.Stack, n.Netif, rawapi.DHCPConfig{Hostname: hostname, DNS: &n.dns})
	if err != nil {
		return fmt.Errorf("-dhcp: %w", err)
	}
	n.DHCP = c
	n.closers = append(n.closers, func() error { c.Close(); return nil })
	if err := c.Start(); err != nil {
		return fmt.Errorf("-dhcp: %w", err)
	}
	end := n.Clock.Now().Add(rawapi.Duration(timeout))
	for {
		now := n.Clock.Now()
		next := n.Stack.Poll(now)
		if l, ok := c.Lease(); ok {
			n.Addrs.IP, n.Addrs.GW = l.Addr, l.Gateway
			if !n.Addrs.DNS.IsValid() && l.DNS[0].IsValid() {
				n.Addrs.DNS = l.DNS[0]
			}
			return nil
		}
		if now >= end || n.Done() {
			return ErrNoLease
		}
		n.Idle(min(next, end))
	}
}

// dnsRelay is the DHCP client's DNSSetter: it forwards the lease's DNS
// servers to whatever resolver the program attached, so a renewal that
// changes them reaches it.
type dnsRelay struct{ to rawapi.DNSSetter }

func (d *dnsRelay) SetServer(i int, addr netip.Addr) error {
	if d.to == nil {
		return nil
	}
	return d.to.SetServer(i, addr)
}

// AttachDNS makes r follow the DNS servers of the DHCP lease (with -dhcp):
// those of the current lease now, and those of every renewal later. Without
// -dhcp it does nothing.
func (n *Net) AttachDNS(r rawapi.DNSSetter) {
	n.dns.to = r
	if n.DHCP == nil {
		return
	}
	if l, ok := n.DHCP.Lease(); ok {
		for i, a := range l.DNS {
			if a.IsValid() {
				r.SetServer(i, a)
			}
		}
	}
}

// ErrNoLease: -dhcp found no server in time.
var ErrNoLease = errors.New("-dhcp: no lease")

func randUint64() uint64 {
	var b [8]byte
	crand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

// PollerFunc adapts a function to platform/hosted's Poller.
type PollerFunc func(now rawapi.Time) rawapi.Time

// Poll implements hosted.Poller.
func (f PollerFunc) Poll(now rawapi.Time) rawapi.Time { return f(now) }

// Run drives p (the Stack, or a function that polls the stack and the
// program's own timers) with platform/hosted.Run, woken by the device, until
// the Options' Context is done.
func (n *Net) Run(p hosted.Poller, opts ...hosted.Option) error {
	if n.polled {
		// A polled NIC (no interrupts): look at it at least every maxIdle.
		inner := p
		p = PollerFunc(func(now rawapi.Time) rawapi.Time {
			return min(inner.Poll(now), now.Add(rawapi.Duration(maxIdle)))
		})
	}
	return hosted.Run(n.ctx, p, n.Clock, append([]hosted.Option{hosted.WithWaker(n.waker)}, opts...)...)
}

// maxIdle bounds one Idle wait when the device cannot wake us (no Notify).
const maxIdle = time.Millisecond

// Idle is a rawapi.IdleFunc: it sleeps until until, until the device has
// frames, or until the Options' Context is done.
func (n *Net) Idle(until rawapi.Time) {
	d := time.Duration(until.Sub(n.Clock.Now()))
	if d <= 0 {
		return
	}
	if n.wakeless() {
		d = min(d, maxIdle)
	}
	var timeout <-chan time.Time
	if until != rawapi.Never || n.wakeless() {
		n.timer.Reset(d)
		timeout = n.timer.C
	}
	select {
	case <-timeout:
		return
	case <-n.wake:
	case <-n.ctx.Done():
	}
	if timeout != nil {
		n.timer.Stop()
	}
}

// wakeless reports whether Idle must poll because the device cannot wake it.
func (n *Net) wakeless() bool { return !n.notified }

// Seq returns a sequential API on the stack, waiting with Idle.
func (n *Net) Seq(cfg rawapi.SeqConfig) *rawapi.Seq {
	return rawapi.NewSeq(n.Stack, n.Clock, n.Idle, cfg)
}

// Done reports whether the Options' Context is done.
func (n *Net) Done() bool { return n.ctx.Err() != nil }

// Close flushes the capture and closes the device. Call it after the loop
// has stopped.
func (n *Net) Close() error {
	var err error
	for i := len(n.closers) - 1; i >= 0; i-- {
		if e := n.closers[i](); e != nil && err == nil {
			err = e
		}
	}
	n.closers = nil
	return err
}
