//go:build linux

// Command guest is the /init of the QEMU tier's test initramfs: a static Go
// binary that runs as PID 1 in a Debian kernel under QEMU, brings lwgo up on
// the emulated e1000 through platform/pci/sysfs, platform/dma/linux and
// drivers/e1000 (no kernel driver: e1000 is a module the initramfs does not
// carry), runs one test case and reports the verdict through QEMU's
// isa-debug-exit device (facts/qemu-e1000.md §3–§4).
//
// Kernel command-line words select the case:
//
//	lwgo.case=ping     ping lwgo.gw three times (slirp's gateway by default)
//	lwgo.case=tcp      connect to lwgo.peer, send lwgo.bytes of the guest
//	                   stream, receive lwgo.bytes of the host stream, check
//	                   both (SHA-256 printed for the host to compare)
//	lwgo.case=http     serve a small page on TCP port 80 until lwgo.requests
//	                   requests are answered (the appliance case's stand-in:
//	                   the host fetches it through a hostfwd port forward)
//	lwgo.requests=N    requests to answer in the http case (default 3)
//	lwgo.dhcp=1        take the address from DHCP (core/dhcp) first; ping
//	                   then targets the lease's router, or its server
//	lwgo.case=mmio     check the MMIO access rule on the real QEMU model: a
//	                   register write through mmio.Regs has no hidden read
//	                   (an ICR cause survives a plain write of 0), and report
//	                   whether atomic.StoreUint32 (XCHG) loses it
//	lwgo.case=linux-tcp the tcp case through the Linux kernel's e1000 driver
//	                   and TCP (/lib/modules/e1000.ko in the initramfs), for
//	                   the throughput comparison
//	lwgo.ip=A/N        address (default 10.0.2.15/24, slirp's DHCP lease)
//	lwgo.gw=A          gateway (default 10.0.2.2)
//	lwgo.peer=A:P      TCP peer (default 198.18.0.1:5001)
//	lwgo.bytes=N       bytes each way (default 64 MiB)
//	lwgo.huge=1        DMA memory from hugetlb pages (default 4 KiB pages)
//	lwgo.exitport=0xf4 isa-debug-exit port
//	lwgo.timeout=S     give up after S seconds (default 60)
//
// Every line it prints starts with "lwgo-guest <uptime>:" so the host can
// time milestones; the last is "LWGO RESULT: PASS" or "LWGO RESULT: FAIL".
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/drivers/e1000"
	"github.com/lwgo/lwgo/platform/dma/linux"
	"github.com/lwgo/lwgo/platform/hosted"
	"github.com/lwgo/lwgo/platform/pci/sysfs"
	"github.com/lwgo/lwgo/rawapi"
	"github.com/lwgo/lwgo/test/internal/stream"
)

func main() {
	mountAll()
	args := cmdline()
	logf("init started (%s)", runtime.Version())
	err := runSafe(args)
	pass := err == nil
	if err != nil {
		logf("error: %v", err)
	}
	verdict := "FAIL"
	if pass {
		verdict = "PASS"
	}
	logf("LWGO RESULT: %s", verdict)
	exit(args, pass)
}

