package tcp

import (
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/wire"
)

// Urgent data (RFC 9293 §3.8.5, with RFC 6093's clarifications). The urgent
// pointer points at the octet that follows the urgent data. Urgent data is
// delivered inline, in sequence with the rest (RFC 6093 §6: the only
// interoperable way); what urgent mode adds is the signal: an application
// whose Handler also implements UrgentHandler is told when the urgent
// pointer moves beyond what it was handed (MUST-32), and Conn.Urgent tells
// how much urgent data it has yet to receive (MUST-33). Writing with
// WriteUrgent makes the written bytes urgent: segments carry URG and the
// pointer until they are acknowledged (MUST-30, MUST-31: any length; a
// pointer beyond 65535 octets is sent as 65535 until it comes in reach).

// UrgentHandler is implemented by a Handler that wants urgent-data signals.
type UrgentHandler interface {
	// Urgent reports that the peer's urgent pointer moved: n bytes of
	// urgent data, counted from the next byte Recv will deliver, are still
	// to come (inline, through Recv). The return value is ignored but for
	// ErrAbort, which says the connection was aborted.
	Urgent(c Conn, n int) error
}

// urgentInput runs RFC 9293 §3.10.7.4's sixth step: the URG bit.
func (l *Layer) urgentInput(c *pcb) {
	in := &l.in
	if c.flags&fUrgent != 0 && c.urgentPending() == 0 {
		c.flags &^= fUrgent // all of it delivered: urgent mode ends
	}
	if !in.flags.Has(wire.FlagURG) || c.flags&fFinRcvd != 0 {
		return // RFC 9293: ignore URG after the FIN
	}
	up := in.seq.Add(wire.Size(in.t.Urgent()))
	if !c.rcv.NXT.LessThan(up) {
		return // points at data already received: nothing new
	}
	if c.flags&fUrgent != 0 && !c.rcv.UP.LessThan(up) {
		return // RCV.UP ← max(RCV.UP, SEG.UP): no advance
	}
	c.rcv.UP = up
	c.flags |= fUrgent | fUrgentOwed
	l.stats.UrgentIn++
}

// urgentPending returns the urgent bytes the application has not yet been
// handed: from the next byte Recv delivers up to RCV.UP.
func (c *pcb) urgentPending() int {
	if c.flags&fUrgent == 0 {
		return 0
	}
	next := c.rcv.NXT.Add(wire.Size(-c.rcv.readyLen))
	if !next.LessThan(c.rcv.UP) {
		return 0
	}
	return int(c.rcv.UP.Sub(next))
}

// signalUrgent runs the application's Urgent callback when one is owed. It
// reports whether the connection survived.
func (l *Layer) signalUrgent(c *pcb) bool {
	if c.flags&fUrgentOwed == 0 {
		return true
	}
	c.flags &^= fUrgentOwed
	uh, ok := c.handler.(UrgentHandler)
	if !ok || c.flags&fDetached != 0 {
		return true
	}
	gen := c.gen
	err := uh.Urgent(l.handle(c), c.urgentPending())
	return err != errs.ErrAbort && c.used && c.gen == gen
}

// Urgent returns how many bytes of urgent data the peer sent that Recv has
// not delivered yet (0: none pending). MUST-33.
func (h Conn) Urgent() int {
	c := h.pcb()
	if c == nil {
		return 0
	}
	return c.urgentPending()
}

// urgentField returns the URG flag and pointer for a segment at seq, while
// our urgent data is unacknowledged.
func (c *pcb) urgentField(seq wire.Seq) (wire.TCPFlags, uint16) {
	if c.flags&fSndUrgent == 0 {
		return 0, 0
	}
	if !c.snd.UNA.LessThan(c.snd.UP) {
		c.flags &^= fSndUrgent // all urgent data acknowledged: urgent mode ends
		return 0, 0
	}
	if !seq.LessThan(c.snd.UP) {
		return 0, 0
	}
	return wire.FlagURG, uint16(min(uint32(c.snd.UP.Sub(seq)), 0xffff))
}
