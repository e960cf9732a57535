package tcp

// TCP options: MSS (RFC 9293 §3.7.1), window scaling and timestamps
// (RFC 7323), SACK (RFC 2018).

import (
	"testing"

	"github.com/lwgo/lwgo/core/wire"
)

// The window scale we announce follows from RcvBuf: the smallest shift that
// fits RcvBuf in 16 bits, at most 14.
func TestRFC7323_AnnouncedShiftFromRcvBuf(t *testing.T) {
	for _, tc := range []struct{ rcvbuf, shift int }{
		{65535, 0}, {65536, 1}, {128 << 10, 2}, {256 << 10, 3}, {1 << 20, 5}, {16 << 20, 9}, {1 << 30, 14},
	} {
		h := newHarness(t, func(c *Config) { c.RcvBuf = tc.rcvbuf })
		h.listen(0)
		h.po = fullPeer
		h.peerSYN()
		s := h.next()
		if !s.opts.HasWScale || int(s.opts.WScale) != tc.shift {
			t.Errorf("RcvBuf %d: SYN-ACK %v, want WS=%d", tc.rcvbuf, s, tc.shift)
		}
		// RFC 7323 §2.2: the window of a SYN is never scaled.
		if want := min(tc.rcvbuf, 65535); int(s.wnd) != want {
			t.Errorf("RcvBuf %d: SYN-ACK window %d, want %d", tc.rcvbuf, s.wnd, want)
		}
	}
}

// RFC 7323 §2: the peer's window is shifted by its scale except in SYNs;
// ours is announced shifted by ours; a shift above 14 is used as 14.
func TestRFC7323_WindowScalingArithmetic(t *testing.T) {
	for _, tc := range []struct {
		peerShift, used int
	}{{0, 0}, {7, 7}, {14, 14}, {15, 14}, {255, 14}} {
		h := newHarness(t, nil)
		h.po = synOpts{mss: 1460, ws: tc.peerShift}
		h.pwnd = 1000 // the SYN's window: unscaled
		h.listen(0)
		h.peerSYN()
		sa := h.next()
		h.iss, h.pnxt = sa.seq, h.irs+1
		c := h.pcbOf()
		if c.snd.WND != 1000 {
			t.Fatalf("shift %d: SND.WND %d after the SYN, want 1000 unscaled", tc.peerShift, c.snd.WND)
		}
		h.pwnd = 3
		h.ack(h.iss + 1)
		r := h.accepted[0]
		if in := r.c.Info(); int(in.SndWScale) != tc.used || in.SndWnd != 3<<tc.used {
			t.Fatalf("shift %d: SndWScale %d SndWnd %d, want %d and %d", tc.peerShift, in.SndWScale, in.SndWnd, tc.used, 3<<tc.used)
		}
		// Our window field is RCV.WND >> our shift (3 for 256 KiB).
		r.c.Write([]byte("x"), 0)
		r.c.Output()
		s := h.next()
		if want := uint16((256 << 10) >> 3); s.wnd != want {
			t.Fatalf("window field %d, want %d", s.wnd, want)
		}
	}
}

// Without the peer's WS option, neither side scales (RFC 7323 §1.3).
func TestRFC7323_NoScalingWithoutPeerOption(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	if in := r.c.Info(); in.SndWScale != -1 || in.RcvWScale != -1 {
		t.Fatalf("scaling without the option: %+v", in)
	}
	r.c.Write([]byte("x"), 0)
	r.c.Output()
	if s := h.next(); s.wnd != 65535 {
		t.Fatalf("window %d, want 65535 (256 KiB unscaled, capped)", s.wnd)
	}
	// Active open: our SYN offers WS, the SYN-ACK lacks it.
	h2 := newHarness(t, nil)
	h2.po = plainPeer
	r2 := h2.connect()
	if in := r2.c.Info(); in.RcvWScale != -1 {
		t.Fatalf("active: RcvWScale %d", in.RcvWScale)
	}
	r2.c.Write([]byte("x"), 0)
	r2.c.Output()
	if s := h2.next(); s.wnd != 65535 {
		t.Fatalf("active: window %d", s.wnd)
	}
}