func uptime() string {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

func logf(format string, a ...any) {
	fmt.Printf("lwgo-guest %s: %s\n", uptime(), fmt.Sprintf(format, a...))
}

func mountAll() {
	for _, m := range []struct{ src, dst, typ string }{
		{"proc", "/proc", "proc"},
		{"sysfs", "/sys", "sysfs"},
		{"devtmpfs", "/dev", "devtmpfs"},
	} {
		os.MkdirAll(m.dst, 0o755)
		if err := syscall.Mount(m.src, m.dst, m.typ, 0, ""); err != nil && !errors.Is(err, syscall.EBUSY) {
			fmt.Printf("lwgo-guest: mount %s: %v\n", m.dst, err)
		}
	}
}

func cmdline() map[string]string {
	args := map[string]string{}
	b, _ := os.ReadFile("/proc/cmdline")
	for _, w := range strings.Fields(string(b)) {
		if k, v, ok := strings.Cut(w, "="); ok && strings.HasPrefix(k, "lwgo.") {
			args[strings.TrimPrefix(k, "lwgo.")] = v
		}
	}
	return args
}

func arg(args map[string]string, k, def string) string {
	if v, ok := args[k]; ok {
		return v
	}
	return def
}

// exit reports the verdict through isa-debug-exit (byte 0: QEMU exits 1,
// PASS; byte 1: QEMU exits 3, FAIL) and powers off in case the port is absent.
func exit(args map[string]string, pass bool) {
	port, err := strconv.ParseInt(arg(args, "exitport", "0xf4"), 0, 32)
	if err == nil {
		// /dev/port is a character device: raw syscalls, not *os.File
		// (facts/qemu-e1000.md §8, gotcha 10).
		if fd, err := syscall.Open("/dev/port", syscall.O_WRONLY, 0); err == nil {
			b := []byte{1}
			if pass {
				b[0] = 0
			}
			syscall.Pwrite(fd, b, port)
			syscall.Close(fd)
		}
	}
	syscall.Sync()
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}

// runSafe runs the case and turns a panic into a FAIL verdict (PID 1 must
// not exit: the kernel would panic without a verdict).
func runSafe(args map[string]string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return run(args)
}

// guest is lwgo on the e1000.
type guest struct {
	clk     *hosted.Clock
	dev     *e1000.Device
	st      *rawapi.Stack
	nif     *rawapi.Netif
	firstTx bool
	firstRx bool
}

func run(args map[string]string) error {
	// Cases without lwgo's driver.
	switch arg(args, "case", "") {
	case "mmio":
		return mmioCase()
	case "linux-tcp":
		timeout, _ := strconv.Atoi(arg(args, "timeout", "60"))
		return linuxTCP(args, time.Now().Add(time.Duration(timeout)*time.Second))
	}
	timeout, _ := strconv.Atoi(arg(args, "timeout", "60"))
	g, err := bringUp(args)
	if err != nil {
		return err
	}
	defer g.report()
	deadline := time.Now().Add(time.Duration(timeout) * time.Second)
	target, _ := netip.ParseAddr(arg(args, "gw", "10.0.2.2")) // "none": invalid
	if arg(args, "dhcp", "0") == "1" {
		l, err := g.dhcp(deadline)
		if err != nil {
			return err
		}
		target = l.Server
		if l.Gateway.IsValid() {
			target = l.Gateway
		}
	}
	switch c := arg(args, "case", "ping"); c {
	case "ping":
		return g.ping(target, deadline)
	case "tcp":
		n, err := strconv.ParseInt(arg(args, "bytes", strconv.Itoa(64<<20)), 0, 64)
		if err != nil {
			return err
		}
		peer, err := netip.ParseAddrPort(arg(args, "peer", "198.18.0.1:5001"))
		if err != nil {
			return err
		}
		return g.tcp(peer, n, deadline)
	case "http":
		n, err := strconv.Atoi(arg(args, "requests", "3"))
		if err != nil {
			return err
		}
		return g.http(n, deadline)
	default:
		return fmt.Errorf("unknown case %q", c)
	}
}

// bringUp finds the NIC, maps it, allocates DMA memory and starts lwgo.
func bringUp(args map[string]string) (*guest, error) {
	found, err := sysfs.Find(e1000.Supported...)
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, errors.New("no supported e1000 on the PCI bus")
	}
	in := found[0]
	logf("found %04x:%04x at %s, kernel driver %q, BAR0 %#x (%d KiB)", in.ID.Vendor, in.ID.Device, in.Addr,
		in.Driver, in.BARs[0].Base, in.BARs[0].Size>>10)
	pdev, err := sysfs.Open(in.Addr)
	if err != nil {
		return nil, err
	}
	if pdev.Driver() != "" {
		logf("unbinding kernel driver %s", pdev.Driver())
		if err := pdev.Unbind(); err != nil {
			return nil, err
		}
	}
	regs, err := pdev.MapBAR(0)
	if err != nil {
		return nil, fmt.Errorf("map BAR0: %w", err)
	}
	huge := arg(args, "huge", "0") == "1"
	if huge {
		n, err := linux.ReserveHugePages(4)
		logf("hugetlb pages reserved: %d (%v)", n, err)
	}
	alloc, err := linux.New(linux.Options{Huge: huge})
	if err != nil {
		return nil, err
	}
	clk := hosted.NewClock()
	dev, err := e1000.New(e1000.Config{
		Regs: regs, PCI: pdev, DMA: alloc, Clock: clk,
		Sleep: func(d clock.Duration) { time.Sleep(time.Duration(d)) },
	})
	if err != nil {
		return nil, fmt.Errorf("e1000: %w", err)
	}
	mb, fd := dev.Speed()
	logf("e1000 up: MAC %v, link %v %d Mb/s full-duplex=%v, DMA hugetlb allocations %d", dev.HardwareAddr(),
		dev.LinkUp(), mb, fd, alloc.HugeAllocs())
	var addr netip.Prefix
	var gw netip.Addr
	if arg(args, "dhcp", "0") == "1" {
		args["gw"] = "none" // both come from the lease
	} else if addr, err = netip.ParsePrefix(arg(args, "ip", "10.0.2.15/24")); err != nil {
		return nil, err
	}
	if s := arg(args, "gw", "10.0.2.2"); s != "" && s != "none" {
		gw, err = netip.ParseAddr(s)
		if err != nil {
			return nil, err
		}
	}
	st := rawapi.New(rawapi.Config{Seed: uint64(time.Now().UnixNano())})
	nif, err := st.AddNetif(dev, rawapi.NetifConfig{Name: "en0", Addr: addr, Gateway: gw})
	if err != nil {
		return nil, err
	}
	st.SetUp(nif)
	switch {
	case !addr.IsValid():
		logf("lwgo up: no address yet (DHCP)")
	case gw.IsValid():
		logf("lwgo up: %v gw %v", addr, gw)
	default:
		logf("lwgo up: %v, no gateway", addr)
	}
	return &guest{clk: clk, dev: dev, st: st, nif: nif}, nil
}

