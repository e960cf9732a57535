package netsim

import (
	"fmt"
	"testing"
	"time"

	"github.com/lwgo/lwgo/netif/fault"
	"github.com/lwgo/lwgo/rawapi"
)

// parallelConns is the number of connections open at once: 1,000, or 200
// with -short or under the race detector.
func parallelConns() int {
	if heavy() {
		return 1000
	}
	return 200
}

// parallelStack sizes both stacks for n connections at once: a connection
// slot and a TIME-WAIT record for each (a simultaneous close leaves one on
// each side), a listener backlog that takes every SYN, and 8192 packet
// buffers (16 MiB), far fewer than the 1,000 × 2 × 64 KiB the applications
// would like to queue, so that SendBuffer is limited by the pool and the
// applications must retry from Poll, as lwIP applications do. A receive
// budget larger than the wire's queue lets each Poll drain the wire, so
// that the wire (parallelQueue slots, more than a pool's worth of frames)
// never overflows: on the bare wire nothing is lost.
func parallelStack(n int) rawapi.Config {
	return rawapi.Config{
		PoolBufs: 8192,
		RxBudget: 2 * parallelQueue,
		TCP: rawapi.TCPConfig{
			MaxPCBs:     n + 64,
			MaxTimeWait: n + 64,
			SynBacklog:  n + 64,
		},
	}
}

// parallelQueue is the wire's slots per direction in the parallel tests.
const parallelQueue = 16384

// The close patterns of the parallel connections.
const (
	bothAtOnce      = iota // both ends send at once and close when done: FINs cross (CLOSING)
	requestResponse        // the server answers after the client's FIN: the client closes first
	serverFirst            // the client sends after the server's FIN: the server closes first
	numPatterns
)

// parallel opens n connections from A to B at once, each moving 16 to
// 64 KiB each way (sizes from a fixed seed) in one of the three close
// patterns, runs until every end finished, checks each connection's bytes,
// hashes and virtual time against bound, and returns the slowest
// connection's time.
func parallel(t *testing.T, s *sim, n int, bound rawapi.Duration) rawapi.Duration {
	t.Helper()
	type conn struct{ cli, srv *peer }
	conns := make([]conn, n)
	byPort := make(map[uint16]*peer, n)
	s.listen(n+64, func(c rawapi.TCP) *peer {
		p := byPort[c.RemoteAddr().Port()]
		delete(byPort, c.RemoteAddr().Port())
		return p
	})
	g := newGen(0x9a7a11e1)
	var sizes [8]byte
	const pollEvery = 10 * rawapi.Millisecond
	for i := range conns {
		g.Fill(sizes[:])
		up := int64(16<<10) + int64(uint32(sizes[0])|uint32(sizes[1])<<8|uint32(sizes[2])<<16)%(48<<10+1)
		down := int64(16<<10) + int64(uint32(sizes[3])|uint32(sizes[4])<<8|uint32(sizes[5])<<16)%(48<<10+1)
		pattern := i % numPatterns
		cs, ss := uint64(2*i+1), uint64(2*i+2)
		cli := s.newPeer(fmt.Sprintf("conn %d client", i), flow{send: up, recv: down, sendSeed: cs, recvSeed: ss,
			sendAfterEOF: pattern == serverFirst})
		srv := s.newPeer(fmt.Sprintf("conn %d server", i), flow{send: down, recv: up, sendSeed: ss, recvSeed: cs,
			sendAfterEOF: pattern == requestResponse})
		cli.pollEvery, srv.pollEvery = pollEvery, pollEvery
		conns[i] = conn{cli, srv}
		port := s.dial(cli)
		if byPort[port] != nil {
			t.Fatalf("conn %d: local port %d already in use", i, port)
		}
		byPort[port] = srv
	}
	finished := 0
	s.run(fmt.Sprintf("%d parallel connections", n), bound+rawapi.Second, func() bool {
		for finished < len(conns) && conns[finished].cli.finished() && conns[finished].srv.finished() {
			finished++
		}
		return finished == len(conns)
	})
	var slowest rawapi.Duration
	var total int64
	for _, c := range conns {
		slowest = max(slowest, checkPair(t, c.cli, c.srv, bound))
		total += c.cli.send + c.srv.send
		if t.Failed() {
			break
		}
	}
	if len(byPort) != 0 {
		t.Errorf("%d connections never reached the server's acceptor", len(byPort))
	}
	if s.peakOpen < n {
		t.Errorf("at most %d connection ends were open at once, want %d or more", s.peakOpen, n)
	}
	t.Logf("%d connections, %d bytes, at most %d ends open at once: slowest %v, all done at %v virtual",
		n, total, s.peakOpen, time.Duration(slowest), time.Duration(s.clk.Now()))
	return slowest
}

// parallelBound bounds each parallel connection's virtual time on the bare
// wire. Measured: the slowest of 1,000 took 20 ms; a single retransmission
// timeout (200 ms at least) breaks the bound.
const parallelBound = 200 * rawapi.Millisecond

// TestParallelHeavy1000Connections: 1,000 connections open at once, each
// moving 16 to 64 KiB each way and closing both ways in one of three
// patterns, all complete, exact, within parallelBound, with nothing
// retransmitted; after TIME-WAIT both stacks have every buffer and
// connection slot back.
func TestParallelHeavy1000Connections(t *testing.T) {
	n := parallelConns()
	s := newSim(t, simConfig{stack: parallelStack(n), queueLen: parallelQueue})
	parallel(t, s, n, parallelBound)
	s.checkClean()
	s.finish()
}

// parallelFaultBound bounds each connection's virtual time under 1 % loss
// each way. Measured: the slowest of 1,000 took 1.0–3.4 s.
const parallelFaultBound = 10 * rawapi.Second

// TestParallelHeavy1000ConnectionsUnder1PercentLoss: the same with 1 % of
// the frames lost in each direction (independent seeds), SYNs, FINs and
// ACKs included.
func TestParallelHeavy1000ConnectionsUnder1PercentLoss(t *testing.T) {
	n := parallelConns()
	s := newSim(t, simConfig{stack: parallelStack(n), queueLen: parallelQueue,
		ab: fault.Config{Seed: 101, DropRate: 0.01}, ba: fault.Config{Seed: 102, DropRate: 0.01}})
	parallel(t, s, n, parallelFaultBound)
	s.finish()
}
