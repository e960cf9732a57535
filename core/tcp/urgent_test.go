package tcp

// Urgent data (RFC 9293 §3.8.5, RFC 6093).

import (
	"bytes"
	"testing"

	"github.com/lwgo/lwgo/core/wire"
)

// urgentRec is a rec that records urgent signals and what Recv had
// delivered when each came.
type urgentRec struct {
	*rec
	signals []int
	gotAt   []int
}

func (u *urgentRec) Urgent(c Conn, n int) error {
	u.signals = append(u.signals, n)
	u.gotAt = append(u.gotAt, len(u.got))
	return nil
}

// MUST-32, MUST-33: the application is told when the urgent pointer moves
// beyond what it was handed, before the data (delivered inline) reaches
// Recv, and Conn.Urgent says how much urgent data is still to come; a
// repeated pointer signals nothing.
func TestRFC9293_3_8_5_UrgentPointerSignalsTheApplication(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	u := &urgentRec{rec: r}
	r.c.SetHandler(u)
	start := h.pnxt
	// 100 bytes, of which the first 60 are urgent (pointer = SEG.SEQ+60:
	// the octet after the urgent data).
	h.inject(pkt{seq: h.pnxt, ack: h.iss + 1, flags: wire.FlagACK | wire.FlagURG, data: pattern(0, 100), urgent: 60})
	h.pnxt = h.pnxt.Add(100)
	if len(u.signals) != 1 || u.signals[0] != 60 || u.gotAt[0] != 0 {
		t.Fatalf("signals %v (delivered before each: %v), want [60] before any data", u.signals, u.gotAt)
	}
	if !bytes.Equal(u.got, pattern(0, 100)) || r.c.Urgent() != 0 {
		t.Fatalf("inline data %d bytes, urgent pending %d", len(u.got), r.c.Urgent())
	}
	// The same pointer again: nothing new.
	h.inject(pkt{seq: start, ack: h.iss + 1, flags: wire.FlagACK | wire.FlagURG, urgent: 60})
	// A pointer beyond the segment: urgent data continues past it.
	h.inject(pkt{seq: h.pnxt, ack: h.iss + 1, flags: wire.FlagACK | wire.FlagURG, data: pattern(100, 10), urgent: 500})
	h.pnxt = h.pnxt.Add(10)
	if len(u.signals) != 2 || u.signals[1] != 500 || r.c.Urgent() != 490 || h.l.Stats().UrgentIn != 2 {
		t.Fatalf("signals %v, pending %d, count %d", u.signals, r.c.Urgent(), h.l.Stats().UrgentIn)
	}
}

// MUST-30, MUST-31: urgent data written with WriteUrgent goes out at once
// with URG and a pointer to the octet after it, on every segment before
// it, until it is acknowledged; then urgent mode ends.
func TestRFC9293_3_8_5_WriteUrgentSendsTheUrgentPointer(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	r.c.Write(pattern(0, 2*smss), WriteMore)
	r.c.Write([]byte("!!"), WriteUrgent)
	r.c.Output()
	up := h.iss + 1 + wire.Seq(2*smss+2)
	segs := h.drain()
	if len(segs) != 3 {
		t.Fatalf("%d segments, want 3", len(segs))
	}
	for _, s := range segs {
		if !s.flags.Has(wire.FlagURG) || s.seq.Add(wire.Size(s.urgent)) != up {
			t.Fatalf("%v: URG %v pointer %d, want SEG.SEQ+pointer = %d", &s, s.flags.Has(wire.FlagURG), s.urgent, uint32(up))
		}
	}
	h.ack(up)
	r.c.Write([]byte("plain"), 0)
	r.c.Output()
	if s := h.next(); s.flags.Has(wire.FlagURG) {
		t.Fatalf("URG after the urgent data was acknowledged: %v", s)
	}
}
