package core

// Stack-level fuzz targets (conformance §10): frames from the fuzzer go
// through the whole input path of one Stack on a manual clock; every frame
// the stack transmits is validated, and every buffer must come back.
//
//	go test ./core -run XXX -fuzz FuzzStackInput -fuzztime 30s
//	go test ./core -run XXX -fuzz FuzzReassembly -fuzztime 30s

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

// fuzzFrame is one frame for fuzzDev, with the flags its buffer gets.
type fuzzFrame struct {
	b     []byte
	flags pbuf.Flags
}

// fuzzDev hands the stack queued frames and validates what it transmits.
type fuzzDev struct {
	inbox  []fuzzFrame
	chk    *txCheck
	errs   []string
	txN    int
	rxDrop int
}

func (d *fuzzDev) Receive(pool *pbuf.Pool, dst []*pbuf.Buf) int {
	n := 0
	for n < len(dst) && len(d.inbox) > 0 {
		f := d.inbox[0]
		d.inbox = d.inbox[1:]
		b, err := pool.Alloc(pbuf.LayerRaw, len(f.b))
		if err != nil {
			d.rxDrop++
			continue
		}
		copy(b.Bytes(), f.b)
		b.Flags = f.flags
		dst[n] = b
		n++
	}
	return n
}

func (d *fuzzDev) Transmit(frames []*pbuf.Buf) int {
	for _, b := range frames {
		if err := d.chk.check(b.Bytes()); err != nil {
			d.errs = append(d.errs, err.Error()+"\n"+describe(b.Bytes()))
		}
		d.txN++
		b.Free()
	}
	return len(frames)
}

func (d *fuzzDev) HardwareAddr() wire.MAC { return rigMAC }
func (d *fuzzDev) MTU() int               { return 1500 }
func (d *fuzzDev) Caps() netifCaps        { return netifCaps{RxChecksum: true} }
func (d *fuzzDev) LinkUp() bool           { return true }

// fuzzStack is the stack under fuzzing: 10.0.0.1/24, a static neighbour
// 10.0.0.2, a UDP echo endpoint on port 7, a sink on 10.0.0.1:9, a ping
// endpoint with one request answered and one waiting for ARP.
type fuzzStack struct {
	s   *Stack
	dev *fuzzDev
	clk clock.Manual
	rx  [][]byte // datagrams the echo endpoint received
}

func newFuzzStack(t *testing.T, cfg Config) *fuzzStack {
	cfg.Seed = rigSeed
	fs := &fuzzStack{dev: &fuzzDev{}}
	s := New(cfg)
	fs.s = s
	n, err := s.AddNetif(fs.dev, NetifConfig{Addr: netip.MustParsePrefix("10.0.0.1/24"), Gateway: netip.MustParseAddr("10.0.0.254")})
	if err != nil {
		t.Fatal(err)
	}
	fs.dev.chk = newTxCheck(s)
	s.SetUp(n)
	if err := s.AddStaticARP(n, peerAddr, peerMAC); err != nil {
		t.Fatal(err)
	}
	echo, _ := s.NewUDP()
	echo.Bind(netip.Addr{}, 7)
	echo.SetRecv(func(u UDP, p *pbuf.Buf, src netip.AddrPort, dst netip.Addr) {
		fs.rx = append(fs.rx, bytes.Clone(p.Bytes()))
		// Echo to foreign sources only: an echo to ourselves would loop.
		if !s.isOurAddr(src.Addr().As4()) && p.Len() > 0 {
			u.SendTo(p.Bytes(), src)
		}
		p.Free()
	})
	sink, _ := s.NewUDP()
	sink.Bind(netip.AddrFrom4(rigIP), 9)
	sink.SetRecv(func(u UDP, p *pbuf.Buf, src netip.AddrPort, dst netip.Addr) { p.Free() })
	sink.SetErr(func(UDP, netip.AddrPort, wire.ICMPv4Type, uint8) {})
	p, _ := s.NewPing(func(Ping, netip.Addr, uint16, uint8, []byte) {})
	p.Send(peerAddr, 1, []byte("fuzz"))
	p.Send(netip.AddrFrom4(otherIP), 2, []byte("pending"))
	s.Poll(0)
	return fs
}

// inject queues f (flags as the device would set them) and notes it for
// the ICMP-error check.
func (fs *fuzzStack) inject(f []byte, flags pbuf.Flags) {
	fs.dev.inbox = append(fs.dev.inbox, fuzzFrame{f, flags})
	fs.dev.chk.noteRx(f)
}

