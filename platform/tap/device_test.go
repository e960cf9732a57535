//go:build linux

package tap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

// These tests run the Device over a SOCK_SEQPACKET socket pair, which, like
// a TAP, carries one frame per read and write: the test plays the kernel on
// the other end. They need no privileges.

// pair returns a Device on one end of a socket pair and the other end's
// descriptor; both are closed at cleanup.
func pair(t testing.TB, cfg Config) (*Device, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Name == "" {
		cfg.Name = "test0"
	}
	if err := cfg.check(); err != nil {
		t.Fatal(err)
	}
	d := newDevice(fds[0], cfg)
	t.Cleanup(func() {
		d.Close()
		unix.Close(fds[1])
	})
	return d, fds[1]
}

func send(t testing.TB, fd int, p []byte) {
	t.Helper()
	if _, err := unix.Write(fd, p); err != nil {
		t.Fatalf("peer write %d bytes: %v", len(p), err)
	}
}

// recvFrame reads one message from the peer end, waiting up to a second.
func recvFrame(t testing.TB, fd int) []byte {
	t.Helper()
	buf := make([]byte, 1<<17)
	deadline := time.Now().Add(time.Second)
	for {
		n, err := unix.Read(fd, buf)
		if err == nil {
			return buf[:n]
		}
		if err != unix.EAGAIN || time.Now().After(deadline) {
			t.Fatalf("peer read: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
}

// ethIPv4 builds an Ethernet + IPv4 frame around an L4 payload whose
// checksum field (at csumOff inside l4, -1: none) is filled in.
func ethIPv4(proto wire.IPProto, l4 []byte, csumOff int, id uint16) []byte {
	src, dst := wire.IPv4Addr{198, 18, 0, 1}, wire.IPv4Addr{198, 18, 0, 2}
	f := make([]byte, 14+20+len(l4))
	eh := wire.EthernetHeader{Dst: wire.MAC{2, 0, 0, 0, 0, 2}, Src: wire.MAC{2, 0, 0, 0, 0, 1}, Type: wire.EtherTypeIPv4}
	eh.Encode(wire.Ethernet(f))
	ih := wire.IPv4Header{TotalLen: 20 + len(l4), ID: id, Flags: wire.IPv4DontFragment, TTL: 64, Protocol: proto, Src: src, Dst: dst}
	ih.Encode(wire.IPv4(f[14:]))
	copy(f[34:], l4)
	if csumOff >= 0 {
		binary.BigEndian.PutUint16(f[34+csumOff:], 0)
		sum := wire.PseudoHeaderSum(src, dst, proto, len(l4))
		binary.BigEndian.PutUint16(f[34+csumOff:], wire.Fold(wire.Checksum(f[34:], sum)))
	}
	return f
}

// tcpSeg builds a TCP segment (20-byte header plus 12 bytes of options) with
// the given flags and payload.
func tcpSeg(seq uint32, flags uint8, payload []byte) []byte {
	t := make([]byte, 32+len(payload))
	binary.BigEndian.PutUint16(t[0:], 40000)
	binary.BigEndian.PutUint16(t[2:], 80)
	binary.BigEndian.PutUint32(t[4:], seq)
	binary.BigEndian.PutUint32(t[8:], 12345)
	t[12] = 8 << 4
	t[13] = flags
	binary.BigEndian.PutUint16(t[14:], 512)
	copy(t[20:], []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}) // NOP NOP TS
	copy(t[32:], payload)
	return t
}

func pattern(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7 + i>>8)
	}
	return p
}

func vnetFrame(h vnetHdr, frame []byte) []byte {
	out := make([]byte, vnetHdrLen+len(frame))
	h.encode(out)
	copy(out[vnetHdrLen:], frame)
	return out
}

func receiveAll(d *Device, pool *pbuf.Pool, max int) []*pbuf.Buf {
	var got []*pbuf.Buf
	dst := make([]*pbuf.Buf, 8)
	for range 1000 {
		reads := d.stats.RxReads + d.stats.RxErrors
		n := d.Receive(pool, dst)
		got = append(got, dst[:n]...)
		clear(dst)
		if n == 0 && reads == d.stats.RxReads+d.stats.RxErrors || len(got) >= max {
			break // nothing was read: EAGAIN
		}
	}
	return got
}

