package bench

import (
	"syscall"
	"testing"
)

// A benchmark case: a name (<stack>-<mtu>) and a body that runs r.n
// operations. lwgo cases also run in TestSmoke.
type benchCase struct {
	name string
	run  func(r *iter)
	// smoke: run once in TestSmoke (in-process cases only; the Linux ones
	// use 127.0.0.1 and run only as benchmarks).
	smoke bool
}

func bulkCases() []benchCase {
	return []benchCase{
		{"lwgo-1500", func(r *iter) { lwgoBulk(r, 1500) }, true},
		{"lwgo-9000", func(r *iter) { lwgoBulk(r, 9000) }, true},
		{"lwgo2-1500", func(r *iter) { lwgoBulk2(r, 1500) }, true},
		{"lwgo2-9000", func(r *iter) { lwgoBulk2(r, 9000) }, true},
		{"gvisor-1500", func(r *iter) { netBulk(r, newGvisorPair(r, 1500)) }, true},
		{"gvisor-9000", func(r *iter) { netBulk(r, newGvisorPair(r, 9000)) }, true},
		{"gvisor-65536", func(r *iter) { netBulk(r, newGvisorPair(r, 65536)) }, true},
		{"linux-lo", func(r *iter) { netBulk(r, newLinuxPair(r)) }, false},
	}
}

func rrCases() []benchCase {
	return []benchCase{
		{"lwgo-1500", lwgoRR64, true},
		{"gvisor-1500", func(r *iter) { netRR64(r, newGvisorPair(r, 1500)) }, true},
		{"linux-lo", func(r *iter) { netRR64(r, newLinuxPair(r)) }, false},
	}
}

func connectCases() []benchCase {
	return []benchCase{
		{"lwgo-1500", lwgoConnect, true},
		{"gvisor-1500", func(r *iter) { netConnect(r, newGvisorPair(r, 1500)) }, true},
		{"linux-lo", func(r *iter) { netConnect(r, newLinuxPair(r)) }, false},
	}
}

// connMemCases open n connections each; BenchmarkConnMemory uses -conns.
func connMemCases(n int) []benchCase {
	return []benchCase{
		{"lwgo-1500", func(r *iter) { lwgoConnMemory(r, n) }, true},
		{"gvisor-1500", func(r *iter) {
			netConnMemory(r, n, func() *netPair { return newGvisorPair(r, 1500) })
		}, true},
	}
}

func runBench(b *testing.B, cases []benchCase) {
	for _, c := range cases {
		b.Run(c.name, asBench(c.run))
	}
}

// BenchmarkBulk is in-memory TCP bulk throughput: 64 KiB writes (256 KiB
// reads on net.Conn servers). MB/s from SetBytes; allocs/MB, B/MB and
// cpu-s/GB are whole-process figures.
func BenchmarkBulk(b *testing.B) { runBench(b, bulkCases()) }

// BenchmarkRR64 is a 64-byte request/response round trip: ns/op is the
// round-trip time, allocs/op the allocations per round trip.
func BenchmarkRR64(b *testing.B) { runBench(b, rrCases()) }

// BenchmarkConnect is one serial connection: dial, accept, 1 byte, close on
// both sides. Connections per second = 1e9 / ns/op.
func BenchmarkConnect(b *testing.B) { runBench(b, connectCases()) }

// BenchmarkConnMemory opens -conns idle established connections per
// iteration and reports heap bytes per connection (both ends). Run it with
// -benchtime 1x.
func BenchmarkConnMemory(b *testing.B) { runBench(b, connMemCases(*connsFlag)) }

// TestSmoke runs every in-process case briefly, so the suite keeps
// compiling and working under `make test` (which runs no benchmarks).
func TestSmoke(t *testing.T) {
	groups := []struct {
		name  string
		cases []benchCase
		n     int
	}{
		{"Bulk", bulkCases(), 2},
		{"RR64", rrCases(), 3},
		{"Connect", connectCases(), 3},
		{"ConnMemory", connMemCases(32), 1},
	}
	for _, g := range groups {
		for _, c := range g.cases {
			if !c.smoke {
				continue
			}
			t.Run(g.name+"/"+c.name, func(t *testing.T) {
				c.run(&iter{TB: t, n: g.n})
			})
		}
	}
}

// BenchmarkFloor measures the machine rather than a stack: a hot 64 KiB
// copy (the bulk cases' unit of work) and the cheapest system call. They
// put runs on different machines, or under different load, side by side
// (anchors.md P2: 2.3 µs and 92 ns on the reference machine).
func BenchmarkFloor(b *testing.B) {
	b.Run("memcpy-64KiB", func(b *testing.B) {
		src, dst := make([]byte, 64<<10), make([]byte, 64<<10)
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			copy(dst, src)
		}
	})
	b.Run("getppid", func(b *testing.B) {
		for b.Loop() {
			syscall.Getppid()
		}
	})
}