// finish polls past every timeout and checks that every buffer came back
// and every transmitted frame was valid.
func (fs *fuzzStack) finish(t *testing.T) {
	t.Helper()
	cfg := fs.s.cfg
	for el := clock.Duration(0); el < cfg.ReassTimeout+clock.Duration(cfg.ARPMaxTries+5)*clock.Second; el += clock.Second {
		fs.clk.Advance(clock.Second)
		fs.s.Poll(fs.clk.Now())
	}
	if len(fs.dev.errs) > 0 {
		t.Fatalf("invalid frames transmitted (%d):\n%s", len(fs.dev.errs), fs.dev.errs[0])
	}
	if fs.s.loopq.Len() != 0 {
		t.Fatalf("%d datagrams still in the loop queue", fs.s.loopq.Len())
	}
	if fs.s.reass.busy() {
		t.Fatalf("reassembly slots busy after the timeout")
	}
	checkPools(t, fs.s)
}

// fixChecksums rewrites the IPv4 header checksum and, for unfragmented
// datagrams, the ICMP or UDP checksum of an Ethernet frame in place, so
// that mutated frames get past verification (lwIP's fuzz build disables
// checksums for the same reason; here the stack keeps verifying).
func fixChecksums(f []byte) {
	eth, err := wire.ParseEthernet(f)
	if err != nil || eth.Type() != wire.EtherTypeIPv4 {
		return
	}
	b := eth.Payload()
	if len(b) < wire.IPv4MinHeaderLen {
		return
	}
	hl := int(b[0]&0xf) * 4
	if hl < wire.IPv4MinHeaderLen || hl > len(b) {
		return
	}
	ip := wire.IPv4(b)
	ip.SetChecksum(0)
	ip.SetChecksum(wire.Fold(wire.Checksum(b[:hl], 0)))
	tl := ip.TotalLen()
	if ip.IsFragment() || tl < hl || tl > len(b) {
		return
	}
	p := b[hl:tl]
	switch ip.Protocol() {
	case wire.ProtoICMP:
		if len(p) >= wire.ICMPv4HeaderLen {
			wire.ICMPv4(p).UpdateChecksum()
		}
	case wire.ProtoUDP:
		if len(p) >= wire.UDPHeaderLen {
			if n := int(binary.BigEndian.Uint16(p[4:])); n >= wire.UDPHeaderLen && n <= len(p) {
				u := wire.UDP(p[:n])
				u.SetChecksum(0)
				u.SetChecksum(wire.UDPChecksum(u, ip.Src(), ip.Dst()))
			}
		}
	}
}

// FuzzStackInput feeds a sequence of records into one Stack. Each record is
// a 2-byte big-endian length word, a 2-byte big-endian time delta in ms (the
// clock advances by it, then the frame is received in one Poll), and the
// frame. The length word's low 12 bits are the frame length; bit 15
// asks the harness to fix the IPv4/ICMP/UDP checksums before injection; bit
// 14 marks the buffer as checksum-verified by the device (RxIPv4ChecksumOK,
// RxL4ChecksumOK). A short final record takes what is left.
//
// Invariants: no panic; every transmitted frame is valid Ethernet+ARP or
// Ethernet+IPv4 with correct checksums, from our addresses, and no ICMP
// error about an ICMP error, a broadcast, a non-initial fragment, a
// non-unique source or a link-layer broadcast; after the sequence and every
// timeout, every packet and reassembly buffer is free.
func FuzzStackInput(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		runStackInput(t, data).finish(t)
	})
}

// runStackInput feeds FuzzStackInput's records into a new fuzzStack.
func runStackInput(t *testing.T, data []byte) *fuzzStack {
	fs := newFuzzStack(t, Config{PoolBufs: 64, ARPTableSize: 8, LoopQueueLen: 8, RxBatch: 4})
	for rec := 0; len(data) >= 4 && rec < 64; rec++ {
		word := binary.BigEndian.Uint16(data)
		delta := binary.BigEndian.Uint16(data[2:])
		data = data[4:]
		n := min(int(word&0xfff), len(data))
		frame := bytes.Clone(data[:n])
		data = data[n:]
		if word&0x8000 != 0 {
			fixChecksums(frame)
		}
		var flags pbuf.Flags
		if word&0x4000 != 0 {
			flags = pbuf.RxIPv4ChecksumOK | pbuf.RxL4ChecksumOK
		}
		fs.inject(frame, flags)
		fs.clk.Advance(clock.Duration(delta) * clock.Millisecond)
		fs.s.Poll(fs.clk.Now())
		if a := fs.s.reassPool.Available(); a < 0 || a > fs.s.reassPool.Cap() {
			t.Fatalf("reassembly pool: %d of %d free", a, fs.s.reassPool.Cap())
		}
	}
	return fs
}