func freeAll(bs []*pbuf.Buf) {
	for _, b := range bs {
		b.Free()
	}
}

func TestReceivePlainFrames(t *testing.T) {
	d, peer := pair(t, Config{})
	pool := pbuf.NewPool(16, 2048)
	sizes := []int{14, 60, 1514, 2048 - rxOff - 1}
	for _, n := range sizes {
		send(t, peer, pattern(n))
	}
	send(t, peer, []byte{1, 2, 3})     // a runt
	send(t, peer, pattern(2048-rxOff)) // fills the buffer: maybe cut
	send(t, peer, pattern(3000))       // cut
	got := receiveAll(d, pool, 10)
	if len(got) != len(sizes) {
		t.Fatalf("got %d frames, want %d", len(got), len(sizes))
	}
	for i, b := range got {
		if !bytes.Equal(b.Bytes(), pattern(sizes[i])) {
			t.Errorf("frame %d: wrong bytes", i)
		}
		if b.Headroom() != rxOff {
			t.Errorf("frame %d: headroom %d, want %d", i, b.Headroom(), rxOff)
		}
		if b.Flags != 0 {
			t.Errorf("frame %d: flags %v, want none", i, b.Flags)
		}
	}
	freeAll(got)
	st := d.Stats()
	if st.RxRunts != 1 || st.RxOversize != 2 || st.RxFrames != uint64(len(sizes)) || st.RxReads != uint64(len(sizes)+3) {
		t.Errorf("stats %+v", st)
	}
	if pool.Available() != pool.Cap() {
		t.Errorf("pool leaked: %d of %d free", pool.Available(), pool.Cap())
	}
	if n := d.Receive(pool, make([]*pbuf.Buf, 4)); n != 0 {
		t.Errorf("Receive on an empty descriptor = %d", n)
	}
}

func TestReceiveBoundedByDst(t *testing.T) {
	d, peer := pair(t, Config{})
	pool := pbuf.NewPool(16, 2048)
	for range 5 {
		send(t, peer, pattern(100))
	}
	dst := make([]*pbuf.Buf, 2)
	if n := d.Receive(pool, dst); n != 2 {
		t.Fatalf("Receive = %d, want 2", n)
	}
	freeAll(dst)
	if n := d.Receive(pool, dst[:0]); n != 0 {
		t.Fatalf("Receive into empty dst = %d", n)
	}
	got := receiveAll(d, pool, 10)
	if len(got) != 3 {
		t.Fatalf("then %d frames, want 3", len(got))
	}
	freeAll(got)
}

func TestReceivePoolEmpty(t *testing.T) {
	d, peer := pair(t, Config{})
	pool := pbuf.NewPool(2, 2048)
	for range 3 {
		send(t, peer, pattern(64))
	}
	dst := make([]*pbuf.Buf, 8)
	if n := d.Receive(pool, dst); n != 2 {
		t.Fatalf("Receive = %d, want 2 (pool of 2)", n)
	}
	if d.Stats().RxNoBuf != 1 {
		t.Errorf("RxNoBuf = %d, want 1", d.Stats().RxNoBuf)
	}
	freeAll(dst[:2])
	// The third frame waited in the queue.
	if n := d.Receive(pool, dst); n != 1 {
		t.Fatalf("after freeing: Receive = %d, want 1", n)
	}
	dst[0].Free()
}

func TestReceiveSmallSlots(t *testing.T) {
	d, peer := pair(t, Config{})
	send(t, peer, pattern(64))
	if n := d.Receive(pbuf.NewPool(4, 256), make([]*pbuf.Buf, 4)); n != 0 {
		t.Fatalf("Receive with 256-byte slots = %d, want 0", n)
	}
}

