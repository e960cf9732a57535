package netsim

import (
	"fmt"
	"testing"
	"time"

	"github.com/lwgo/lwgo/netif/fault"
	"github.com/lwgo/lwgo/rawapi"
)

// faultCase is one row of the fault matrix: what impairs A→B and B→A
// (independently, with their own seeds), and the virtual time within which
// every connection of the case must finish, for the full-size run (64 MiB
// each way) and the short one (4 MiB). The bounds were set from measured
// virtual times (in the comments: ranges over the core/tcp revisions they
// were measured on while core/tcp was being fixed) with a margin of two or
// more.
type faultCase struct {
	name        string
	ab, ba      fault.Config
	bound       rawapi.Duration // 64 MiB each way
	shortBound  rawapi.Duration // 4 MiB each way
	checksummed bool            // corruption: the checksums must have caught some
}

// faultSmallConns is the number of small connections (16 to 64 KiB each
// way, all three close patterns) that run beside the bulk connection in
// each case, so that handshakes and closes meet the faults too.
const faultSmallConns = 48

var faultMatrix = []faultCase{
	{
		name: "loss-0%",
		// measured: 2.8 ms (4 MiB: 0.26 ms); a single retransmission
		// timeout (200 ms at least) breaks the bound.
		bound: 100 * rawapi.Millisecond, shortBound: 100 * rawapi.Millisecond,
	},
	{
		name: "loss-1%",
		ab:   fault.Config{Seed: 11, DropRate: 0.01},
		ba:   fault.Config{Seed: 12, DropRate: 0.01},
		// measured: 1.6–4.4 s (4 MiB: 0.4–1.0 s, small connections up to 1.6 s).
		bound: 15 * rawapi.Second, shortBound: 5 * rawapi.Second,
	},
	{
		name: "loss-5%",
		ab:   fault.Config{Seed: 21, DropRate: 0.05},
		ba:   fault.Config{Seed: 22, DropRate: 0.05},
		// measured: 119–124 s (4 MiB: 10.3–10.7 s, small connections up
		// to 5.5 s): on a 10 µs path every loss that fast recovery cannot
		// repair costs a 200 ms-or-more timeout (about 530 each way).
		bound: 300 * rawapi.Second, shortBound: 30 * rawapi.Second,
	},
	{
		name: "reorder-25%",
		ab:   fault.Config{Seed: 31, ReorderRate: 0.25},
		ba:   fault.Config{Seed: 32, ReorderRate: 0.25},
		// measured: 3–18 ms (4 MiB: 0.3 ms).
		bound: 200 * rawapi.Millisecond, shortBound: 100 * rawapi.Millisecond,
	},
	{
		name: "duplicate-5%",
		ab:   fault.Config{Seed: 41, DuplicateRate: 0.05},
		ba:   fault.Config{Seed: 42, DuplicateRate: 0.05},
		// measured: 4.9 ms (4 MiB: 0.7 ms).
		bound: 100 * rawapi.Millisecond, shortBound: 100 * rawapi.Millisecond,
	},
	{
		// One bit flipped anywhere in the IP header, TCP header or payload.
		name: "corrupt-ip+tcp-2%",
		ab:   fault.Config{Seed: 51, CorruptRate: 0.02, CorruptOffset: 14},
		ba:   fault.Config{Seed: 52, CorruptRate: 0.02, CorruptOffset: 14},
		// measured: 14.6–17.2 s (4 MiB: 0.6–1.0 s, small connections up to 1.4 s).
		bound: 45 * rawapi.Second, shortBound: 5 * rawapi.Second, checksummed: true,
	},
	{
		// One bit flipped past the IP header: only the TCP checksum can tell.
		name: "corrupt-tcp-2%",
		ab:   fault.Config{Seed: 61, CorruptRate: 0.02, CorruptOffset: 34},
		ba:   fault.Config{Seed: 62, CorruptRate: 0.02, CorruptOffset: 34},
		// measured: 14.8–18.8 s (4 MiB: 0.85–1.2 s, small connections up to 1.6 s).
		bound: 45 * rawapi.Second, shortBound: 5 * rawapi.Second, checksummed: true,
	},
	{
		// 10 ms ± 5 ms each way: a 20–30 ms round trip, and frames overtake
		// one another.
		name: "delay-10ms-jitter-5ms",
		ab:   fault.Config{Seed: 71, Delay: 10 * rawapi.Millisecond, Jitter: 5 * rawapi.Millisecond},
		ba:   fault.Config{Seed: 72, Delay: 10 * rawapi.Millisecond, Jitter: 5 * rawapi.Millisecond},
		// measured: 147–175 s (4 MiB: 10.8–11.2 s): jitter reorders nearly
		// every flight, and Reno without reordering detection answers
		// with spurious fast retransmits (2,700–4,400 each way), halving
		// its window each time; PAWS drops the late originals.
		bound: 360 * rawapi.Second, shortBound: 30 * rawapi.Second,
	},
	{
		// A 100 Mbit/s token-bucket policer (20 ms burst) and 1 ms each way.
		name: "rate-100Mbps-delay-1ms",
		ab:   fault.Config{Seed: 81, RateLimit: 12_500_000, Delay: rawapi.Millisecond},
		ba:   fault.Config{Seed: 82, RateLimit: 12_500_000, Delay: rawapi.Millisecond},
		// measured: 38–60 s (4 MiB: 1.1–3.5 s), against 5.4 s at line
		// rate: a policer drops bursts rather than queueing them.
		bound: 150 * rawapi.Second, shortBound: 10 * rawapi.Second,
	},
	{
		// Everything at once.
		name: "mixed",
		ab: fault.Config{Seed: 91, DropRate: 0.01, ReorderRate: 0.01, DuplicateRate: 0.01, CorruptRate: 0.01,
			CorruptOffset: 14, Delay: 2 * rawapi.Millisecond, Jitter: rawapi.Millisecond},
		ba: fault.Config{Seed: 92, DropRate: 0.01, ReorderRate: 0.01, DuplicateRate: 0.01, CorruptRate: 0.01,
			CorruptOffset: 14, Delay: 2 * rawapi.Millisecond, Jitter: rawapi.Millisecond},
		// measured: 82–88 s (4 MiB: 5.2–5.6 s).
		bound: 200 * rawapi.Second, shortBound: 15 * rawapi.Second, checksummed: true,
	},
}

