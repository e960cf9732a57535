package tcp

// Send and receive queues: the send budget, WriteNoCopy, out-of-order
// bounds.

import (
	"bytes"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

// oooSend injects 100 bytes k hundred bytes past the peer's next sequence
// number.
func oooSend(h *harness, k int) {
	h.t.Helper()
	h.inject(pkt{seq: h.pnxt + wire.Seq(k*100), ack: h.iss + 1, flags: wire.FlagACK, data: pattern(k*100, 100)})
}

// The out-of-order queue holds at most OOSeqMaxBufs segments per connection.
func TestOOSeqBoundedPerConnection(t *testing.T) {
	h, r := established(t, func(c *Config) { c.OOSeqMaxBufs = 4 }, plainPeer)
	for k := 1; k <= 11; k += 2 {
		oooSend(h, k) // 1, 3, 5, 7, 9, 11: six islands
	}
	c := h.pcbOf()
	if c.rcv.ooCount != 4 || h.l.stats.OOSeqDrops != 2 {
		t.Fatalf("held %d dropped %d, want 4 and 2", c.rcv.ooCount, h.l.stats.OOSeqDrops)
	}
	// Fill everything in order: all of it is delivered.
	h.drain()
	h.inject(pkt{seq: h.pnxt, ack: h.iss + 1, flags: wire.FlagACK, data: pattern(0, 1200)})
	if !bytes.Equal(r.got, pattern(0, 1200)) {
		t.Fatalf("got %d bytes", len(r.got))
	}
	checkInvariants(t, h.l)
	r.c.Abort()
	checkClean(t, h.l, h.pool)
}

// All connections together hold at most OOSeqGlobal out-of-order buffers.
func TestOOSeqBoundedGlobally(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.OOSeqMaxBufs = 4; c.OOSeqGlobal = 5 })
	h.po = plainPeer
	r1 := h.acceptConn()
	p1, iss1 := h.pnxt, h.iss
	for k := 1; k <= 7; k += 2 {
		oooSend(h, k)
	}
	h.drain()
	h.pport++
	h.irs = 90000
	r2 := h.acceptConn()
	for k := 1; k <= 7; k += 2 {
		oooSend(h, k)
	}
	c2 := h.pcbOf()
	if h.l.ooseq != 5 || c2.rcv.ooCount != 1 {
		t.Fatalf("held %d in all, %d by the second connection; want 5 and 1", h.l.ooseq, c2.rcv.ooCount)
	}
	checkInvariants(t, h.l)
	// Freed by the first connection's gap fill, room comes back.
	h.pport--
	h.pnxt, h.iss = p1, iss1
	h.inject(pkt{seq: h.pnxt, ack: h.iss + 1, flags: wire.FlagACK, data: pattern(0, 100)})
	if h.l.ooseq != 4 {
		t.Fatalf("ooseq %d after a partial fill", h.l.ooseq)
	}
	r1.c.Abort()
	r2.c.Abort()
	checkClean(t, h.l, h.pool)
}