func TestReceiveChecksumPartial(t *testing.T) {
	d, peer := pair(t, Config{VnetHdr: true, Offload: OffloadCsum})
	pool := pbuf.NewPool(16, 2048)
	for _, size := range []int{0, 1, 100, 1001, 1448} {
		for _, proto := range []wire.IPProto{wire.ProtoTCP, wire.ProtoUDP} {
			var l4 []byte
			csumOff := 16
			if proto == wire.ProtoTCP {
				l4 = tcpSeg(1, 0x18, pattern(size))
			} else {
				l4 = make([]byte, 8+size)
				binary.BigEndian.PutUint16(l4[0:], 5000)
				binary.BigEndian.PutUint16(l4[2:], 7)
				binary.BigEndian.PutUint16(l4[4:], uint16(len(l4)))
				copy(l4[8:], pattern(size))
				csumOff = 6
			}
			want := ethIPv4(proto, l4, csumOff, 1)
			if proto == wire.ProtoUDP && binary.BigEndian.Uint16(want[34+csumOff:]) == 0 {
				binary.BigEndian.PutUint16(want[34+csumOff:], 0xffff)
			}
			// The kernel's checksum-partial form: the field holds the
			// folded pseudo-header sum, uncomplemented.
			partial := bytes.Clone(want)
			ps := wire.PseudoHeaderSum(wire.IPv4Addr{198, 18, 0, 1}, wire.IPv4Addr{198, 18, 0, 2}, proto, len(l4))
			binary.BigEndian.PutUint16(partial[34+csumOff:], uint16(ps))
			send(t, peer, vnetFrame(vnetHdr{Flags: vnetFNeedsCsum, CsumStart: 34, CsumOffset: uint16(csumOff)}, partial))
			got := receiveAll(d, pool, 1)
			if len(got) != 1 {
				t.Fatalf("%v size %d: got %d frames", proto, size, len(got))
			}
			if !bytes.Equal(got[0].Bytes(), want) {
				t.Errorf("%v size %d: checksum %#04x, want %#04x", proto, size,
					binary.BigEndian.Uint16(got[0].Bytes()[34+csumOff:]), binary.BigEndian.Uint16(want[34+csumOff:]))
			}
			if got[0].Flags&pbuf.RxL4ChecksumOK == 0 {
				t.Errorf("%v size %d: not marked RxL4ChecksumOK", proto, size)
			}
			freeAll(got)
		}
	}
	// Offsets outside the frame: dropped, never a panic.
	f := ethIPv4(wire.ProtoUDP, make([]byte, 8), 6, 1)
	for _, h := range []vnetHdr{
		{Flags: vnetFNeedsCsum, CsumStart: 0, CsumOffset: 6},
		{Flags: vnetFNeedsCsum, CsumStart: 34, CsumOffset: 7},
		{Flags: vnetFNeedsCsum, CsumStart: 34, CsumOffset: 8},
		{Flags: vnetFNeedsCsum, CsumStart: 42, CsumOffset: 0},
		{Flags: vnetFNeedsCsum, CsumStart: 0xffff, CsumOffset: 0xffff},
		{GSOType: 3},                          // UDP fragmentation offload: never enabled
		{GSOType: vnetGSOTCPv4, GSOSize: 100}, // TSO not enabled
	} {
		send(t, peer, vnetFrame(h, f))
	}
	send(t, peer, make([]byte, vnetHdrLen+13)) // runt behind a header
	if got := receiveAll(d, pool, 10); len(got) != 0 {
		t.Fatalf("bad headers: %d frames passed", len(got))
	}
	if st := d.Stats(); st.RxBad != 7 || st.RxRunts != 1 {
		t.Errorf("RxBad = %d (want 7), RxRunts = %d (want 1)", st.RxBad, st.RxRunts)
	}
	if pool.Available() != pool.Cap() {
		t.Errorf("pool leaked: %d of %d free", pool.Available(), pool.Cap())
	}
}

// superFrame builds a TCPv4 GSO super-frame with the given payload, as the
// kernel hands it over (length fields covering everything; the TCP checksum
// field partial).
func superFrame(seq uint32, flags uint8, payload []byte) []byte {
	f := ethIPv4(wire.ProtoTCP, tcpSeg(seq, flags, payload), -1, 0x1234)
	binary.BigEndian.PutUint16(f[34+16:], 0xbeef) // garbage: the segmenter must overwrite it
	return f
}