// dhcp runs core/dhcp until it holds a lease. The ARP check of the offered
// address is skipped: QEMU's user network owns the whole subnet, and the
// check (two probes, a second each) is covered by core/dhcp's own tests.
func (g *guest) dhcp(deadline time.Time) (rawapi.DHCPLease, error) {
	c, err := rawapi.NewDHCP(g.st, g.nif, rawapi.DHCPConfig{Hostname: "lwgo-e1000", NoARPCheck: true})
	if err != nil {
		return rawapi.DHCPLease{}, err
	}
	start := time.Now()
	if err := c.Start(); err != nil {
		return rawapi.DHCPLease{}, err
	}
	var l rawapi.DHCPLease
	if !g.until(deadline, func() bool { var ok bool; l, ok = c.Lease(); return ok }) {
		return l, fmt.Errorf("no DHCP lease (state %v, stats %+v)", c.State(), c.Stats())
	}
	logf("dhcp: bound %v router %v server %v lease %ds in %v", l.Addr, l.Gateway, l.Server,
		l.Duration/rawapi.Second, time.Since(start).Round(time.Millisecond))
	return l, nil
}

// poll runs the stack once and logs the first frame each way.
func (g *guest) poll() {
	g.st.Poll(g.clk.Now())
	if !g.firstTx || !g.firstRx {
		s := g.dev.Stats()
		if !g.firstTx && s.TxFrames > 0 {
			g.firstTx = true
			logf("first lwgo frame sent")
		}
		if !g.firstRx && s.RxFrames > 0 {
			g.firstRx = true
			logf("first frame received")
		}
	}
}

// until polls until cond holds or the deadline passes.
func (g *guest) until(deadline time.Time, cond func() bool) bool {
	for i := 0; !cond(); i++ {
		if i%64 == 0 && time.Now().After(deadline) {
			return false
		}
		g.poll()
	}
	return true
}