// The honest send budget: a Write of exactly SendBuffer() bytes succeeds; one
// byte more fails with ErrMem and changes nothing; whatever the pool
// pressure and the tail room of the last queued buffer.
func TestSendBufferIsHonest(t *testing.T) {
	h, r := established(t, func(c *Config) { c.SndBuf = 64 << 10; c.ReserveBufs = 8 }, plainPeer)
	c := h.pcbOf()
	var held []*pbuf.Buf
	rnd := uint32(7)
	next := func(n int) int {
		rnd = rnd*1664525 + 1013904223
		return int(rnd>>8) % n
	}
	for round := range 400 {
		// Vary the pool pressure.
		switch next(4) {
		case 0:
			for range next(40) {
				if h.pool.Available() <= 2 {
					break // leave the peer's segments a buffer
				}
				if b, err := h.pool.Alloc(pbuf.LayerRaw, 10); err == nil {
					held = append(held, b)
				}
			}
		case 1:
			for len(held) > 0 && next(3) > 0 {
				held[len(held)-1].Free()
				held = held[:len(held)-1]
			}
		}
		n := r.c.SendBuffer()
		if n > 0 {
			q, avail, nodes := c.snd.queued, h.pool.Available(), h.l.nodesFree
			if err := r.c.Write(make([]byte, n+1), 0); err != errs.ErrMem {
				t.Fatalf("round %d: Write(SendBuffer()+1 = %d): %v, want ErrMem", round, n+1, err)
			}
			if c.snd.queued != q || h.pool.Available() != avail || h.l.nodesFree != nodes {
				t.Fatalf("round %d: the failed Write changed the queue", round)
			}
			k := n
			if next(2) == 0 {
				k = 1 + next(n) // sometimes less, to leave tail room
			}
			if err := r.c.Write(pattern(0, k), WriteMore); err != nil {
				t.Fatalf("round %d: Write(%d) with SendBuffer() = %d (pool %d free): %v", round, k, n, h.pool.Available(), err)
			}
		}
		if next(3) == 0 {
			r.c.Output()
			h.drain()
			h.ack(c.snd.NXT) // acknowledge what was sent
		}
		checkInvariants(t, h.l)
	}
	for _, b := range held {
		b.Free()
	}
	r.c.Abort()
	checkClean(t, h.l, h.pool)
}

// The budget counts the send buffer limit exactly.
func TestSendBufferLimit(t *testing.T) {
	h, r := established(t, func(c *Config) { c.SndBuf = 10000 }, plainPeer)
	if n := r.c.SendBuffer(); n != 10000 {
		t.Fatalf("SendBuffer %d", n)
	}
	if err := r.c.Write(make([]byte, 10001), 0); err != errs.ErrMem {
		t.Fatal(err)
	}
	if err := r.c.Write(make([]byte, 10000), 0); err != nil {
		t.Fatal(err)
	}
	if r.c.SendBuffer() != 0 || r.c.SendQueueLen() != 10000 {
		t.Fatalf("SendBuffer %d queue %d", r.c.SendBuffer(), r.c.SendQueueLen())
	}
	r.c.Output()
	h.drain()
	h.ack(h.iss + 5001)
	if n := r.c.SendBuffer(); n != 5000 || r.sent != 5000 {
		t.Fatalf("after 5000 acknowledged: SendBuffer %d Sent %d", n, r.sent)
	}
}

// With the pool down to its reserve, only the tail room of the last queued
// buffer is offered, and exactly that can be written.
func TestSendBufferPoolNearlyExhausted(t *testing.T) {
	h, r := established(t, func(c *Config) { c.ReserveBufs = 8 }, plainPeer)
	r.c.Write(pattern(0, 100), WriteMore)
	var held []*pbuf.Buf
	for h.pool.Available() > 8 {
		b, _ := h.pool.Alloc(pbuf.LayerRaw, 1)
		held = append(held, b)
	}
	want := testPoolSlot - 100
	if n := r.c.SendBuffer(); n != want {
		t.Fatalf("SendBuffer %d, want the tail room %d", n, want)
	}
	if err := r.c.Write(make([]byte, want+1), 0); err != errs.ErrMem {
		t.Fatal(err)
	}
	if err := r.c.Write(make([]byte, want), 0); err != nil {
		t.Fatal(err)
	}
	if h.pool.Available() != 8 {
		t.Fatalf("a write took the reserve: %d free", h.pool.Available())
	}
	// The reserve still serves segments and ACKs.
	r.c.Output()
	if len(h.drain()) == 0 {
		t.Fatal("nothing sent from the reserve")
	}
	for _, b := range held {
		b.Free()
	}
}

