package tcp

// Fuzz targets: arbitrary segments into a listener and into an established
// connection, and random API calls on two Layers over a lossy link. Each
// checks the queue and sequence invariants as it goes and, at the end, that
// every packet buffer and queue node came back.

import (
	"encoding/binary"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

// fuzzBytes reads a fuzz input; past its end it yields zeros.
type fuzzBytes struct{ d []byte }

func (f *fuzzBytes) more() bool { return len(f.d) > 0 }

func (f *fuzzBytes) byte() byte {
	if len(f.d) == 0 {
		return 0
	}
	b := f.d[0]
	f.d = f.d[1:]
	return b
}

func (f *fuzzBytes) u16() uint16 { return uint16(f.byte())<<8 | uint16(f.byte()) }

func (f *fuzzBytes) u32() uint32 { return uint32(f.u16())<<16 | uint32(f.u16()) }

func (f *fuzzBytes) bytes(n int) []byte {
	n = min(n, len(f.d))
	b := f.d[:n]
	f.d = f.d[n:]
	return b
}

// fuzzSegment decodes one segment from f and injects it into h. seqBase and
// ackBase anchor relative sequence and acknowledgment numbers, so that the
// fuzzer reaches the window without guessing 32-bit values.
//
//	mode: bit 0 relative seq, bit 1 relative ack, bit 2 raw header bytes,
//	      bit 3 bad checksum, bits 4–7 time to advance first (2^k ms, 0: none)
//	flags, seq (2 bytes relative / 4 raw), ack (same), window (2),
//	option length (1) and bytes, payload length (1, ×6 bytes of pattern)
func fuzzSegment(h *harness, f *fuzzBytes, seqBase, ackBase wire.Seq) {
	mode := f.byte()
	if k := mode >> 4; k > 0 {
		h.advance(clock.Duration(1<<(k-1)) * clock.Millisecond)
	}
	flags := wire.TCPFlags(f.byte())
	var seq, ack wire.Seq
	if mode&1 != 0 {
		seq = seqBase + wire.Seq(int16(f.u16()))
	} else {
		seq = wire.Seq(f.u32())
	}
	if mode&2 != 0 {
		ack = ackBase + wire.Seq(int16(f.u16()))
	} else {
		ack = wire.Seq(f.u32())
	}
	wnd := f.u16()
	opts := f.bytes(int(f.byte()) % 41)
	data := pattern(int(seq), int(f.byte())*6)
	th := wire.TCPHeader{SrcPort: h.pport, DstPort: h.lport, Seq: seq, Ack: ack, Flags: flags, Window: wnd}
	var seg []byte
	if mode&4 != 0 {
		// Raw: the option bytes become the header after the ports; the data
		// offset is whatever they say.
		seg = make([]byte, 20+len(opts)+len(data))
		th.Encode(wire.TCP(seg))
		copy(seg[4:], opts)
		copy(seg[4+len(opts):], data)
	} else {
		opts = opts[:len(opts)&^3]
		seg = rawSeg(th, opts, data)
	}
	// Make the payload a function of its sequence number, as it lies in the
	// final header (raw mode rewrites the fields; a SYN's data starts one
	// later), so that receivers can check the stream.
	if hl := int(seg[12]>>4) * 4; hl >= 20 && hl <= len(seg) {
		base := binary.BigEndian.Uint32(seg[4:])
		if wire.TCPFlags(seg[13]).Has(wire.FlagSYN) {
			base++
		}
		copy(seg[hl:], pattern(int(base), len(seg)-hl))
	}
	if mode&8 != 0 {
		h.injectRawBadSum(seg)
		return
	}
	h.injectRaw(seg)
}

// injectRawBadSum injects seg with a checksum that does not verify.
func (h *harness) injectRawBadSum(seg []byte) {
	h.t.Helper()
	b, err := h.pool.Alloc(pbuf.LayerLink, wire.IPv4MinHeaderLen+len(seg))
	if err != nil {
		return
	}
	ip := wire.IPv4(b.Bytes())
	ih := wire.IPv4Header{TotalLen: len(ip), TTL: 64, Protocol: wire.ProtoTCP, Src: h.peer, Dst: ipA}
	ih.Encode(ip)
	copy(ip[wire.IPv4MinHeaderLen:], seg)
	if len(seg) >= 18 {
		t := wire.TCP(ip[wire.IPv4MinHeaderLen:])
		t.SetChecksum(wire.Fold(wire.Checksum(t, wire.PseudoHeaderSum(h.peer, ipA, wire.ProtoTCP, len(t)))) ^ 0x0101)
	}
	h.l.SetNow(h.now)
	h.l.Input(b, ip)
}

// finish aborts every connection, closes every listener, lets all timers
// run out and checks that everything was returned.
func finish(t testing.TB, h *harness, conns ...Conn) {
	t.Helper()
	for _, c := range conns {
		c.Abort()
	}
	for i := range h.l.pcbs {
		if c := &h.l.pcbs[i]; c.used {
			h.l.abort(c, errs.ErrAbort, false)
		}
	}
	for i := range h.l.lst {
		Listener{h.l, int16(i), h.l.lst[i].gen}.Close()
	}
	h.out.record = false
	h.out.segs = nil
	h.advance(h.l.cfg.TimeWait + clock.Minute)
	checkClean(t, h.l, h.pool)
}

func FuzzTCPSegmentListen(f *testing.F) {
	// policy, backlog, then segments.
	f.Add([]byte{0, 1,
		0x00, byte(wire.FlagSYN), 0, 0, 0, 100, 0, 0, 0, 0, 0xff, 0xff, 4, 2, 4, 5, 0xb4, 0,
		0x03, byte(wire.FlagACK), 0, 1, 0, 1, 0xff, 0xff, 0, 2})
	f.Add([]byte{1, 1,
		0x00, byte(wire.FlagSYN), 0, 0, 0, 100, 0, 0, 0, 0, 0xff, 0xff, 0, 0,
		0x00, byte(wire.FlagSYN), 0, 0, 0, 200, 0, 0, 0, 0, 0xff, 0xff, 0, 0,
		0x13, byte(wire.FlagACK | wire.FlagFIN), 0, 1, 0, 1, 0xff, 0xff, 0, 0})
	f.Add([]byte{2, 0, 0x04, byte(wire.FlagSYN), 0, 0, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 12, 0x50, 0x02, 0xff, 0xff, 0, 0, 2, 4, 1, 1, 3, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &fuzzBytes{data}
		policy := BacklogPolicy(in.byte() % 3)
		backlog := int(in.byte()%3) + 1
		h := newHarness(t, func(c *Config) {
			c.Backlog = policy
			c.MaxPCBs = 4
		})
		h.out.record = true
		h.listen(backlog)
		var lastSent outSeg
		irs := wire.Seq(0)
		for n := 0; in.more() && n < 64; n++ {
			if len(h.out.segs) > 0 {
				lastSent = h.out.segs[len(h.out.segs)-1]
				h.out.segs = h.out.segs[:0]
			}
			// Relative seq: after the peer's last SYN; relative ack: after
			// the Layer's last SYN-ACK (its ISS or cookie).
			before := len(in.d)
			fuzzSegment(h, in, irs+1, lastSent.seq+1)
			if consumed := data[len(data)-before:]; len(consumed) > 10 && wire.TCPFlags(consumed[1])&wire.FlagSYN != 0 && consumed[0]&1 == 0 {
				irs = wire.Seq(binary.BigEndian.Uint32(consumed[2:]))
			}
			checkInvariants(t, h.l)
		}
		for _, r := range h.accepted {
			if want := pattern(int(r.irs+1), len(r.got)); string(r.got) != string(want) {
				t.Fatalf("accepted connection delivered %d bytes that differ from what was sent", len(r.got))
			}
		}
		finish(t, h)
	})
}

func FuzzTCPSegmentEstablished(f *testing.F) {
	f.Add([]byte{0x03, byte(wire.FlagACK), 0, 0, 0x05, 0xb4, 0xff, 0xff, 0, 10})
	f.Add([]byte{0x03, byte(wire.FlagACK), 0, 0, 0, 0, 0, 0, 0, 0,
		0x03, byte(wire.FlagACK), 0, 0, 0, 0, 0, 0, 0, 0,
		0x03, byte(wire.FlagACK), 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x01, byte(wire.FlagRST), 0, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x03, byte(wire.FlagACK | wire.FlagFIN), 0, 0, 0x16, 0xd0, 0x10, 0, 0, 20})
	f.Add([]byte{0x03, byte(wire.FlagACK), 0x01, 0x00, 0, 0, 0xff, 0xff, 12, 1, 1, 5, 10, 0, 0, 0, 0, 0, 0, 0, 10, 30})
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzEstablishedBody(t, data)
	})
}