// TestFaultMatrixHeavy64MiB runs each fault case: one connection moving
// 64 MiB each way at once (4 MiB with -short or under the race detector)
// beside faultSmallConns small connections, each direction impaired
// independently. Every byte arrives exactly once and unaltered (checked
// byte by byte and by SHA-256 at both ends), every connection finishes
// within the case's bound of virtual time, corrupted frames are all caught
// by checksums, and after TIME-WAIT both stacks have every buffer and
// connection slot back.
func TestFaultMatrixHeavy64MiB(t *testing.T) {
	for _, fc := range faultMatrix {
		t.Run(fc.name, func(t *testing.T) {
			runFaultCase(t, fc)
		})
	}
}

func runFaultCase(t *testing.T, fc faultCase) {
	n, bound := bulkSize(), fc.shortBound
	if heavy() {
		bound = fc.bound
	}
	cfg := rawapi.Config{PoolBufs: 2048}
	cfg.TCP.MaxPCBs = 2*faultSmallConns + 16
	s := newSim(t, simConfig{stack: cfg, ab: fc.ab, ba: fc.ba})
	start := time.Now()

	type conn struct{ cli, srv *peer }
	var conns []conn
	byPort := map[uint16]*peer{}
	s.listen(2*faultSmallConns, func(c rawapi.TCP) *peer {
		p := byPort[c.RemoteAddr().Port()]
		delete(byPort, c.RemoteAddr().Port())
		return p
	})
	open := func(cli, srv *peer) {
		cli.pollEvery, srv.pollEvery = 50*rawapi.Millisecond, 50*rawapi.Millisecond
		conns = append(conns, conn{cli, srv})
		byPort[s.dial(cli)] = srv
	}
	open(s.newPeer("bulk client", flow{send: n, recv: n, sendSeed: 1, recvSeed: 2}),
		s.newPeer("bulk server", flow{send: n, recv: n, sendSeed: 2, recvSeed: 1}))
	g := newGen(0xfa017)
	var sz [8]byte
	for i := range faultSmallConns {
		g.Fill(sz[:])
		up := int64(16<<10) + int64(uint32(sz[0])|uint32(sz[1])<<8)%(48<<10+1)
		down := int64(16<<10) + int64(uint32(sz[2])|uint32(sz[3])<<8)%(48<<10+1)
		pattern := i % numPatterns
		cs, ss := uint64(2*i+11), uint64(2*i+12)
		open(s.newPeer(fmt.Sprintf("conn %d client", i), flow{send: up, recv: down, sendSeed: cs, recvSeed: ss,
			sendAfterEOF: pattern == serverFirst}),
			s.newPeer(fmt.Sprintf("conn %d server", i), flow{send: down, recv: up, sendSeed: ss, recvSeed: cs,
				sendAfterEOF: pattern == requestResponse}))
	}
	finished := 0
	s.run(fc.name, bound+rawapi.Second, func() bool {
		for finished < len(conns) && conns[finished].cli.finished() && conns[finished].srv.finished() {
			finished++
		}
		return finished == len(conns)
	})
	bulkTook := checkPair(t, conns[0].cli, conns[0].srv, bound)
	var smallSlowest rawapi.Duration
	for _, c := range conns[1:] {
		smallSlowest = max(smallSlowest, checkPair(t, c.cli, c.srv, bound))
	}
	if len(byPort) != 0 {
		t.Errorf("%d connections never reached the server's acceptor", len(byPort))
	}
	fa, fb := s.fa.Stats(), s.fb.Stats()
	if fc.checksummed {
		caught := uint64(0)
		for _, st := range []*rawapi.Stack{s.a, s.b} {
			caught += st.Stats().IPDrop.BadChecksum + st.TCPStats().ChkErr
		}
		if fa.Corrupted+fb.Corrupted == 0 || caught == 0 {
			t.Errorf("%d frames corrupted, %d caught by IP or TCP checksums: the case tested nothing", fa.Corrupted+fb.Corrupted, caught)
		}
	}
	ta, tb := s.a.TCPStats(), s.b.TCPStats()
	t.Logf("%s: %d B each way: bulk %v, slowest small %v virtual, %v wall; faults A→B %+v B→A %+v; rexmits %d/%d, RTOs %d/%d",
		fc.name, n, time.Duration(bulkTook), time.Duration(smallSlowest), time.Since(start).Round(time.Millisecond),
		fa, fb, ta.Retransmits, tb.Retransmits, ta.Timeouts, tb.Timeouts)
	s.finish()
}