func TestReceiveGSO(t *testing.T) {
	const mss = 1448
	cases := []struct {
		name    string
		payload int
		dst     int // Receive batch size
		pool    int // pool slots
	}{
		{"exact", 4 * mss, 8, 64},
		{"remainder", 44*mss + 17, 8, 64},
		{"one segment", 100, 8, 64},
		{"max", 65535 - 20 - 32, 64, 64},
		{"dst of one", 5*mss + 1, 1, 64},
		{"tiny pool", 10 * mss, 16, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, peer := pair(t, Config{VnetHdr: true, Offload: OffloadTSO4})
			pool := pbuf.NewPool(tc.pool, 2048)
			payload := pattern(tc.payload)
			flags := uint8(0x80 | 0x10 | 0x08 | 0x01) // CWR ACK PSH FIN
			const seq0 = 0xfffff000                   // wraps
			h := vnetHdr{Flags: vnetFNeedsCsum, GSOType: vnetGSOTCPv4, HdrLen: 66, GSOSize: mss, CsumStart: 34, CsumOffset: 16}
			send(t, peer, vnetFrame(h, superFrame(seq0, flags, payload)))
			send(t, peer, vnetFrame(vnetHdr{}, pattern(60))) // a plain frame after it
			nseg := (tc.payload + mss - 1) / mss
			// Copy every frame out and free it at once, so that even the
			// tiny pool keeps flowing.
			type frame struct {
				data  []byte
				flags pbuf.Flags
			}
			var got []frame
			dst := make([]*pbuf.Buf, tc.dst)
			for i := 0; i < 1000 && len(got) < nseg+1; i++ {
				n := d.Receive(pool, dst)
				for _, b := range dst[:n] {
					got = append(got, frame{bytes.Clone(b.Bytes()), b.Flags})
					b.Free()
				}
			}
			if len(got) != nseg+1 {
				t.Fatalf("got %d frames, want %d segments and a frame", len(got), nseg)
			}
			var joined []byte
			for i, b := range got[:nseg] {
				f := b.data
				ip, err := wire.ParseIPv4(f[14:])
				if err != nil {
					t.Fatalf("segment %d: %v", i, err)
				}
				if !ip.IsChecksumValid() {
					t.Errorf("segment %d: bad IPv4 checksum", i)
				}
				if ip.ID() != 0x1234+uint16(i) {
					t.Errorf("segment %d: IP ID %#x", i, ip.ID())
				}
				tcp, err := wire.ParseTCP(ip.Payload())
				if err != nil {
					t.Fatalf("segment %d: %v", i, err)
				}
				if !tcp.IsChecksumValid(ip.Src(), ip.Dst()) {
					t.Errorf("segment %d: bad TCP checksum", i)
				}
				if want := wire.Seq(seq0 + uint32(i*mss)); tcp.Seq() != want {
					t.Errorf("segment %d: seq %d, want %d", i, tcp.Seq(), want)
				}
				wantFlags := wire.TCPFlags(0x10)
				if i == 0 {
					wantFlags |= 0x80
				}
				if i == nseg-1 {
					wantFlags |= 0x08 | 0x01
				}
				if tcp.Flags() != wantFlags {
					t.Errorf("segment %d: flags %v, want %v", i, tcp.Flags(), wantFlags)
				}
				if len(tcp.Payload()) > mss {
					t.Errorf("segment %d: %d bytes > MSS", i, len(tcp.Payload()))
				}
				if b.flags&(pbuf.RxIPv4ChecksumOK|pbuf.RxL4ChecksumOK) != pbuf.RxIPv4ChecksumOK|pbuf.RxL4ChecksumOK {
					t.Errorf("segment %d: flags %v", i, b.flags)
				}
				joined = append(joined, tcp.Payload()...)
			}
			if !bytes.Equal(joined, payload) {
				t.Errorf("payload differs after segmentation (%d bytes, want %d)", len(joined), len(payload))
			}
			if !bytes.Equal(got[nseg].data, pattern(60)) {
				t.Errorf("the frame after the super-frame differs")
			}
			if st := d.Stats(); st.RxGSO != 1 || st.RxGSOSegs != uint64(nseg) {
				t.Errorf("stats %+v", st)
			}
			if pool.Available() != pool.Cap() {
				t.Errorf("pool leaked: %d of %d free", pool.Available(), pool.Cap())
			}
		})
	}
}

