package netsim

import (
	"testing"
	"time"

	"github.com/lwgo/lwgo/netif/fault"
	"github.com/lwgo/lwgo/rawapi"
)

// segPayload is the payload of a full segment with timestamps: MSS 1460
// less the 12-byte timestamp option (RFC 7323 §3.2).
const segPayload = 1448

// dropNth returns a drop filter that drops the first times transmissions
// of the data segment starting at relative sequence number rel.
func dropNth(rel uint32, times int) func(segment, uint32) bool {
	n := 0
	return func(seg segment, r uint32) bool {
		if seg.payload > 0 && r == rel && n < times {
			n++
			return true
		}
		return false
	}
}

// exchange runs one connection that moves n bytes each way at once and
// returns its two ends once both finished within bound.
func exchange(t *testing.T, s *sim, n int64, bound rawapi.Duration) (cli, srv *peer) {
	t.Helper()
	cli = s.newPeer("client", flow{send: n, recv: n, sendSeed: 1, recvSeed: 2})
	srv = s.newPeer("server", flow{send: n, recv: n, sendSeed: 2, recvSeed: 1})
	s.listen(4, func(c rawapi.TCP) *peer { return srv })
	s.dial(cli)
	s.run("exchange", bound+rawapi.Second, func() bool { return cli.finished() && srv.finished() })
	checkPair(t, cli, srv, bound)
	return cli, srv
}

// TestRFC6691_DataSegmentsCarryingSACKBlocksFitTheMTU: when a stack that
// holds out-of-order data sends full-sized data segments, the SACK blocks
// it adds must come out of the payload, not push the datagram past the
// MTU (RFC 6691 §2: "the sender must reduce the data by the option
// length"; RFC 2018 §3). Each way 30 segments; B→A loses its sixth data
// segment once, so A sends SACK blocks while it still sends data. A full
// segment with TS and one SACK block would be 20+20+12+12+1448 = 1512
// bytes: IP drops it (DF, counted in IPDrop.FragDF), and the connection
// stalls until the hole is filled.
func TestRFC6691_DataSegmentsCarryingSACKBlocksFitTheMTU(t *testing.T) {
	s := newSim(t, simConfig{stack: bulkStack(), dropBA: dropNth(1+5*segPayload, 1)})
	exchange(t, s, 30*segPayload, 500*rawapi.Millisecond)
	for _, x := range []struct {
		name string
		tp   *tap
	}{{"A", s.ta}, {"B", s.tb}} {
		if x.tp.counts.maxIPLen > 1500 {
			t.Errorf("%s sent a %d-byte IP datagram on a 1500-byte MTU", x.name, x.tp.counts.maxIPLen)
		}
	}
	if s.wb.counts.dropped != 1 {
		t.Errorf("the test dropped %d segments, want 1 (the scenario did not happen)", s.wb.counts.dropped)
	}
	s.finish()
}

// TestRFC5681_4_2_PureACKBeyondAHoleDrawsNoACK: an out-of-order data
// segment draws an immediate duplicate ACK (RFC 5681 §4.2), but a segment
// without data or FIN never draws an ACK when it is acceptable (RFC 9293
// §3.10.7.4 sends ACKs only for unacceptable segments). Otherwise two
// stacks that both hold a hole answer each other's pure ACKs forever: an
// ACK war, one ACK each way per round trip until a loss ends it.
//
// Each way 30 segments at once; each direction loses its sixth data
// segment and that segment's first retransmission, so both holes stay
// open until a retransmission timeout (at least 200 ms, 20,000 round trips
// of the bare wire). Then each stack's pure ACKs carry a sequence number
// beyond the other's hole. The pure ACKs on the wire must stay of the
// order of the data segments received, not of the round trips.
func TestRFC5681_4_2_PureACKBeyondAHoleDrawsNoACK(t *testing.T) {
	rel := uint32(1 + 5*segPayload)
	s := newSim(t, simConfig{stack: bulkStack(), dropAB: dropNth(rel, 2), dropBA: dropNth(rel, 2)})
	exchange(t, s, 30*segPayload, 2*rawapi.Second)
	if s.wa.counts.dropped != 2 || s.wb.counts.dropped != 2 {
		t.Errorf("the test dropped %d A→B and %d B→A segments, want 2 and 2 (the scenario did not happen)",
			s.wa.counts.dropped, s.wb.counts.dropped)
	}
	acks := s.ta.counts.pureACKs + s.tb.counts.pureACKs
	data := s.ta.counts.data + s.tb.counts.data
	if acks > data+8 {
		t.Errorf("%d pure ACKs for %d data segments: pure ACKs answered with pure ACKs (ACK war)", acks, data)
	}
	t.Logf("%d data segments, %d pure ACKs (A %d, B %d)", data, acks, s.ta.counts.pureACKs, s.tb.counts.pureACKs)
	s.finish()
}