// RFC 7323 §3.2, §4.3: once negotiated every segment carries TSval and
// TSecr = TS.Recent; TS.Recent takes the TSval of a segment at or before
// Last.ACK.sent, not of out-of-order ones.
func TestRFC7323_TimestampsEchoAndRecentUpdate(t *testing.T) {
	h, r := established(t, func(c *Config) { c.DelayedACK = -1 }, fullPeer)
	r.noRecved = false
	// In-order data: echoed.
	h.inject(pkt{seq: h.pnxt, ack: h.iss + 1, flags: wire.FlagACK, data: pattern(0, 100), noTS: true,
		opts: wire.TCPOptions{HasTimestamps: true, TSVal: 70000, TSEcr: h.out.lastTS}})
	h.pnxt += 100
	s := h.next()
	if !s.opts.HasTimestamps || s.opts.TSEcr != 70000 {
		t.Fatalf("ACK %v, want TSecr 70000", s)
	}
	// Out of order, newer TSval: TS.Recent stays (seq beyond Last.ACK.sent).
	h.inject(pkt{seq: h.pnxt + 100, ack: h.iss + 1, flags: wire.FlagACK, data: pattern(200, 100), noTS: true,
		opts: wire.TCPOptions{HasTimestamps: true, TSVal: 71000, TSEcr: h.out.lastTS}})
	if s := h.next(); s.opts.TSEcr != 70000 {
		t.Fatalf("dup ACK echoes %d, want 70000", s.opts.TSEcr)
	}
	// The hole filled: its TSval becomes TS.Recent.
	h.inject(pkt{seq: h.pnxt, ack: h.iss + 1, flags: wire.FlagACK, data: pattern(100, 100), noTS: true,
		opts: wire.TCPOptions{HasTimestamps: true, TSVal: 72000, TSEcr: h.out.lastTS}})
	if s := h.next(); s.opts.TSEcr != 72000 || s.ack != h.pnxt+200 {
		t.Fatalf("ACK %v, want TSecr 72000", s)
	}
	// Our TSval advances with the clock (ms).
	v0 := h.out.lastTS
	h.advance(250 * ms)
	r.c.Write([]byte("x"), 0)
	r.c.Output()
	if s := h.next(); s.opts.TSVal-v0 != 250 {
		t.Fatalf("TSval advanced %d in 250 ms", s.opts.TSVal-v0)
	}
}

// The handshake's ACK updates TS.Recent too (Last.ACK.sent is the SYN-ACK's
// ACK).
func TestRFC7323_HandshakeACKUpdatesTSRecent(t *testing.T) {
	h := newHarness(t, nil)
	h.po = fullPeer
	h.listen(0)
	h.peerSYN()
	sa := h.next()
	h.iss, h.pnxt = sa.seq, h.irs+1
	h.advance(100 * ms)
	h.inject(pkt{seq: h.pnxt, ack: h.iss + 1, flags: wire.FlagACK, noTS: true,
		opts: wire.TCPOptions{HasTimestamps: true, TSVal: 99999, TSEcr: sa.opts.TSVal}})
	r := h.accepted[0]
	r.c.Write([]byte("x"), 0)
	r.c.Output()
	if s := h.next(); s.opts.TSEcr != 99999 {
		t.Fatalf("TSecr %d, want the handshake ACK's 99999", s.opts.TSEcr)
	}
}