func TestReceiveGSOMalformed(t *testing.T) {
	d, peer := pair(t, Config{VnetHdr: true, Offload: OffloadTSO4})
	pool := pbuf.NewPool(64, 2048)
	good := superFrame(1, 0x10, pattern(3000))
	h := vnetHdr{GSOType: vnetGSOTCPv4, GSOSize: 1448}
	mut := func(f func(b []byte)) []byte { b := bytes.Clone(good); f(b); return b }
	bad := [][]byte{
		vnetFrame(vnetHdr{GSOType: vnetGSOTCPv4}, good),                  // GSO size 0
		vnetFrame(vnetHdr{GSOType: vnetGSOTCPv4, GSOSize: 2000}, good),   // segments do not fit a slot
		vnetFrame(vnetHdr{GSOType: 4, GSOSize: 1448}, good),              // TCPv6
		vnetFrame(h, good[:60]),                                          // headers only, no payload
		vnetFrame(h, good[:40]),                                          // truncated TCP header
		vnetFrame(h, mut(func(b []byte) { b[12] = 0x86; b[13] = 0xdd })), // not IPv4
		vnetFrame(h, mut(func(b []byte) { b[14] = 0x65 })),               // version 6
		vnetFrame(h, mut(func(b []byte) { b[14] = 0x44 })),               // IHL 16
		vnetFrame(h, mut(func(b []byte) { b[23] = 17 })),                 // UDP
		vnetFrame(h, mut(func(b []byte) { b[20] = 0x20 })),               // MF: a fragment
		vnetFrame(h, mut(func(b []byte) { b[34+12] = 0x40 })),            // data offset 16
	}
	// Odd but segmentable: the headers just move (IHL 60, data offset 60).
	odd := [][]byte{
		vnetFrame(h, mut(func(b []byte) { b[14] = 0x4f })),
		vnetFrame(h, mut(func(b []byte) { b[34+12] = 0xf0 })),
	}
	for _, f := range append(bad, odd...) {
		send(t, peer, f)
	}
	got := receiveAll(d, pool, 100)
	st := d.Stats()
	if st.RxBad != uint64(len(bad)) || st.RxGSO != uint64(len(odd)) {
		t.Errorf("RxBad = %d, want %d; RxGSO = %d, want %d", st.RxBad, len(bad), st.RxGSO, len(odd))
	}
	freeAll(got)
	if pool.Available() != pool.Cap() {
		t.Errorf("pool leaked: %d of %d free", pool.Available(), pool.Cap())
	}
}

func TestTransmit(t *testing.T) {
	for _, vnet := range []bool{false, true} {
		d, peer := pair(t, Config{VnetHdr: vnet})
		pool := pbuf.NewPool(8, 2048)
		withRoom, _ := pool.Alloc(pbuf.LayerLink, 0)
		withRoom.Prepend(14)
		copy(withRoom.Bytes(), pattern(14))
		noRoom, _ := pool.Alloc(pbuf.LayerRaw, 1514)
		copy(noRoom.Bytes(), pattern(1514))
		if n := d.Transmit([]*pbuf.Buf{withRoom, noRoom}); n != 2 {
			t.Fatalf("vnet %v: Transmit = %d", vnet, n)
		}
		for _, size := range []int{14, 1514} {
			f := recvFrame(t, peer)
			if vnet {
				if !bytes.Equal(f[:vnetHdrLen], make([]byte, vnetHdrLen)) {
					t.Errorf("vnet header % x, want zeros", f[:vnetHdrLen])
				}
				f = f[vnetHdrLen:]
			}
			if !bytes.Equal(f, pattern(size)) {
				t.Errorf("vnet %v: frame of %d bytes differs", vnet, size)
			}
		}
		if pool.Available() != pool.Cap() {
			t.Errorf("Transmit did not free: %d of %d", pool.Available(), pool.Cap())
		}
		if st := d.Stats(); st.TxFrames != 2 || st.TxBytes != 14+1514 {
			t.Errorf("stats %+v", st)
		}
	}
}