func (g *guest) report() {
	g.dev.UpdateStats()
	s := g.dev.Stats()
	logf("driver: rx %d frames %d bytes, tx %d frames %d bytes (copied %d), rx-nobuf %d, bad-length %d, "+
		"bad-status %d, rx-errors %d, tx-full %d, tx-stalls %d", s.RxFrames, s.RxBytes, s.TxFrames, s.TxBytes,
		s.TxCopied, s.RxNoBuf, s.RxBadLength, s.RxBadStatus, s.RxErrors, s.TxFull, s.TxStalls)
	logf("hardware: GPRC %d GPTC %d TPR %d TPT %d GORC %d GOTC %d MPC %d RNBC %d CRCERRS %d", s.HW.GoodRx,
		s.HW.GoodTx, s.HW.TotalRx, s.HW.TotalTx, s.HW.GoodRxOctets, s.HW.GoodTxOctets, s.HW.Missed,
		s.HW.NoBuffers, s.HW.CRCErrors)
}

func (g *guest) ping(dst netip.Addr, deadline time.Time) error {
	got := map[uint16]time.Duration{}
	sent := map[uint16]time.Time{}
	p, err := g.st.NewPing(func(_ rawapi.Ping, from netip.Addr, seq uint16, ttl uint8, data []byte) {
		if from == dst {
			got[seq] = time.Since(sent[seq])
		}
	})
	if err != nil {
		return err
	}
	defer p.Close()
	payload := []byte("lwgo e1000 ping payload 0123456789abcdef")
	for seq := uint16(1); seq <= 3; seq++ {
		sent[seq] = time.Now()
		if err := p.Send(dst, seq, payload); err != nil {
			return fmt.Errorf("ping send %d: %w", seq, err)
		}
		// The first reply waits for ARP and QEMU's 1 s receive hold-off.
		if !g.until(deadline, func() bool { _, ok := got[seq]; return ok }) {
			return fmt.Errorf("no echo reply %d from %v", seq, dst)
		}
		logf("echo reply from %v seq=%d time=%v", dst, seq, got[seq].Round(time.Microsecond))
	}
	return nil
}

// tcpPeer is the guest's end of the TCP case.
type tcpPeer struct {
	g                   *guest
	n                   int64
	tx, rx              *stream.Gen
	txHash, rxHash      hash.Hash
	written, acked      int64
	rcvd, bad           int64
	eof, finSent, done  bool
	err                 error
	scratch, want       []byte
	connectedAt, doneAt time.Time
}

func (g *guest) tcp(peer netip.AddrPort, n int64, deadline time.Time) error {
	p := &tcpPeer{g: g, n: n, tx: stream.New(stream.GuestToHost), rx: stream.New(stream.HostToGuest),
		txHash: sha256.New(), rxHash: sha256.New(), bad: -1,
		scratch: make([]byte, 64<<10), want: make([]byte, 64<<10)}
	c, err := g.st.NewTCP()
	if err != nil {
		return err
	}
	if err := c.SetHandler(p); err != nil {
		return err
	}
	start := time.Now()
	if err := c.Connect(peer); err != nil {
		return err
	}
	if !g.until(deadline, func() bool { return p.done || p.err != nil }) {
		return fmt.Errorf("timeout: sent %d (acked %d) received %d of %d, eof=%v; %+v", p.written, p.acked, p.rcvd,
			n, p.eof, c.Info())
	}
	if p.err != nil {
		return p.err
	}
	el := p.doneAt.Sub(p.connectedAt)
	logf("tcp: %d bytes each way with %v in %v (%.1f MB/s both directions, connect %v)", n, peer,
		el.Round(time.Millisecond), float64(2*n)/el.Seconds()/1e6, p.connectedAt.Sub(start).Round(time.Millisecond))
	logf("tcp: sent sha256 %s", hex.EncodeToString(p.txHash.Sum(nil)))
	logf("tcp: received sha256 %s", hex.EncodeToString(p.rxHash.Sum(nil)))
	if p.bad >= 0 {
		return fmt.Errorf("received stream differs at byte %d", p.bad)
	}
	if p.rcvd != n {
		return fmt.Errorf("received %d bytes, want %d", p.rcvd, n)
	}
	ts := g.st.TCPStats()
	logf("tcp stats: %+v", ts)
	return nil
}