// ---- FuzzTCPActions ----

// fuzzStream is what each side writes, in order; the receiver checks every
// byte against it. It is never modified, so WriteNoCopy may reference it.
var fuzzStream = pattern(0, 1<<18)

// fuzzApp is one side's application.
type fuzzApp struct {
	t        testing.TB
	name     string
	c        Conn
	wrote    int // stream bytes written
	recvd    int // stream bytes received
	unrecved int // received, not yet Recved
	lazy     bool
	fin      bool
	dead     bool
	finClose bool // Close on end of stream
}

func (a *fuzzApp) Connected(c Conn, err error) error { return nil }

func (a *fuzzApp) Recv(c Conn, p *pbuf.Buf, err error) error {
	if p == nil {
		if a.fin {
			a.t.Fatalf("%s: end of stream delivered twice", a.name)
		}
		a.fin = true
		if a.finClose {
			return c.Close()
		}
		return nil
	}
	if a.fin {
		a.t.Fatalf("%s: data after end of stream", a.name)
	}
	b := p.Bytes()
	if a.recvd+len(b) > len(fuzzStream) || string(b) != string(fuzzStream[a.recvd:a.recvd+len(b)]) {
		a.t.Fatalf("%s: %d bytes at stream offset %d do not match what was sent", a.name, len(b), a.recvd)
	}
	a.recvd += len(b)
	if a.lazy {
		a.unrecved += len(b)
	} else {
		c.Recved(len(b))
	}
	p.Free()
	return nil
}