func TestTransmitEAGAINAndErrors(t *testing.T) {
	d, peer := pair(t, Config{})
	unix.SetsockoptInt(d.fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 4096)
	pool := pbuf.NewPool(512, 2048)
	frames := make([]*pbuf.Buf, 0, 512)
	for range 512 {
		b, _ := pool.Alloc(pbuf.LayerRaw, 1500)
		frames = append(frames, b)
	}
	n := d.Transmit(frames)
	if n == len(frames) || n == 0 {
		t.Fatalf("Transmit into a full socket = %d of %d: want EAGAIN part-way", n, len(frames))
	}
	if d.Stats().TxAgain != 1 {
		t.Errorf("TxAgain = %d", d.Stats().TxAgain)
	}
	freeAll(frames[n:])
	// The peer goes away: writes fail (EPIPE/ECONNRESET), frames are dropped.
	unix.Close(peer)
	b, _ := pool.Alloc(pbuf.LayerRaw, 60)
	if n := d.Transmit([]*pbuf.Buf{b}); n != 1 {
		t.Fatalf("Transmit after peer close = %d, want 1 (dropped)", n)
	}
	if d.Stats().TxErrors != 1 {
		t.Errorf("TxErrors = %d", d.Stats().TxErrors)
	}
	// Closed device: dropped, counted.
	d.Close()
	b, _ = pool.Alloc(pbuf.LayerRaw, 60)
	if n := d.Transmit([]*pbuf.Buf{b}); n != 1 || d.Stats().TxErrors != 2 {
		t.Fatalf("Transmit after Close = %d, TxErrors %d", n, d.Stats().TxErrors)
	}
	if d.LinkUp() {
		t.Error("LinkUp after Close")
	}
	if n := d.Receive(pool, make([]*pbuf.Buf, 4)); n != 0 {
		t.Error("Receive after Close")
	}
	if pool.Available() != pool.Cap() {
		t.Errorf("pool leaked: %d of %d free", pool.Available(), pool.Cap())
	}
}