// WriteNoCopy references the caller's memory until it is acknowledged: a
// retransmission reads it again; after the ACK nothing refers to it.
func TestWriteNoCopyReferencesUntilAcked(t *testing.T) {
	h, r := established(t, func(c *Config) { c.MinRTO = clock.Second }, plainPeer)
	mem := []byte("hello world")
	if err := r.c.Write(mem, WriteNoCopy); err != nil {
		t.Fatal(err)
	}
	if h.l.nocopy != 1 {
		t.Fatalf("nocopy %d", h.l.nocopy)
	}
	r.c.Output()
	if s := h.next(); string(s.data) != "hello world" {
		t.Fatalf("sent %q", s.data)
	}
	mem[0] = 'J' // not allowed by the contract; shows the reference
	h.advance(clock.Second)
	if s := h.next(); string(s.data) != "Jello world" {
		t.Fatalf("retransmitted %q: the queue did not reference the caller's memory", s.data)
	}
	h.ack(h.iss + 7)
	if h.l.nocopy != 1 || r.c.SendQueueLen() != 5 {
		t.Fatalf("partial ACK: nocopy %d queue %d", h.l.nocopy, r.c.SendQueueLen())
	}
	h.ack(h.iss + 12)
	if h.l.nocopy != 0 || r.c.SendQueueLen() != 0 || r.sent != 11 {
		t.Fatalf("after the ACK: nocopy %d queue %d sent %d", h.l.nocopy, r.c.SendQueueLen(), r.sent)
	}
	// Mixed with copied writes, in order.
	r.c.SetNoDelay(true)
	r.c.Write([]byte("ab"), WriteMore)
	r.c.Write([]byte("cd"), WriteNoCopy|WriteMore)
	r.c.Write([]byte("ef"), 0)
	r.c.Output()
	if s := h.next(); string(s.data) != "abcdef" {
		t.Fatalf("sent %q", s.data)
	}
	checkInvariants(t, h.l)
}

// WriteNoCopy is bounded by the send buffer like any write.
func TestWriteNoCopyBudget(t *testing.T) {
	_, r := established(t, func(c *Config) { c.SndBuf = 100 }, plainPeer)
	if err := r.c.Write(make([]byte, 101), WriteNoCopy); err != errs.ErrMem {
		t.Fatal(err)
	}
	if err := r.c.Write(make([]byte, 100), WriteNoCopy); err != nil {
		t.Fatal(err)
	}
	if r.c.SendBuffer() != 0 {
		t.Fatal(r.c.SendBuffer())
	}
}

// Received data stays in the buffers it arrived in until Recved; the pool
// and nodes all come back after a bulk receive and close.
func TestReceiveBuffersReturned(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	for i := range 50 {
		h.send(h.iss+1, pattern(i*1000, 1000), 0)
	}
	if !bytes.Equal(r.got, pattern(0, 50000)) {
		t.Fatal("data")
	}
	h.send(h.iss+1, nil, wire.FlagFIN)
	r.c.Close()
	h.drain()
	h.ack(h.iss + 2)
	checkClean(t, h.l, h.pool)
}

// A segment that found no buffer is sent when the timer fires, even with
// nothing in flight; so is an owed ACK.
func TestOutputRetriedAfterPoolExhaustion(t *testing.T) {
	h, r := established(t, nil, plainPeer)
	r.c.Write([]byte("later"), 0)
	var held []*pbuf.Buf
	for {
		b, err := h.pool.Alloc(pbuf.LayerRaw, 1)
		if err != nil {
			break
		}
		held = append(held, b)
	}
	r.c.Output()
	h.expectNothing()
	if h.l.NextDeadline() == clock.Never {
		t.Fatal("no timer to retry the send")
	}
	for _, b := range held {
		b.Free()
	}
	h.advance(h.pcbOf().rtt.rto)
	s := h.next()
	if string(s.data) != "later" {
		t.Fatalf("sent %v", s)
	}
	if h.pcbOf().retries != 0 || h.l.stats.Timeouts != 0 {
		t.Fatalf("a failed allocation counted as a retransmission timeout")
	}
}