func (p *tcpPeer) pump(c rawapi.TCP) {
	for p.written < p.n {
		k := int(min(int64(c.SendBuffer()), int64(len(p.scratch)), p.n-p.written))
		if k <= 0 {
			break
		}
		buf := p.scratch[:k]
		p.tx.Fill(buf)
		if err := c.Write(buf, 0); err != nil {
			p.err = fmt.Errorf("write: %w", err)
			return
		}
		p.txHash.Write(buf)
		p.written += int64(k)
	}
	if p.written == p.n && !p.finSent {
		c.CloseWrite()
		p.finSent = true
	}
	c.Output()
	p.maybeDone(c)
}

func (p *tcpPeer) maybeDone(c rawapi.TCP) {
	if !p.done && p.eof && p.finSent && p.acked >= p.n {
		p.done = true
		p.doneAt = time.Now()
		c.Close()
	}
}

// Connected implements rawapi.TCPHandler.
func (p *tcpPeer) Connected(c rawapi.TCP, err error) error {
	p.connectedAt = time.Now()
	logf("tcp: connected %v -> %v", c.LocalAddr(), c.RemoteAddr())
	p.pump(c)
	return nil
}

// Recv implements rawapi.TCPHandler.
func (p *tcpPeer) Recv(c rawapi.TCP, b *rawapi.Buf, err error) error {
	if b == nil {
		p.eof = true
		p.maybeDone(c)
		return nil
	}
	data := b.Bytes()
	p.rxHash.Write(data)
	if p.bad < 0 {
		want := p.want[:len(data)]
		p.rx.Fill(want)
		for i := range data {
			if data[i] != want[i] {
				p.bad = p.rcvd + int64(i)
				break
			}
		}
	}
	p.rcvd += int64(len(data))
	c.Recved(len(data))
	b.Free()
	return nil
}

// Sent implements rawapi.TCPHandler.
func (p *tcpPeer) Sent(c rawapi.TCP, n int) error {
	p.acked += int64(n)
	p.pump(c)
	return nil
}

// Poll implements rawapi.TCPHandler.
func (p *tcpPeer) Poll(c rawapi.TCP) error { return nil }

// Err implements rawapi.TCPHandler.
func (p *tcpPeer) Err(c rawapi.TCP, err error) {
	if !p.done {
		p.err = fmt.Errorf("connection error: %w", err)
	}
}

// page is what the http case serves.
const page = "<!doctype html><title>lwgo</title><h1>lwgo on e1000</h1><p>served by lwgo's raw TCP API " +
	"through drivers/e1000 in a QEMU guest.</p>\n"

// httpConn is one connection of the http case: it reads up to the end of
// the request header, answers, and closes.
type httpConn struct {
	h        *httpServer
	req      []byte
	answered bool
}

type httpServer struct {
	served int
	err    error
}

func (g *guest) http(want int, deadline time.Time) error {
	srv := &httpServer{}
	lc, err := g.st.NewTCP()
	if err != nil {
		return err
	}
	if err := lc.Bind(netip.Addr{}, 80); err != nil {
		return err
	}
	ln, err := lc.Listen(8)
	if err != nil {
		return err
	}
	ln.SetAcceptor(rawapi.AcceptFunc(func(l rawapi.TCPListener, c rawapi.TCP, err error) error {
		if err != nil {
			return err
		}
		return c.SetHandler(&httpConn{h: srv})
	}))
	logf("http: listening on port 80")
	if !g.until(deadline, func() bool { return srv.served >= want || srv.err != nil }) {
		return fmt.Errorf("timeout: %d of %d requests answered", srv.served, want)
	}
	// Let the last response and FIN go out.
	end := time.Now().Add(200 * time.Millisecond)
	g.until(end, func() bool { return false })
	return srv.err
}

// Connected implements rawapi.TCPHandler.
func (c *httpConn) Connected(rawapi.TCP, error) error { return nil }

