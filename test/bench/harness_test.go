package bench

import (
	"flag"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// connsFlag is the number of connections BenchmarkConnMemory opens. The
// smoke test uses a handful whatever it says.
var connsFlag = flag.Int("conns", 10000, "connections opened by BenchmarkConnMemory")

// iter runs one benchmark case either under a *testing.B (b != nil, n =
// b.N) or once, briefly, under the smoke test (b == nil). The timer and
// metric methods are no-ops in the smoke test.
type iter struct {
	testing.TB
	b *testing.B
	n int
}

func (r *iter) setBytes(n int64) {
	if r.b != nil {
		r.b.SetBytes(n)
	}
}

func (r *iter) reportAllocs() {
	if r.b != nil {
		r.b.ReportAllocs()
	}
}

func (r *iter) resetTimer() {
	if r.b != nil {
		r.b.ResetTimer()
	}
}

func (r *iter) stopTimer() {
	if r.b != nil {
		r.b.StopTimer()
	}
}

func (r *iter) report(v float64, unit string) {
	if r.b != nil {
		r.b.ReportMetric(v, unit)
	} else {
		r.Logf("%s: %.4g %s", r.Name(), v, unit)
	}
}

// asBench adapts a case to a benchmark function.
func asBench(f func(*iter)) func(*testing.B) {
	return func(b *testing.B) { f(&iter{TB: b, b: b, n: b.N}) }
}

// meter measures the whole process between start and stop: CPU time (user
// + system, getrusage) and heap allocations (runtime.MemStats). Goroutines
// of every stack are included, which is the point: gVisor's work happens on
// its dispatcher and pump goroutines.
type meter struct {
	cpu     time.Duration
	mallocs uint64
	bytes   uint64
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startMeter() meter {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return meter{cpu: cpuTime(), mallocs: ms.Mallocs, bytes: ms.TotalAlloc}
}

// delta is what a meter measured.
type delta struct {
	cpu     time.Duration
	mallocs uint64
	bytes   uint64
}

func (m meter) stop() delta {
	cpu := cpuTime()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return delta{cpu: cpu - m.cpu, mallocs: ms.Mallocs - m.mallocs, bytes: ms.TotalAlloc - m.bytes}
}

// reportBulk reports the per-volume metrics of a bulk transfer of n bytes.
func (r *iter) reportBulk(d delta, n int64) {
	if n <= 0 {
		return
	}
	mb := float64(n) / 1e6
	r.report(float64(d.mallocs)/mb, "allocs/MB")
	r.report(float64(d.bytes)/mb, "B/MB")
	r.report(d.cpu.Seconds()/(float64(n)/1e9), "cpu-s/GB")
}

// reportPerOp reports CPU time per operation (CPU ≈ wall means one core
// busy; CPU > wall means both cores worked).
func (r *iter) reportPerOp(d delta, ops int) {
	if ops <= 0 {
		return
	}
	r.report(float64(d.cpu.Nanoseconds())/float64(ops), "cpu-ns/op")
}

// heapInUse returns the live heap after two garbage collections.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
