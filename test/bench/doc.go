// Package bench holds lwgo's side-by-side benchmarks: lwgo, gVisor's netstack
// and the Linux kernel over loopback, measured in one process and one run so
// that their ratios are meaningful on a noisy machine (docs/PERFORMANCE.md).
//
// The suite is in the _test.go files:
//
//	BenchmarkBulk        in-memory TCP bulk throughput, 64 KiB writes
//	BenchmarkRR64        64-byte request/response round trips (echo)
//	BenchmarkConnect     serial dial + accept + 1 byte + close
//	BenchmarkConnMemory  heap per idle established connection (-conns N)
//	BenchmarkFloor       the machine: a hot 64 KiB copy, getppid
//
// Sub-benchmarks are named <stack>-<mtu>: lwgo-1500, gvisor-1500,
// linux-lo, and so on. TestSmoke runs every in-process case (lwgo and
// gVisor) a few times, briefly, so that `make test` keeps the suite
// compiling and working; the Linux cases (which use 127.0.0.1) run only as
// benchmarks.
//
// cmd/benchreport runs the suite with -count 3 and prints the markdown table
// of docs/PERFORMANCE.md:
//
//	go run ./test/bench/cmd/benchreport -count 3 > /tmp/report.md
//
// Nothing here leaves the process except the linux-lo cases, which talk to
// 127.0.0.1 only.
package bench