// Recv implements rawapi.TCPHandler.
func (c *httpConn) Recv(tc rawapi.TCP, b *rawapi.Buf, err error) error {
	if b == nil {
		tc.Close()
		return nil
	}
	if len(c.req) < 8192 {
		c.req = append(c.req, b.Bytes()...)
	}
	tc.Recved(b.Len())
	b.Free()
	if !c.answered && strings.Contains(string(c.req), "\r\n\r\n") {
		c.answered = true
		line, _, _ := strings.Cut(string(c.req), "\r\n")
		resp := "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " + strconv.Itoa(len(page)) +
			"\r\nConnection: close\r\n\r\n" + page
		if err := tc.Write([]byte(resp), rawapi.WriteCopy); err != nil {
			c.h.err = fmt.Errorf("http write: %w", err)
			return nil
		}
		tc.Close()
		c.h.served++
		logf("http: answered %q (%d)", line, c.h.served)
	}
	return nil
}

// Sent implements rawapi.TCPHandler.
func (c *httpConn) Sent(rawapi.TCP, int) error { return nil }

// Poll implements rawapi.TCPHandler.
func (c *httpConn) Poll(rawapi.TCP) error { return nil }

// Err implements rawapi.TCPHandler.
func (c *httpConn) Err(rawapi.TCP, error) {}

// mmioCase verifies facts/qemu-e1000.md §9 items 1–2 on QEMU's e1000: ICR
// (0xC0) is read-to-clear and write-1-to-clear; ICS (0xC8) sets causes and
// reads them back without clearing. A plain 32-bit store of 0 to ICR must
// leave a pending cause alone; atomic.StoreUint32 is XCHG, a locked
// read-modify-write, and is reported for the record.
func mmioCase() error {
	const (
		regICR   = 0x00C0
		regICS   = 0x00C8
		regIMC   = 0x00D8
		causeLSC = 0x4
	)
	found, err := sysfs.Find(e1000.Supported...)
	if err != nil || len(found) == 0 {
		return fmt.Errorf("no e1000: %v", err)
	}
	pdev, err := sysfs.Open(found[0].Addr)
	if err != nil {
		return err
	}
	regs, err := pdev.MapBAR(0)
	if err != nil {
		return err
	}
	raw, err := mapRaw(sysfs.Root+"/"+found[0].Addr+"/resource0", int(found[0].BARs[0].Size))
	if err != nil {
		return err
	}
	defer raw.close()
	regs.Write32(regIMC, 0xFFFFFFFF)
	regs.Read32(regICR) // start clean
	regs.Write32(regICS, causeLSC)
	before := regs.Read32(regICS)
	regs.Write32(regICR, 0) // plain store: write-1-to-clear with no bits
	afterPlain := regs.Read32(regICS)
	raw.xchg(regICR, 0) // XCHG
	afterXchg := regs.Read32(regICS)
	logf("mmio: ICS after setting LSC %#x, after plain write of 0 to ICR %#x, after XCHG of 0 to ICR %#x",
		before, afterPlain, afterXchg)
	if before&causeLSC == 0 {
		return fmt.Errorf("ICS did not show the cause it set (%#x)", before)
	}
	if afterPlain&causeLSC == 0 {
		return fmt.Errorf("a plain 32-bit write of 0 to ICR cleared a pending cause: hidden read")
	}
	logf("mmio: plain write kept the cause (no hidden read)")
	logf("mmio: XCHG on ICR lost the pending cause: %v", afterXchg&causeLSC == 0)
	// Clear-on-read statistics: GPTC is 0 with no traffic; check ICR itself.
	if v := regs.Read32(regICR); v&causeLSC == 0 && afterXchg&causeLSC != 0 {
		return fmt.Errorf("ICR read did not return the pending cause (%#x)", v)
	}
	if v := regs.Read32(regICS); v != 0 {
		return fmt.Errorf("ICR read did not clear the causes: ICS %#x", v)
	}
	logf("mmio: ICR read returned and cleared the cause")
	return nil
}
