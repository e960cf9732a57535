//go:build linux

package tap_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/platform/netns"
	"github.com/lwgo/lwgo/platform/tap"
)

// These tests put a real TAP in a network namespace and let the Linux kernel
// be the peer. They need root and /dev/net/tun; under CI=true they fail
// instead of skipping when those are missing.

func TestMain(m *testing.M) {
	netns.CleanupOnSignal()
	if netns.Available() == nil {
		netns.CleanupStale(context.Background(), netns.DefaultPrefix)
	}
	os.Exit(m.Run())
}

// needRoot skips (or, in CI, fails) when namespaces and TAPs are out of reach.
func needRoot(t *testing.T) {
	t.Helper()
	if err := netns.Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true, but the TAP tier cannot run here: %v", err)
		}
		t.Skip(err)
	}
}

// newNet makes a test network with the given TAP configuration; the kernel
// knows the stack's MAC (a permanent neighbour entry), so it sends without ARP.
func newNet(t *testing.T, cfg tap.Config) *netns.Net {
	t.Helper()
	needRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := netns.New(ctx, netns.Config{Subnet: 7, TAP: cfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := n.AddNeighbor(ctx, n.StackAddr.Addr(), n.Dev.HardwareAddr()); err != nil {
		t.Fatal(err)
	}
	return n
}

// kernelMAC reads the kernel side's MAC of the TAP.
func kernelMAC(t *testing.T, n *netns.Net) wire.MAC {
	t.Helper()
	var mac wire.MAC
	err := n.Do(func() error {
		ifi, err := net.InterfaceByName(n.TAPName)
		if err != nil {
			return err
		}
		copy(mac[:], ifi.HardwareAddr)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return mac
}

// echoRequest writes an Ethernet + IPv4 + ICMP echo request from the stack
// to the kernel into b (a Buf with link headroom).
func echoRequest(b *pbuf.Buf, n *netns.Net, dmac wire.MAC, seq uint16, payload []byte) {
	f := b.Bytes()
	eh := wire.EthernetHeader{Dst: dmac, Src: n.Dev.HardwareAddr(), Type: wire.EtherTypeIPv4}
	eh.Encode(wire.Ethernet(f))
	ih := wire.IPv4Header{TotalLen: 20 + 8 + len(payload), ID: seq, TTL: 64, Protocol: wire.ProtoICMP,
		Src: n.StackAddr.Addr().As4(), Dst: n.KernelAddr.Addr().As4()}
	ih.Encode(wire.IPv4(f[14:]))
	m := wire.ICMPv4(f[34:])
	hh := wire.ICMPv4Header{Type: wire.ICMPv4Echo, Rest: 0x4242<<16 | uint32(seq)}
	hh.Encode(m)
	copy(m[8:], payload)
	m.UpdateChecksum()
}

// receiveOne polls d until it hands over a frame, or fails after a second.
func receiveOne(t testing.TB, d *tap.Device, pool *pbuf.Pool, dst []*pbuf.Buf) *pbuf.Buf {
	deadline := time.Now().Add(time.Second)
	for {
		if n := d.Receive(pool, dst[:1]); n == 1 {
			b := dst[0]
			dst[0] = nil
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("no frame from the kernel within 1s (stats %+v)", d.Stats())
		}
		runtime.Gosched()
	}
}

// isEchoReply reports whether f is the kernel's reply to request seq.
func isEchoReply(f []byte, seq uint16, payload []byte) bool {
	e, err := wire.ParseEthernet(f)
	if err != nil || e.Type() != wire.EtherTypeIPv4 {
		return false
	}
	ip, err := wire.ParseIPv4(e.Payload())
	if err != nil || ip.Protocol() != wire.ProtoICMP || !ip.IsChecksumValid() {
		return false
	}
	m, err := wire.ParseICMPv4(ip.Payload())
	return err == nil && m.Type() == wire.ICMPv4EchoReply && m.Seq() == seq && m.IsChecksumValid() &&
		bytes.Equal(m.Payload(), payload)
}

// TestKernelEcho pings the kernel by hand-built frames in every header
// mode, through both transmit paths (headroom and writev), and checks that a
// ping round trip allocates nothing.
func TestKernelEcho(t *testing.T) {
	for _, cfg := range []tap.Config{{}, {VnetHdr: true}, {VnetHdr: true, Offload: tap.OffloadCsum | tap.OffloadTSO4}} {
		name := "plain"
		if cfg.VnetHdr {
			name = "vnet"
			if cfg.Offload != 0 {
				name = "vnet-offload"
			}
		}
		t.Run(name, func(t *testing.T) {
			n := newNet(t, cfg)
			d := n.Dev
			dmac := kernelMAC(t, n)
			pool := pbuf.NewPool(64, 2048)
			dst := make([]*pbuf.Buf, 1)
			tx := make([]*pbuf.Buf, 1)
			payload := bytes.Repeat([]byte("lwgo"), 100)
			var seq uint16
			ping := func(headroom pbuf.Layer) {
				seq++
				b, err := pool.Alloc(headroom, 14+20+8+len(payload))
				if err != nil {
					t.Fatal(err)
				}
				echoRequest(b, n, dmac, seq, payload)
				tx[0] = b
				if k := d.Transmit(tx); k != 1 {
					t.Fatalf("Transmit = %d", k)
				}
				for {
					r := receiveOne(t, d, pool, dst)
					ok := isEchoReply(r.Bytes(), seq, payload)
					r.Free()
					if ok {
						return
					}
				}
			}
			ping(pbuf.LayerLink)
			ping(pbuf.LayerRaw)
			allocs := testing.AllocsPerRun(200, func() {
				ping(pbuf.LayerLink)
				ping(pbuf.LayerRaw)
			})
			if allocs != 0 {
				t.Errorf("a ping round trip allocates %v", allocs)
			}
			st := d.Stats()
			if st.TxErrors != 0 || st.RxErrors != 0 || st.RxBad != 0 || st.TxFrames < 400 {
				t.Errorf("stats %+v", st)
			}
			if pool.Available() != pool.Cap() {
				t.Errorf("pool leaked: %d of %d free", pool.Available(), pool.Cap())
			}
		})
	}
}

// kernelUDP opens a UDP socket in the namespace, on the kernel's address.
func kernelUDP(t *testing.T, n *netns.Net) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	err := n.Do(func() error {
		var err error
		c, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(n.KernelAddr.Addr(), 0)))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestChecksumOffload: with TUN_F_CSUM the kernel sends UDP checksum-partial;
// Receive completes the checksum.
func TestChecksumOffload(t *testing.T) {
	n := newNet(t, tap.Config{VnetHdr: true, Offload: tap.OffloadCsum})
	c := kernelUDP(t, n)
	to := netip.AddrPortFrom(n.StackAddr.Addr(), 9)
	pool := pbuf.NewPool(16, 2048)
	dst := make([]*pbuf.Buf, 1)
	for _, size := range []int{1, 100, 1001, 1472} {
		payload := bytes.Repeat([]byte{byte(size)}, size)
		if _, err := c.WriteToUDPAddrPort(payload, to); err != nil {
			t.Fatal(err)
		}
		for {
			b := receiveOne(t, n.Dev, pool, dst)
			e, _ := wire.ParseEthernet(b.Bytes())
			ip, err := wire.ParseIPv4(e.Payload())
			if err != nil || ip.Protocol() != wire.ProtoUDP {
				b.Free()
				continue
			}
			u, err := wire.ParseUDP(ip.Payload())
			if err != nil || !bytes.Equal(u.Payload(), payload) {
				t.Fatalf("size %d: bad datagram: %v", size, err)
			}
			if !u.IsChecksumValid(ip.Src(), ip.Dst()) {
				t.Errorf("size %d: UDP checksum not completed", size)
			}
			if b.Flags&pbuf.RxL4ChecksumOK == 0 {
				t.Errorf("size %d: not marked RxL4ChecksumOK", size)
			}
			b.Free()
			break
		}
	}
	if st := n.Dev.Stats(); st.RxCsumCompleted == 0 {
		t.Errorf("the kernel sent no checksum-partial frame (stats %+v)", st)
	}
}

// TestKernelTSO: with TUN_F_TSO4 the kernel's TCP sends 64 KiB super-frames;
// Receive cuts them into valid segments that carry the byte stream in
// order. The test plays a TCP peer by hand: it answers the kernel's SYN and
// then reads the first flight without acknowledging it.
func TestKernelTSO(t *testing.T) {
	n := newNet(t, tap.Config{VnetHdr: true, Offload: tap.OffloadCsum | tap.OffloadTSO4})
	d := n.Dev
	dmac := kernelMAC(t, n)
	pool := pbuf.NewPool(256, 2048)
	dst := make([]*pbuf.Buf, 64)

	const port = 5001
	var conn net.Conn
	dialed := make(chan error, 1)
	go func() {
		dialed <- n.Do(func() error {
			var err error
			conn, err = net.DialTimeout("tcp4", netip.AddrPortFrom(n.StackAddr.Addr(), port).String(), 5*time.Second)
			return err
		})
	}()
	// The SYN.
	var syn wire.TCP
	var synIP wire.IPv4
	for syn == nil {
		b := receiveOne(t, d, pool, dst)
		f := bytes.Clone(b.Bytes())
		b.Free()
		e, _ := wire.ParseEthernet(f)
		ip, err := wire.ParseIPv4(e.Payload())
		if err != nil || ip.Protocol() != wire.ProtoTCP {
			continue
		}
		if tcp, err := wire.ParseTCP(ip.Payload()); err == nil && tcp.Flags()&wire.FlagSYN != 0 {
			syn, synIP = tcp, ip
		}
	}
	// SYN-ACK: MSS 1460, window 65535 << 7.
	const iss = 1000
	b, _ := pool.Alloc(pbuf.LayerLink, 0)
	th := wire.TCPHeader{SrcPort: port, DstPort: syn.SrcPort(), Seq: iss, Ack: syn.Seq() + 1,
		Flags: wire.FlagSYN | wire.FlagACK, Window: 65535,
		Options: wire.TCPOptions{MSS: 1460, HasWScale: true, WScale: 7}}
	f := b.Append(14 + 20 + th.Len())
	eh := wire.EthernetHeader{Dst: dmac, Src: d.HardwareAddr(), Type: wire.EtherTypeIPv4}
	eh.Encode(wire.Ethernet(f))
	ih := wire.IPv4Header{TotalLen: 20 + th.Len(), TTL: 64, Protocol: wire.ProtoTCP, Flags: wire.IPv4DontFragment,
		Src: synIP.Dst(), Dst: synIP.Src()}
	ih.Encode(wire.IPv4(f[14:]))
	seg := wire.TCP(f[34:])
	th.Encode(seg)
	seg.SetChecksum(wire.Fold(wire.Checksum(seg, wire.PseudoHeaderSum(ih.Src, ih.Dst, wire.ProtoTCP, len(seg)))))
	if k := d.Transmit([]*pbuf.Buf{b}); k != 1 {
		t.Fatal("Transmit SYN-ACK")
	}
	if err := <-dialed; err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The kernel now sends its initial window's worth (10 segments) and
	// retransmits; segments must come whole and in order.
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i * 13 >> 3)
	}
	go conn.Write(data)
	next := uint32(syn.Seq() + 1)
	var got []byte
	deadline := time.Now().Add(5 * time.Second)
	for d.Stats().RxGSO == 0 || len(got) < 5*1460 {
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s: %d bytes in order, stats %+v", len(got), d.Stats())
		}
		k := d.Receive(pool, dst)
		for _, b := range dst[:k] {
			e, _ := wire.ParseEthernet(b.Bytes())
			ip, err := wire.ParseIPv4(e.Payload())
			if err != nil || ip.Protocol() != wire.ProtoTCP {
				b.Free()
				continue
			}
			if !ip.IsChecksumValid() {
				t.Fatal("bad IPv4 checksum")
			}
			tcp, err := wire.ParseTCP(ip.Payload())
			if err != nil || !tcp.IsChecksumValid(ip.Src(), ip.Dst()) {
				t.Fatalf("bad TCP segment: %v", err)
			}
			if len(tcp.Payload()) > 1460 {
				t.Fatalf("segment of %d bytes > MSS", len(tcp.Payload()))
			}
			if uint32(tcp.Seq()) == next && len(tcp.Payload()) > 0 {
				got = append(got, tcp.Payload()...)
				next += uint32(len(tcp.Payload()))
			}
			b.Free()
		}
		clear(dst)
		if k == 0 {
			runtime.Gosched()
		}
	}
	if !bytes.Equal(got, data[:len(got)]) {
		t.Fatal("segmented stream differs from what the kernel sent")
	}
	st := d.Stats()
	t.Logf("%d bytes in order; %d super-frames cut into %d segments", len(got), st.RxGSO, st.RxGSOSegs)
	if pool.Available() != pool.Cap() {
		t.Errorf("pool leaked")
	}
}

// TestOversizedFrame: a kernel-side MTU above ours makes the kernel send
// frames larger than a buffer; they are dropped and counted, and the next
// frame still arrives.
func TestOversizedFrame(t *testing.T) {
	for _, cfg := range []tap.Config{{}, {VnetHdr: true}, {VnetHdr: true, Offload: tap.OffloadCsum | tap.OffloadTSO4}} {
		n := newNet(t, cfg)
		ctx := context.Background()
		if out, err := n.Run(ctx, 5*time.Second, "ip", "link", "set", n.TAPName, "mtu", "9000"); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		c := kernelUDP(t, n)
		to := netip.AddrPortFrom(n.StackAddr.Addr(), 9)
		if _, err := c.WriteToUDPAddrPort(make([]byte, 4000), to); err != nil {
			t.Fatal(err)
		}
		small := []byte("after the big one")
		if _, err := c.WriteToUDPAddrPort(small, to); err != nil {
			t.Fatal(err)
		}
		pool := pbuf.NewPool(16, 2048)
		dst := make([]*pbuf.Buf, 1)
		b := receiveOne(t, n.Dev, pool, dst)
		if !bytes.HasSuffix(b.Bytes(), small) {
			t.Errorf("%+v: first frame handed over is %d bytes, not the small datagram", cfg, b.Len())
		}
		b.Free()
		st := n.Dev.Stats()
		if st.RxOversize != 1 || st.RxErrors+st.RxBad != 0 {
			t.Errorf("%+v: stats %+v: want the big frame counted once", cfg, st)
		}
	}
}

// chanWaker counts wakes on a channel.
type chanWaker chan struct{}

func (w chanWaker) Wake() {
	select {
	case w <- struct{}{}:
	default:
	}
}

// TestNotifyKernel: the notifier wakes on frames from the kernel.
func TestNotifyKernel(t *testing.T) {
	n := newNet(t, tap.Config{})
	w := make(chanWaker, 1)
	if err := n.Dev.Notify(w); err != nil {
		t.Fatal(err)
	}
	c := kernelUDP(t, n)
	pool := pbuf.NewPool(16, 2048)
	dst := make([]*pbuf.Buf, 8)
	for i := range 5 {
		if _, err := c.WriteToUDPAddrPort([]byte("wake up"), netip.AddrPortFrom(n.StackAddr.Addr(), 9)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-w:
		case <-time.After(2 * time.Second):
			t.Fatalf("round %d: no wake", i)
		}
		k := n.Dev.Receive(pool, dst)
		for _, b := range dst[:k] {
			b.Free()
		}
		if k == 0 {
			t.Fatalf("round %d: woken, but nothing to receive", i)
		}
	}
}

// TestOpenErrors opens TAPs inside the namespace (Do), so that nothing
// appears in the root namespace even for a moment.
func TestOpenErrors(t *testing.T) {
	n := newNet(t, tap.Config{})
	name := n.TAPName + "x"
	var d *tap.Device
	err := n.Do(func() error {
		var err error
		if d, err = tap.Open(tap.Config{Name: name}); err != nil {
			return err
		}
		if _, err := tap.Open(tap.Config{Name: name}); !errors.Is(err, unix.EBUSY) {
			t.Errorf("second Open of %s: %v, want EBUSY (IFF_TUN_EXCL)", name, err)
		}
		if _, err := tap.Open(tap.Config{Name: n.TAPName}); !errors.Is(err, unix.EBUSY) {
			t.Errorf("Open of the netns's TAP %s: %v, want EBUSY", n.TAPName, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := tap.Open(tap.Config{Name: "bad/name"}); !errors.Is(err, tap.ErrName) {
		t.Errorf("bad name: %v", err)
	}
	if _, err := tap.Open(tap.Config{Name: "x", Offload: tap.OffloadCsum}); !errors.Is(err, tap.ErrConfig) {
		t.Errorf("Offload without VnetHdr: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	// The closed TAP is gone.
	out, err := n.Run(context.Background(), 5*time.Second, "ip", "-o", "link", "show")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte(name+":")) {
		t.Errorf("%s still exists after Close:\n%s", name, out)
	}
}