// RFC 7323 §5.3 PAWS: a non-RST segment whose TSval is older than TS.Recent
// is dropped and acknowledged; its data is not taken.
func TestRFC7323_PAWSDrop(t *testing.T) {
	h, r := established(t, nil, fullPeer)
	h.inject(pkt{seq: h.pnxt, ack: h.iss + 1, flags: wire.FlagACK, data: []byte("new"), noTS: true,
		opts: wire.TCPOptions{HasTimestamps: true, TSVal: 150000, TSEcr: h.out.lastTS}})
	h.pnxt += 3
	h.drain()
	// An old duplicate from a previous incarnation: in window, older TSval.
	h.inject(pkt{seq: h.pnxt, ack: h.iss + 1, flags: wire.FlagACK, data: []byte("old"), noTS: true,
		opts: wire.TCPOptions{HasTimestamps: true, TSVal: 140000, TSEcr: h.out.lastTS}})
	s := h.next()
	if s.ack != h.pnxt || s.opts.TSEcr != 150000 {
		t.Fatalf("PAWS answer %v", s)
	}
	if string(r.got) != "new" || h.l.stats.PAWSDrops != 1 {
		t.Fatalf("got %q PAWSDrops %d", r.got, h.l.stats.PAWSDrops)
	}
	// A RST is exempt from PAWS.
	h.inject(pkt{seq: h.pnxt, flags: wire.FlagRST, noTS: true,
		opts: wire.TCPOptions{HasTimestamps: true, TSVal: 1, TSEcr: 0}})
	if r.c.IsValid() {
		t.Fatal("RST with an old TSval ignored")
	}
}

// SACK-permitted is answered only when offered (RFC 2018 §2), and no SACK
// option is ever sent without it (MUST NOT).
func TestRFC2018_SACKPermittedNegotiation(t *testing.T) {
	for _, offer := range []bool{false, true} {
		h := newHarness(t, nil)
		h.po = synOpts{mss: 1460, ws: -1, sack: offer}
		h.listen(0)
		h.peerSYN()
		sa := h.next()
		if sa.opts.SACKPermitted != offer {
			t.Fatalf("offer %v: SYN-ACK %v", offer, sa)
		}
		h.iss, h.pnxt = sa.seq, h.irs+1
		h.ack(h.iss + 1)
		h.inject(pkt{seq: h.pnxt + 100, ack: h.iss + 1, flags: wire.FlagACK, data: pattern(0, 100)})
		s := h.next()
		if (s.opts.NumSACK > 0) != offer {
			t.Fatalf("offer %v: dup ACK %v", offer, s)
		}
	}
	// Our SYN always offers it (unless configured off).
	h := newHarness(t, nil)
	h.connectSYN()
	h2 := newHarness(t, func(c *Config) { c.NoSACK = true; c.NoTimestamps = true; c.NoWindowScale = true })
	h2.po = fullPeer
	r := h2.connect()
	if in := r.c.Info(); in.SACK || in.Timestamps || in.SndWScale != -1 {
		t.Fatalf("options negotiated though configured off: %+v", in)
	}
}