// TestRFC9293_3_10_7_4_ACKsAfterBothSidesTimedOutAreAcceptable: when both
// ends time out at once after their ACKs were lost, each retransmits old
// data the other already has. The other drops it as a duplicate and
// answers with an ACK, and that ACK must be acceptable to the sender:
// RFC 9293 §3.10.7.4 accepts a zero-length segment only if RCV.NXT ≤ SEG.SEQ,
// so an ACK must carry the highest sequence number sent (SND.MAX, Linux's
// tcp_acceptable_seq), not a SND.NXT that go-back-N rewound to SND.UNA.
// Otherwise each end discards the other's ACKs as old duplicates, answers
// them with equally old ones, and the connection never moves again until
// MaxRetries kill it.
//
// Setup: 50 ms each way. After the handshake both ends write 10 segments
// at the same instant; every pure ACK sent in the next 150 ms is dropped,
// so both data flights arrive but neither is acknowledged. Both
// retransmission timers (about 6 × 50 ms) fire together.
func TestRFC9293_3_10_7_4_ACKsAfterBothSidesTimedOutAreAcceptable(t *testing.T) {
	const d = 50 * rawapi.Millisecond
	var s *sim
	var dropFrom, dropTo rawapi.Time = rawapi.Never, rawapi.Never
	dropACKs := func(seg segment, _ uint32) bool {
		now := s.clk.Now()
		return seg.payload == 0 && seg.flags&^0x08 == 0x10 && now >= dropFrom && now < dropTo
	}
	s = newSim(t, simConfig{stack: bulkStack(),
		ab: fault.Config{Delay: d}, ba: fault.Config{Delay: d}, dropAB: dropACKs, dropBA: dropACKs})
	const n = 10 * segPayload
	cli := s.newPeer("client", flow{send: n, recv: n, sendSeed: 1, recvSeed: 2})
	srv := s.newPeer("server", flow{send: n, recv: n, sendSeed: 2, recvSeed: 1})
	cli.hold, srv.hold = true, true
	s.listen(4, func(c rawapi.TCP) *peer { return srv })
	s.dial(cli)
	s.run("handshake", 2*rawapi.Second, func() bool { return cli.isOpen && srv.isOpen })
	s.runFor(d) // the handshake's last ACK is on its way; let it land
	start := s.clk.Now()
	dropFrom, dropTo = start, start.Add(3*d)
	cli.hold, srv.hold = false, false
	cli.pump(cli.c)
	srv.pump(srv.c)
	const bound = 3 * rawapi.Second
	s.run("exchange after simultaneous timeouts", bound, func() bool { return cli.finished() && srv.finished() })
	checkPair(t, cli, srv, bound+s.clk.Now().Sub(start))
	if s.wa.counts.dropped == 0 || s.wb.counts.dropped == 0 {
		t.Errorf("the test dropped %d A→B and %d B→A pure ACKs, want some each way (the scenario did not happen)",
			s.wa.counts.dropped, s.wb.counts.dropped)
	}
	t.Logf("done %v after the writes; dropped %d+%d ACKs", time.Duration(s.clk.Now().Sub(start)), s.wa.counts.dropped, s.wb.counts.dropped)
	s.finish()
}