// FuzzReassembly sends fragments of one UDP datagram (to the echo port) in
// an order, with overlaps and corruptions, that the fuzzer picks. Input: 2
// bytes of payload length, 1 byte of pattern seed, then 4-byte records:
// 2 bytes of offset (in 8-byte units), 1 byte of length (8-byte units), 1
// byte of flags: 0x01 run to the datagram's end, 0x02 flip MF, 0x04 corrupt
// a byte, 0x08 use another IP ID, 0x10 wait 10 s first, 0x20 send as a
// link-layer broadcast, 0x40 wait 1 ms first.
//
// Invariants: when every fragment is a true slice of the datagram, every
// delivered datagram equals it; when they moreover partition it (duplicates
// allowed) and no time passes, it is delivered; no leak.
func FuzzReassembly(f *testing.F) {
	f.Add([]byte{0x03, 0xe8, 7, 0, 0, 64, 0, 0, 64, 0, 1})                     // 1000 bytes in two
	f.Add([]byte{0x0b, 0xb8, 1, 0, 200, 100, 1, 0, 0, 100, 0, 0, 100, 100, 0}) // 3000 in three, out of order
	f.Add([]byte{0x00, 0x40, 2, 0, 0, 4, 0, 0, 2, 4, 0, 0, 0, 2, 0})           // overlap
	f.Add([]byte{0x00, 0x40, 2, 0, 0, 4, 0, 0, 0, 4, 0x04, 0, 4, 0, 1})        // conflicting duplicate
	f.Add([]byte{0x00, 0x40, 3, 0, 0, 4, 0x10, 0, 4, 0, 1})                    // timeout between
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 3 {
			return
		}
		dataLen := int(binary.BigEndian.Uint16(in)) % 6000
		orig := mkUDP(peerIP, rigIP, 1234, 7, pattern(dataLen, in[2]))
		total := len(orig)
		in = in[3:]
		fs := newFuzzStack(t, Config{PoolBufs: 64})
		fs.dev.inbox = nil
		consistent, timeless := true, true
		type span struct{ off, end int }
		spans := map[span]bool{}
		lost := false
		h := wire.IPv4Header{ID: 0x5151, Protocol: wire.ProtoUDP, Src: peerIP, Dst: rigIP}
		for rec := 0; len(in) >= 4 && rec < 64; rec++ {
			off := int(binary.BigEndian.Uint16(in)&0x1fff) * 8
			n8, fl := int(in[2]), in[3]
			in = in[4:]
			end := off + n8*8
			if fl&0x01 != 0 {
				end = max(total, off)
			}
			end = min(end, off+1600) // one frame per pool buffer
			more := end < total
			if fl&0x02 != 0 {
				more = !more
				consistent = false
			}
			if !more && end != total {
				// A last fragment that ends elsewhere (an empty one far out,
				// say) contradicts the others: the stack must drop the datagram.
				consistent = false
			}
			payload := make([]byte, end-off)
			for i := range payload {
				if off+i < total {
					payload[i] = orig[off+i]
				} else {
					payload[i] = 0x5a ^ byte(i)
					consistent = false
				}
			}
			if fl&0x04 != 0 && len(payload) > 0 {
				payload[len(payload)/2] ^= 0x80
				consistent = false
			}
			id := h.ID
			if fl&0x08 != 0 {
				id++
			}
			if fl&0x10 != 0 {
				fs.clk.Advance(10 * clock.Second)
				timeless = false
			}
			if fl&0x40 != 0 {
				fs.clk.Advance(clock.Millisecond)
			}
			fh := h
			fh.ID = id
			fh.FragOffset = off
			if more {
				fh.Flags = wire.IPv4MoreFragments
			}
			if off+len(payload)+wire.IPv4MinHeaderLen > wire.IPv4MaxTotalLen {
				lost = true // a ping of death: dropped by design
			}
			frame := mkEth(rigMAC, peerMAC, wire.EtherTypeIPv4, mkIPv4(fh, payload))
			if fl&0x20 != 0 {
				copy(frame, wire.BroadcastMAC[:])
			}
			if id == h.ID && (len(payload) > 0 || !more) {
				spans[span{off, end}] = true
			}
			fs.inject(frame, 0)
			fs.s.Poll(fs.clk.Now())
		}
		for _, got := range fs.rx {
			if consistent && !bytes.Equal(got, orig[wire.UDPHeaderLen:]) {
				t.Fatalf("consistent fragments delivered a different datagram (%d bytes, want %d)", len(got), total-8)
			}
		}
		// Do the main ID's distinct spans partition [0, total)?
		partition := len(spans) > 0
		cover := make([]bool, total)
		for sp := range spans {
			for i := sp.off; i < sp.end && i < total; i++ {
				if cover[i] {
					partition = false
				}
				cover[i] = true
			}
		}
		for _, c := range cover {
			partition = partition && c
		}
		if consistent && timeless && !lost && partition && len(fs.rx) == 0 {
			t.Fatalf("fragments partitioning the datagram were not reassembled; stats:\n%s", fs.s.stats.String())
		}
		fs.finish(t)
	})
}