func (a *fuzzApp) Sent(c Conn, n int) error { return nil }
func (a *fuzzApp) Poll(c Conn) error        { return nil }
func (a *fuzzApp) Err(c Conn, err error) {
	if c.IsValid() {
		a.t.Fatalf("%s: handle valid inside Err", a.name)
	}
	a.dead = true
}

func FuzzTCPActions(f *testing.F) {
	f.Add([]byte{0, 10, 0, 200, 2, 0, 14, 0, 11, 100, 4, 0, 14, 0, 12, 255})
	f.Add([]byte{30, 0, 255, 1, 255, 2, 0, 2, 1, 9, 3, 14, 0, 10, 0, 8, 1, 14, 0, 3, 1, 4, 0, 5, 1, 12, 200})
	f.Add([]byte{5, 15, 0, 0, 100, 0, 100, 7, 0, 2, 0, 13, 1, 9, 2, 14, 0, 12, 50, 3, 1, 15, 1, 0, 255, 2, 0, 12, 255})
	f.Add([]byte{50, 0, 255, 0, 255, 0, 255, 2, 0, 6, 1, 14, 0, 12, 255, 12, 255})
	f.Fuzz(func(t *testing.T, data []byte) {
		runActions(t, data)
	})
}

func runActions(t testing.TB, data []byte) {
	in := &fuzzBytes{data}
	loss := int(in.byte() % 40) // percent
	// Options per side, and the pool size.
	setup := in.byte()
	mod := func(bits byte) func(*Config) {
		return func(c *Config) {
			c.MaxPCBs = 4
			c.SndBuf = 32 << 10
			c.RcvBuf = 16 << 10
			c.MinRTO = 100 * clock.Millisecond
			c.NoTimestamps = bits&1 != 0
			c.NoSACK = bits&2 != 0
			c.NoWindowScale = bits&4 != 0
			if bits&8 != 0 {
				c.DelayedACK = -1
			}
		}
	}
	bufs := testPoolBufs
	if setup&0x80 != 0 {
		bufs = 40 // memory pressure: writes, out-of-order data and ACKs compete
	}
	p := newPairCfg(t, mod(setup), mod(setup>>4), bufs)
	p.quiet = true
	for _, n := range []*node{p.a, p.b} {
		n.out.record = false
	}
	rnd := uint32(len(data))*2654435761 + 1
	dropNext, dupNext := 0, false
	p.filter = func(from *node, s []byte) int {
		if dropNext > 0 {
			dropNext--
			return 1
		}
		if dupNext {
			dupNext = false
			return 2
		}
		rnd = rnd*1664525 + 1013904223
		if int(rnd>>24)%100 < loss {
			return 1
		}
		return 0
	}
	var apps []*fuzzApp
	newApp := func(name string) *fuzzApp {
		a := &fuzzApp{t: t, name: name}
		apps = append(apps, a)
		return a
	}
	a, b := newApp("A"), &fuzzApp{t: t, name: "B"}
	// B listens, one connection at a time; A connects, and reconnects when
	// its connection is gone.
	lc, _ := p.b.l.NewConn()
	lc.Bind(addrAny, srvPort)
	ln, _ := lc.Listen(2)
	ln.SetAcceptor(AcceptFunc(func(l Listener, c Conn, err error) error {
		if b.c.IsValid() {
			return errs.ErrMem
		}
		b = newApp("B")
		b.c = c
		return c.SetHandler(b)
	}))
	connect := func() {
		a = newApp("A")
		c, err := p.a.l.NewConn()
		if err != nil {
			return
		}
		a.c = c
		c.SetHandler(a)
		c.Connect(addrPortB)
	}
	connect()
	for n := 0; in.more() && n < 200; n++ {
		op, arg := in.byte(), in.byte()
		app, nd := a, p.a
		if op&0x80 != 0 {
			app, nd = b, p.b
		}
		switch op & 0x7f % 17 {
		case 0, 1:
			k := min(1+int(arg)*97, len(fuzzStream)-app.wrote, app.c.SendBuffer())
			if k <= 0 {
				break
			}
			fl := WriteFlags(0)
			if arg&1 != 0 {
				fl |= WriteMore
			}
			if arg&2 != 0 {
				fl |= WriteNoCopy
			}
			if err := app.c.Write(fuzzStream[app.wrote:app.wrote+k], fl); err == nil {
				app.wrote += k
			} else if err != errs.ErrMem && err != errs.ErrNotConn && err != errs.ErrClosed {
				t.Fatalf("Write: %v", err)
			} else if err == errs.ErrMem && fl&WriteNoCopy == 0 {
				t.Fatalf("Write(%d) of at most SendBuffer() failed", k)
			}
		case 2:
			app.c.Output()
		case 3:
			k := min(app.unrecved, 1+int(arg)*64)
			app.unrecved -= k
			app.c.Recved(k)
		case 4:
			if arg < 64 {
				app.c.Close()
			}
		case 5:
			app.c.CloseWrite()
		case 6:
			if arg < 16 {
				app.c.Abort()
			}
		case 7:
			app.c.SetNoDelay(arg&1 != 0)
		case 8:
			p.deliverOne(nd)
		case 9:
			dropNext = int(arg % 4)
		case 10:
			dupNext = true
		case 11:
			p.advance(clock.Duration(arg) * clock.Millisecond)
		case 12:
			p.advance(clock.Duration(arg) * 100 * clock.Millisecond)
		case 13:
			if b := nd.inq.Pop(); b != nil {
				nd.inq.Push(b) // reorder: the head goes last
			}
		case 14:
			p.pump()
		case 15:
			app.lazy = !app.lazy
			app.finClose = arg&1 != 0
		case 16:
			if !a.c.IsValid() {
				connect()
			}
		}
		checkInvariants(t, p.a.l)
		checkInvariants(t, p.b.l)
	}
	// Wind down over a clean link: every handle closed or aborted, every
	// timer run out.
	p.filter = nil
	for _, app := range apps {
		app.lazy = false
		if app.unrecved > 0 {
			app.c.Recved(app.unrecved)
			app.unrecved = 0
		}
		if len(data)%2 == 0 {
			app.c.Close()
		} else {
			app.c.Abort()
		}
	}
	ln.Close()
	p.advance(40 * clock.Minute)
	checkClean(t, p.a.l, p.a.pool)
	checkClean(t, p.b.l, p.b.pool)
}