// RFC 2018 §4: the first block covers the segment that triggered the ACK;
// the others follow; at most 3 blocks next to timestamps, 4 without.
func TestRFC2018_SACKBlocks(t *testing.T) {
	for _, ts := range []bool{false, true} {
		o := synOpts{mss: 1460, ws: -1, sack: true, ts: ts}
		h, _ := established(t, nil, o)
		base := h.pnxt
		seg := func(k int) wire.Seq { return base + wire.Seq(k*100) }
		blocks := func(s *outSeg) []wire.SACKBlock { return s.opts.SACK[:s.opts.NumSACK] }
		send := func(k int) *outSeg {
			t.Helper()
			h.inject(pkt{seq: seg(k), ack: h.iss + 1, flags: wire.FlagACK, data: pattern(k*100, 100)})
			s := h.next()
			if s.ack != base {
				t.Fatalf("ACK %v, want %d", s, uint32(base))
			}
			return s
		}
		b := blocks(send(2))
		if len(b) != 1 || b[0] != (wire.SACKBlock{Left: seg(2), Right: seg(3)}) {
			t.Fatalf("ts %v: blocks %v", ts, b)
		}
		b = blocks(send(6))
		if len(b) != 2 || b[0].Left != seg(6) || b[1].Left != seg(2) {
			t.Fatalf("ts %v: blocks %v, want [6] first", ts, b)
		}
		b = blocks(send(4))
		if len(b) != 3 || b[0].Left != seg(4) {
			t.Fatalf("ts %v: blocks %v, want [4] first", ts, b)
		}
		// Adjacent arrival merges into the block it extends.
		b = blocks(send(3))
		if b[0] != (wire.SACKBlock{Left: seg(2), Right: seg(5)}) {
			t.Fatalf("ts %v: blocks %v, want 2–5 first", ts, b)
		}
		send(8)
		s := send(10)
		b = blocks(s)
		want := 4
		if ts {
			want = 3
		}
		if len(b) != want || b[0].Left != seg(10) {
			t.Fatalf("ts %v: %d blocks %v, want %d with 10 first", ts, len(b), b, want)
		}
		// A duplicate of data already held: the first block is the one
		// holding it (RFC 2018 §4 "the segment which triggered this ACK").
		s = send(6)
		if b := blocks(s); b[0].Left != seg(6) {
			t.Fatalf("ts %v: after a duplicate of 6: %v", ts, b)
		}
		// Filling the hole at the front: the cumulative ACK moves, blocks
		// for what is still out of order remain.
		h.inject(pkt{seq: seg(0), ack: h.iss + 1, flags: wire.FlagACK, data: pattern(0, 200)})
		s = h.next()
		if s.ack != seg(5) {
			t.Fatalf("ACK %v after the fill, want %d", s, uint32(seg(5)))
		}
		for _, bl := range blocks(s) {
			if bl.Left.LessThan(seg(5)) {
				t.Fatalf("stale block %v", bl)
			}
		}
	}
}

// MSS (RFC 9293 §3.7.1): the effective send MSS is min(peer's MSS, ours
// from the MTU); without the option 536 (MUST-15); our SYN announces
// MTU − 40 (MUST-67); the timestamp option is taken from the payload.
func TestRFC9293_MSSOption(t *testing.T) {
	for _, tc := range []struct {
		name     string
		peerMSS  uint16
		mtu      int
		ts       bool
		sendMSS  int
		announce uint16
		payload  int
	}{
		{"peer smaller", 1000, 1500, false, 1000, 1460, 1000},
		{"peer larger", 9000, 1500, false, 1460, 1460, 1460},
		{"no option", 0, 1500, false, 536, 1460, 536},
		{"small MTU", 1460, 576, false, 536, 536, 536},
		{"timestamps", 1460, 1500, true, 1460, 1460, 1448},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.out.mtu = tc.mtu
			h.po = synOpts{mss: tc.peerMSS, ws: -1, ts: tc.ts}
			h.listen(0)
			h.peerSYN()
			sa := h.next()
			if sa.opts.MSS != tc.announce {
				t.Fatalf("announced MSS %d, want %d", sa.opts.MSS, tc.announce)
			}
			h.iss, h.pnxt, h.pts = sa.seq, h.irs+1, tc.ts
			h.ack(h.iss + 1)
			r := h.accepted[0]
			if r.c.MSS() != tc.sendMSS {
				t.Fatalf("MSS() %d, want %d", r.c.MSS(), tc.sendMSS)
			}
			r.c.Write(pattern(0, 5000), 0)
			r.c.Output()
			s := h.next()
			if len(s.data) != tc.payload {
				t.Fatalf("first segment %d bytes, want %d", len(s.data), tc.payload)
			}
			if s.opts.MSS != 0 {
				t.Fatal("MSS option on a non-SYN segment (MUST-65)")
			}
		})
	}
}