// TestNoAllocs: Receive and Transmit allocate nothing per frame, in every
// mode, segmentation included.
func TestNoAllocs(t *testing.T) {
	for _, cfg := range []Config{{}, {VnetHdr: true, Offload: OffloadCsum}, {VnetHdr: true, Offload: OffloadTSO4}} {
		d, peer := pair(t, cfg)
		pool := pbuf.NewPool(64, 2048)
		dst := make([]*pbuf.Buf, 64)
		rx := func() {
			n := d.Receive(pool, dst)
			for _, b := range dst[:n] {
				b.Free()
			}
		}
		var msgs [][]byte
		plain := ethIPv4(wire.ProtoUDP, make([]byte, 1000), 6, 1)
		if cfg.VnetHdr {
			msgs = append(msgs, vnetFrame(vnetHdr{Flags: vnetFNeedsCsum, CsumStart: 34, CsumOffset: 6}, plain))
			if cfg.Offload&OffloadTSO4 != 0 {
				msgs = append(msgs, vnetFrame(vnetHdr{GSOType: vnetGSOTCPv4, GSOSize: 1448}, superFrame(1, 0x10, pattern(20000))))
			}
		} else {
			msgs = append(msgs, plain)
		}
		allocs := testing.AllocsPerRun(200, func() {
			for _, m := range msgs {
				unix.Write(peer, m) // the peer's write is not the code under test, but does not allocate either
			}
			rx()
			rx() // EAGAIN
		})
		if allocs != 0 {
			t.Errorf("%+v: Receive allocates %v per run", cfg, allocs)
		}
		tx := make([]*pbuf.Buf, 1)
		buf := make([]byte, 4096)
		allocs = testing.AllocsPerRun(200, func() {
			b, _ := pool.Alloc(pbuf.LayerLink, 1000)
			tx[0] = b
			d.Transmit(tx)
			unix.Read(peer, buf)
			b2, _ := pool.Alloc(pbuf.LayerRaw, 1000) // no headroom: writev in vnet mode
			tx[0] = b2
			d.Transmit(tx)
			unix.Read(peer, buf)
		})
		if allocs != 0 {
			t.Errorf("%+v: Transmit allocates %v per run", cfg, allocs)
		}
		if pool.Available() != pool.Cap() {
			t.Errorf("%+v: pool leaked", cfg)
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

func TestNotify(t *testing.T) {
	d, peer := pair(t, Config{RetryDelay: time.Millisecond})
	w := make(chanWaker, 1)
	if err := d.Notify(w); err != nil {
		t.Fatal(err)
	}
	if err := d.Notify(w); !errors.Is(err, ErrNotify) {
		t.Fatalf("second Notify: %v", err)
	}
	pool := pbuf.NewPool(8, 2048)
	dst := make([]*pbuf.Buf, 8)
	waitWake := func(what string) {
		t.Helper()
		select {
		case <-w:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no wake", what)
		}
	}
	noWake := func(what string) {
		t.Helper()
		select {
		case <-w:
			t.Fatalf("%s: unexpected wake", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
	noWake("idle")
	for round := range 3 {
		send(t, peer, pattern(60))
		waitWake("frame")
		// Not drained yet: no further wakes however long we wait.
		noWake("undrained")
		if n := d.Receive(pool, dst); n != 1 {
			t.Fatalf("round %d: Receive = %d", round, n)
		}
		dst[0].Free()
		noWake("drained, idle")
	}
	// An empty pool arms a delayed retry.
	send(t, peer, pattern(60))
	waitWake("frame")
	empty := pbuf.NewPool(1, 2048)
	hold, _ := empty.Alloc(pbuf.LayerRaw, 0)
	if n := d.Receive(empty, dst); n != 0 {
		t.Fatalf("Receive from an empty pool = %d", n)
	}
	waitWake("retry after an empty pool")
	hold.Free()
	if n := d.Receive(empty, dst); n != 1 {
		t.Fatalf("Receive = %d after the pool refilled", n)
	}
	dst[0].Free()
	done := d.notify.done
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("notifier goroutine still running after Close")
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestConfig(t *testing.T) {
	for _, c := range []Config{
		{},
		{Name: "0123456789abcdef"},
		{Name: "a%d"},
		{Name: "a/b"},
		{Name: "ok", Offload: OffloadCsum},
		{Name: "ok", MTU: 67},
		{Name: "ok", MTU: 70000},
	} {
		if err := c.check(); err == nil {
			t.Errorf("%+v: accepted", c)
		}
	}
	c := Config{Name: "lwgo0"}
	if err := c.check(); err != nil {
		t.Fatal(err)
	}
	if c.MTU != 1500 || c.MAC != MACFromName("lwgo0") || c.MAC[0] != 0x02 || c.RetryDelay != defaultRetryDelay {
		t.Errorf("defaults: %+v", c)
	}
	if MACFromName("a") == MACFromName("b") {
		t.Error("MACFromName: same MAC for different names")
	}
}

func TestVnetHdrRoundTrip(t *testing.T) {
	h := vnetHdr{Flags: 1, GSOType: 0x81, HdrLen: 66, GSOSize: 1448, CsumStart: 34, CsumOffset: 16}
	var b [vnetHdrLen]byte
	h.encode(b[:])
	if got := decodeVnetHdr(b[:]); got != h {
		t.Fatalf("round trip: %+v != %+v", got, h)
	}
}

// TestTransmitOffloads: with OffloadTxTSO4 a super-segment goes out behind
// a GSO_TCPV4 + NEEDS_CSUM header (hdr_len, gso_size, csum_start/offset of
// its TCP checksum) and a checksum-partial frame behind NEEDS_CSUM alone;
// with OffloadTxCsum only, a super-segment is refused and counted; frames
// asking for what was not offered, or that are not IPv4/TCP, never leave.
func TestTransmitOffloads(t *testing.T) {
	frame := ethIPv4(wire.ProtoTCP, tcpSeg(1, 0x18, pattern(3000)), -1, 7)
	udp := ethIPv4(wire.ProtoUDP, make([]byte, 40), -1, 8)
	pool := pbuf.NewPool(8, 4096)
	buf := func(f []byte, gso uint16, partial bool) *pbuf.Buf {
		b, _ := pool.Alloc(pbuf.LayerLink, len(f))
		copy(b.Bytes(), f)
		b.GSOSize = gso
		if partial {
			b.Flags |= pbuf.TxL4ChecksumPartial
		}
		return b
	}
	d, peer := pair(t, Config{VnetHdr: true, Offload: OffloadTxTSO4})
	if c := d.Caps(); !c.TxChecksumOffload || c.TSOMax != 65535 {
		t.Fatalf("caps %+v", c)
	}
	d.Transmit([]*pbuf.Buf{buf(frame, 1448, true), buf(frame[:14+20+32+100], 0, true), buf(udp, 0, true)})
	for i, want := range []vnetHdr{
		{Flags: vnetFNeedsCsum, GSOType: vnetGSOTCPv4, HdrLen: 14 + 20 + 32, GSOSize: 1448, CsumStart: 34, CsumOffset: 16},
		{Flags: vnetFNeedsCsum, CsumStart: 34, CsumOffset: 16},
	} {
		f := recvFrame(t, peer)
		if got := decodeVnetHdr(f); got != want {
			t.Errorf("frame %d: header %+v, want %+v", i, got, want)
		}
		if n := len(f) - vnetHdrLen; n != len(frame) && n != 14+20+32+100 {
			t.Errorf("frame %d: %d bytes", i, n)
		}
	}
	if st := d.Stats(); st.TxFrames != 2 || st.TxErrors != 1 {
		t.Errorf("stats %+v: want 2 frames and the UDP one refused", st)
	}

	d, _ = pair(t, Config{VnetHdr: true, Offload: OffloadTxCsum})
	if c := d.Caps(); !c.TxChecksumOffload || c.TSOMax != 0 {
		t.Fatalf("csum only: caps %+v", c)
	}
	d.Transmit([]*pbuf.Buf{buf(frame, 1448, true)})
	d2, _ := pair(t, Config{VnetHdr: true})
	d2.Transmit([]*pbuf.Buf{buf(frame, 0, true)})
	if d.Stats().TxErrors != 1 || d2.Stats().TxErrors != 1 {
		t.Errorf("offloads not offered were used: %+v / %+v", d.Stats(), d2.Stats())
	}
	if pool.Available() != pool.Cap() {
		t.Errorf("Transmit leaked buffers: %d of %d", pool.Available(), pool.Cap())
	}
}

// TestReceiveGRO: with GRO a super-frame reaches the stack whole, in a
// buffer of the device's own pool, its IPv4 total length and header
// checksum made right and its checksums marked verified; a plain frame
// after it lands in a buffer of the stack's pool; with every GRO buffer
// held, super-frames are cut into segments as without GRO.
func TestReceiveGRO(t *testing.T) {
	const mss = 1448
	d, peer := pair(t, Config{VnetHdr: true, Offload: OffloadTSO4, GRO: true, GROBufs: 2})
	pool := pbuf.NewPool(64, 2048)
	payload := pattern(40*mss + 7)
	h := vnetHdr{Flags: vnetFNeedsCsum, GSOType: vnetGSOTCPv4, HdrLen: 66, GSOSize: mss, CsumStart: 34, CsumOffset: 16}
	send(t, peer, vnetFrame(h, superFrame(7, 0x18, payload)))
	send(t, peer, vnetFrame(vnetHdr{}, pattern(60)))
	got := receiveAll(d, pool, 2)
	if len(got) != 2 {
		t.Fatalf("%d frames, want the super-frame and the plain one", len(got))
	}
	g := got[0]
	f := g.Bytes()
	ip := wire.IPv4(f[14:])
	if g.Pool() == pool || g.Len() != 14+20+32+len(payload) || int(ip.TotalLen()) != 20+32+len(payload) ||
		!ip.IsChecksumValid() || g.Flags&(pbuf.RxIPv4ChecksumOK|pbuf.RxL4ChecksumOK) != pbuf.RxIPv4ChecksumOK|pbuf.RxL4ChecksumOK {
		t.Fatalf("super-frame: %d bytes, total length %d, IP checksum valid %v, flags %v, own pool %v",
			g.Len(), ip.TotalLen(), ip.IsChecksumValid(), g.Flags, g.Pool() != pool)
	}
	if !bytes.Equal(f[14+20+32:], payload) {
		t.Fatal("payload altered")
	}
	if got[1].Pool() != pool || !bytes.Equal(got[1].Bytes(), pattern(60)) {
		t.Fatal("plain frame not in the stack's pool or altered")
	}
	got[1].Free()
	// Hold both GRO buffers: the next super-frame is cut.
	send(t, peer, vnetFrame(h, superFrame(7, 0x18, payload)))
	held := receiveAll(d, pool, 1)
	send(t, peer, vnetFrame(h, superFrame(7, 0x18, payload)))
	segs := receiveAll(d, pool, 41)
	if len(held) != 1 || held[0].Pool() == pool || len(segs) != 41 || d.Stats().RxGRO != 2 || d.Stats().RxGSOSegs != 41 {
		t.Fatalf("held %d, then %d frames; GRO %d, segments %d", len(held), len(segs), d.Stats().RxGRO, d.Stats().RxGSOSegs)
	}
	freeAll(segs)
	g.Free()
	held[0].Free()
	if d.gro.Available() != d.gro.Cap() || pool.Available() != pool.Cap() {
		t.Fatal("buffers leaked")
	}
}