func fuzzEstablishedBody(t testing.TB, data []byte) {
	in := &fuzzBytes{data}
	var o synOpts
	switch len(data) % 3 {
	case 0:
		o = plainPeer
	case 1:
		o = fullPeer
	default:
		o = synOpts{mss: 536, ws: 14, sack: true}
	}
	h, r := established(t, func(c *Config) { c.OOSeqMaxBufs = 8 }, o)
	r.noRecved = len(data)%2 == 0
	r.c.SetNoDelay(true)
	r.c.Write(pattern(0, 20000), 0)
	r.c.Output()
	h.out.record = false
	h.out.segs = nil
	for n := 0; in.more() && n < 64; n++ {
		c := h.pcbOf()
		seqBase, ackBase := h.irs+1, h.iss+1
		if c != nil {
			seqBase, ackBase = c.rcv.NXT, c.snd.UNA
		}
		fuzzSegment(h, in, seqBase, ackBase)
		checkInvariants(t, h.l)
		if r.unrecved > 0 && n%4 == 3 {
			r.c.Recved(r.unrecved)
			r.unrecved = 0
		}
	}
	// The peer's bytes are a function of their sequence number, so
	// whatever it sent, overlapping or not, the stream delivered must be the
	// pattern from the first sequence number on.
	if want := pattern(int(h.irs+1), len(r.got)); string(r.got) != string(want) {
		t.Fatalf("delivered stream of %d bytes differs from what was sent", len(r.got))
	}
	finish(t, h, r.c)
}