// Options the Layer does not know are skipped; unaligned options parse
// (MUST-5, MUST-6, MUST-64).
func TestRFC9293_UnknownAndUnalignedOptions(t *testing.T) {
	h := newHarness(t, nil)
	h.listen(0)
	// kind 30 (MPTCP) len 6, then an unaligned MSS of 512, then EOL.
	opts := []byte{30, 6, 1, 2, 3, 4, 2, 4, 0x02, 0x00, 0, 0}
	h.injectRaw(rawSeg(wire.TCPHeader{SrcPort: peerPort, DstPort: srvPort, Seq: 100, Flags: wire.FlagSYN, Window: 1000}, opts, nil))
	s := h.next()
	if s.flags != wire.FlagSYN|wire.FlagACK {
		t.Fatalf("got %v", s)
	}
	if c := h.pcbOf(); c == nil || c.snd.mss != 512 {
		t.Fatalf("unaligned MSS option not used")
	}
}

// An option with an illegal length (0, 1, or past the header) is survived:
// the segment is dropped and counted, nothing else happens (MUST-7).
func TestRFC9293_IllegalOptionLength(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	for _, opts := range [][]byte{
		{2, 0, 0, 0},       // MSS with length 0
		{30, 1, 0, 0},      // length 1
		{1, 1, 8, 200},     // timestamps running past the header
		{3, 4, 7, 0},       // window scale with the wrong length
		{5, 6, 1, 2, 3, 4}, // SACK not a multiple of 8
	} {
		o := append(opts, make([]byte, (4-len(opts)%4)%4)...)
		h.injectRaw(rawSeg(wire.TCPHeader{SrcPort: peerPort, DstPort: srvPort, Seq: h.pnxt, Ack: h.iss + 1,
			Flags: wire.FlagACK, Window: 1000}, o, []byte("data")))
	}
	h.expectNothing()
	if len(r.got) != 0 || r.c.State() != Established || h.l.stats.ProtErr != 5 {
		t.Fatalf("got %q state %v ProtErr %d", r.got, r.c.State(), h.l.stats.ProtErr)
	}
}

// IP options in front of the segment are skipped (MUST-50).
func TestRFC9293_IPOptionsIgnored(t *testing.T) {
	h := newHarness(t, nil)
	h.listen(0)
	seg := rawSeg(wire.TCPHeader{SrcPort: peerPort, DstPort: srvPort, Seq: 100, Flags: wire.FlagSYN, Window: 1000}, nil, nil)
	t2 := wire.TCP(seg)
	t2.SetChecksum(wire.Fold(wire.Checksum(t2, wire.PseudoHeaderSum(ipB, ipA, wire.ProtoTCP, len(t2)))))
	b, _ := h.pool.Alloc(0, 24+len(seg))
	ip := wire.IPv4(b.Bytes())
	ih := wire.IPv4Header{TotalLen: 24 + len(seg), TTL: 64, Protocol: wire.ProtoTCP, Src: ipB, Dst: ipA}
	ih.Encode(ip)
	ip[0] = 0x46                      // IHL 6
	copy(ip[20:], []byte{1, 1, 1, 0}) // NOP NOP NOP EOL
	copy(ip[24:], seg)
	ip.UpdateChecksum()
	h.l.Input(b, ip)
	h.expect(wire.FlagSYN|wire.FlagACK, h.next2(t).seq, 101)
}

// next2 peeks at the next segment without removing it.
func (h *harness) next2(t *testing.T) *outSeg {
	t.Helper()
	if len(h.out.segs) == 0 {
		t.Fatal("no segment")
	}
	return &h.out.segs[0]
}

// SetTOS sets the IP type of service of the connection's segments (MUST-48).
func TestSetTOS(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	r.c.SetTOS(0xb8)
	r.c.Write([]byte("x"), 0)
	r.c.Output()
	if s := h.next(); s.tos != 0xb8 {
		t.Fatalf("TOS %#x", s.tos)
	}
}
