// Command benchreport runs lwgo's side-by-side benchmark suite (test/bench)
// several times and prints a markdown report: the machine, the load before
// and after, and per-case medians [min..max] with lwgo/gVisor ratios taken
// inside each pass, then their median. docs/PERFORMANCE.md is made from its
// output.
//
// Run it from the repository root:
//
//	go run ./test/bench/cmd/benchreport -count 3 > /tmp/report.md
//
// It compiles the test binary once, then runs -count passes. Each pass runs
// BenchmarkBulk, BenchmarkRR64, BenchmarkConnect and BenchmarkFloor once
// (-benchtime) and
// BenchmarkConnMemory once (-benchtime 1x, -conns connections). Raw `go
// test` output goes to -raw (benchstat reads it).
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	count     = flag.Int("count", 3, "passes over the suite")
	benchtime = flag.String("benchtime", "1s", "-test.benchtime for Bulk, RR64 and Connect")
	conns     = flag.Int("conns", 10000, "connections opened by BenchmarkConnMemory")
	pkg       = flag.String("pkg", "./test/bench", "package of the suite")
	benchRE   = flag.String("bench", "^Benchmark(Bulk|RR64|Connect|Floor)$", "benchmarks timed in each pass")
	memRE     = flag.String("membench", "^BenchmarkConnMemory$", "memory benchmarks in each pass (empty: none)")
	rawPath   = flag.String("raw", "", "file for the raw benchmark output (default: none)")
	note      = flag.String("note", "", "a line added to the machine description (e.g. what else ran)")
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("benchreport: ")
	flag.Parse()
	if *count < 1 {
		log.Fatal("-count must be at least 1")
	}
	dir, err := os.MkdirTemp("", "benchreport")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "bench.test")
	build := exec.Command("go", "test", "-c", "-o", bin, *pkg)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		log.Fatalf("building %s: %v", *pkg, err)
	}

	var raw io.Writer = io.Discard
	if *rawPath != "" {
		f, err := os.Create(*rawPath)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		raw = f
	}

	m := machine()
	if *note != "" {
		m = append(m, *note)
	}
	loadBefore := loadavg()
	start := time.Now()
	passes := make([]results, *count)
	for i := range passes {
		passes[i] = results{}
		args := []string{"-test.run", "^$", "-test.bench", *benchRE, "-test.benchtime", *benchtime, "-test.count", "1"}
		runPass(bin, args, raw, passes[i], i)
		if *memRE != "" {
			args := []string{"-test.run", "^$", "-test.bench", *memRE, "-test.benchtime", "1x", "-test.count", "1", "-conns", strconv.Itoa(*conns)}
			runPass(bin, args, raw, passes[i], i)
		}
	}
	elapsed := time.Since(start)
	loadAfter := loadavg()
	report(os.Stdout, m, loadBefore, loadAfter, elapsed, passes)
}

// results maps "Benchmark/case" to unit to value, for one pass.
type results map[string]map[string]float64

func runPass(bin string, args []string, raw io.Writer, into results, pass int) {
	log.Printf("pass %d: %s", pass+1, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Dir = filepath.Dir(bin)
	var out bytes.Buffer
	cmd.Stdout = io.MultiWriter(&out, raw)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		os.Stderr.Write(out.Bytes())
		log.Fatalf("pass %d: %v", pass+1, err)
	}
	parse(&out, into)
}

// procSuffix is the -GOMAXPROCS suffix of a benchmark name.
var procSuffix = regexp.MustCompile(`-\d+$`)

// parse reads benchmark lines: name, iterations, then value/unit pairs.
func parse(r io.Reader, into results) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := procSuffix.ReplaceAllString(f[0], "")
		if into[name] == nil {
			into[name] = map[string]float64{}
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			into[name][f[i+1]] = v
		}
	}
}

// A stat is a median with its range over the passes that have it.
type stat struct{ med, lo, hi float64 }

func summarize(vs []float64) (stat, bool) {
	vs = slices.DeleteFunc(slices.Clone(vs), func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) })
	if len(vs) == 0 {
		return stat{}, false
	}
	slices.Sort(vs)
	med := vs[len(vs)/2]
	if len(vs)%2 == 0 {
		med = (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
	}
	return stat{med, vs[0], vs[len(vs)-1]}, true
}

// metric derives one figure from a pass's results for a case.
type metric struct {
	title string
	f     func(r map[string]float64) float64
	fmt   string
}

func unit(u string) func(map[string]float64) float64 {
	return func(r map[string]float64) float64 {
		v, ok := r[u]
		if !ok {
			return math.NaN()
		}
		return v
	}
}

func perSecond(r map[string]float64) float64 {
	ns, ok := r["ns/op"]
	if !ok || ns == 0 {
		return math.NaN()
	}
	return 1e9 / ns
}

func collect(passes []results, name string, f func(map[string]float64) float64) []float64 {
	var vs []float64
	for _, p := range passes {
		if r, ok := p[name]; ok {
			vs = append(vs, f(r))
		}
	}
	return vs
}

func cell(passes []results, name string, m metric) string {
	s, ok := summarize(collect(passes, name, m.f))
	if !ok {
		return "—"
	}
	if len(passes) == 1 || s.lo == s.hi {
		return fmt.Sprintf(m.fmt, s.med)
	}
	return fmt.Sprintf(m.fmt+" ["+m.fmt+".."+m.fmt+"]", s.med, s.lo, s.hi)
}

// ratioCell is the median over passes of a/b taken inside each pass.
func ratioCell(passes []results, a, b string, f func(map[string]float64) float64) (string, stat, bool) {
	var vs []float64
	for _, p := range passes {
		ra, oka := p[a]
		rb, okb := p[b]
		if !oka || !okb {
			continue
		}
		vs = append(vs, f(ra)/f(rb))
	}
	s, ok := summarize(vs)
	if !ok {
		return "—", s, false
	}
	if len(vs) == 1 {
		return fmt.Sprintf("%.3g×", s.med), s, true
	}
	return fmt.Sprintf("%.3g× [%.3g..%.3g]", s.med, s.lo, s.hi), s, true
}

type section struct {
	bench   string
	title   string
	cases   []string
	metrics []metric
}

var sections = []section{
	{"BenchmarkBulk", "Bulk throughput (64 KiB writes)",
		[]string{"lwgo-1500", "gvisor-1500", "lwgo-9000", "gvisor-9000", "gvisor-65536", "linux-lo"},
		[]metric{
			{"MB/s", unit("MB/s"), "%.0f"},
			{"Gbps", func(r map[string]float64) float64 { return r["MB/s"] * 8 / 1000 }, "%.2f"},
			{"cpu-s/GB", unit("cpu-s/GB"), "%.2f"},
			{"allocs/MB", unit("allocs/MB"), "%.3g"},
			{"B/MB", unit("B/MB"), "%.3g"},
			{"allocs/op (64 KiB)", unit("allocs/op"), "%.0f"},
			{"lwgo rexmits/drops", func(r map[string]float64) float64 {
				if _, ok := r["rexmits"]; !ok {
					return math.NaN()
				}
				return r["rexmits"] + r["drops"]
			}, "%.0f"},
		}},
	{"BenchmarkRR64", "64-byte request/response (round trip)",
		[]string{"lwgo-1500", "gvisor-1500", "linux-lo"},
		[]metric{
			{"µs/RR", func(r map[string]float64) float64 { return r["ns/op"] / 1000 }, "%.2f"},
			{"CPU µs/RR", func(r map[string]float64) float64 { return r["cpu-ns/op"] / 1000 }, "%.2f"},
			{"allocs/RR", unit("allocs/op"), "%.0f"},
			{"B/RR", unit("B/op"), "%.0f"},
		}},
	{"BenchmarkConnect", "Connections (dial + accept + 1 B + close, serial)",
		[]string{"lwgo-1500", "gvisor-1500", "linux-lo"},
		[]metric{
			{"conn/s", perSecond, "%.0f"},
			{"µs/conn", func(r map[string]float64) float64 { return r["ns/op"] / 1000 }, "%.1f"},
			{"CPU µs/conn", func(r map[string]float64) float64 { return r["cpu-ns/op"] / 1000 }, "%.1f"},
			{"allocs/conn", unit("allocs/op"), "%.0f"},
			{"B/conn", unit("B/op"), "%.0f"},
		}},
	{"BenchmarkConnMemory", "Heap per idle established connection (both ends)",
		[]string{"lwgo-1500", "gvisor-1500"},
		[]metric{
			{"heap growth B/conn", unit("growth-B/conn"), "%.0f"},
			{"preallocated B/conn", unit("prealloc-B/conn"), "%.0f"},
			{"prealloc. w/o TIME-WAIT B/conn", unit("prealloc-noTW-B/conn"), "%.0f"},
			{"goroutines/conn", unit("goroutines/conn"), "%.2g"},
		}},
	{"BenchmarkFloor", "Machine floors (context: anchors.md P2 has 2.3 µs and 92 ns on the reference machine)",
		[]string{"memcpy-64KiB", "getppid"},
		[]metric{
			{"ns/op", unit("ns/op"), "%.1f"},
			{"MB/s", unit("MB/s"), "%.0f"},
		}},
}

// A target from the issue, checked on the medians.
type target struct {
	what, bench string
	f           func(passes []results) (string, bool, bool) // value, met, known
}

func ratioTarget(bench, a, b string, f func(map[string]float64) float64, ok func(float64) bool) func([]results) (string, bool, bool) {
	return func(passes []results) (string, bool, bool) {
		s, st, known := ratioCell(passes, bench+"/"+a, bench+"/"+b, f)
		return s, known && ok(st.med), known
	}
}

func valueTarget(name string, m metric, ok func(float64) bool) func([]results) (string, bool, bool) {
	return func(passes []results) (string, bool, bool) {
		s, known := summarize(collect(passes, name, m.f))
		return cell(passes, name, m), known && ok(s.med), known
	}
}

var targets = []target{
	{"bulk MTU 1500: lwgo ≥ 10× gVisor", "BenchmarkBulk",
		ratioTarget("BenchmarkBulk", "lwgo-1500", "gvisor-1500", unit("MB/s"), func(v float64) bool { return v >= 10 })},
	{"RR64: lwgo ≤ 1/5 of gVisor's round trip", "BenchmarkRR64",
		ratioTarget("BenchmarkRR64", "lwgo-1500", "gvisor-1500", unit("ns/op"), func(v float64) bool { return v <= 0.2 })},
	{"bulk MTU 1500: 0 allocs/MB (lwgo)", "BenchmarkBulk",
		valueTarget("BenchmarkBulk/lwgo-1500", metric{"", unit("allocs/MB"), "%.3g"}, func(v float64) bool { return v == 0 })},
	{"bulk MTU 9000: 0 allocs/MB (lwgo)", "BenchmarkBulk",
		valueTarget("BenchmarkBulk/lwgo-9000", metric{"", unit("allocs/MB"), "%.3g"}, func(v float64) bool { return v == 0 })},
	{"≤ 1 KiB heap per idle connection (lwgo, growth)", "BenchmarkConnMemory",
		valueTarget("BenchmarkConnMemory/lwgo-1500", metric{"", unit("growth-B/conn"), "%.0f B"}, func(v float64) bool { return v <= 1024 })},
	{"≤ 1 KiB heap per idle connection (lwgo, preallocated, both ends)", "BenchmarkConnMemory",
		valueTarget("BenchmarkConnMemory/lwgo-1500", metric{"", unit("prealloc-B/conn"), "%.0f B"}, func(v float64) bool { return v <= 1024 })},
	{"≤ 1 KiB heap per endpoint (lwgo, preallocated; anchors.md P4 gate)", "BenchmarkConnMemory",
		valueTarget("BenchmarkConnMemory/lwgo-1500", metric{"", func(r map[string]float64) float64 { return r["prealloc-B/conn"] / 2 }, "%.0f B"}, func(v float64) bool { return v <= 1024 })},
	{"conn/s: lwgo ≥ 5× gVisor", "BenchmarkConnect",
		ratioTarget("BenchmarkConnect", "lwgo-1500", "gvisor-1500", perSecond, func(v float64) bool { return v >= 5 })},
}

// ratioRows are the lwgo/gVisor ratios of the summary table.
var ratioRows = []struct {
	what, bench, a, b string
	f                 func(map[string]float64) float64
	better            string
}{
	{"bulk MB/s, MTU 1500", "BenchmarkBulk", "lwgo-1500", "gvisor-1500", unit("MB/s"), "higher"},
	{"bulk MB/s, MTU 9000", "BenchmarkBulk", "lwgo-9000", "gvisor-9000", unit("MB/s"), "higher"},
	{"bulk cpu-s/GB, MTU 1500", "BenchmarkBulk", "lwgo-1500", "gvisor-1500", unit("cpu-s/GB"), "lower"},
	{"bulk cpu-s/GB, MTU 9000", "BenchmarkBulk", "lwgo-9000", "gvisor-9000", unit("cpu-s/GB"), "lower"},
	{"RR64 round trip", "BenchmarkRR64", "lwgo-1500", "gvisor-1500", unit("ns/op"), "lower"},
	{"RR64 CPU per RR", "BenchmarkRR64", "lwgo-1500", "gvisor-1500", unit("cpu-ns/op"), "lower"},
	{"conn/s", "BenchmarkConnect", "lwgo-1500", "gvisor-1500", perSecond, "higher"},
	{"heap B per idle conn (lwgo preallocated / gVisor growth)", "BenchmarkConnMemory", "lwgo-1500", "gvisor-1500",
		nil, "lower"},
	{"bulk MB/s, MTU 1500 vs Linux lo (MTU 64K, TSO)", "BenchmarkBulk", "lwgo-1500", "linux-lo", unit("MB/s"), "higher"},
	{"RR64 round trip vs Linux lo", "BenchmarkRR64", "lwgo-1500", "linux-lo", unit("ns/op"), "lower"},
	{"conn/s vs Linux lo", "BenchmarkConnect", "lwgo-1500", "linux-lo", perSecond, "higher"},
}

func report(w io.Writer, m []string, before, after string, elapsed time.Duration, passes []results) {
	fmt.Fprintf(w, "## Run of %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	for _, l := range m {
		fmt.Fprintf(w, "- %s\n", l)
	}
	fmt.Fprintf(w, "- Passes: %d (-benchtime %s; ConnMemory -benchtime 1x -conns %d); took %s\n", len(passes), *benchtime, *conns, elapsed.Round(time.Second))
	fmt.Fprintf(w, "- Load average (1, 5, 15 min) before: %s; after: %s\n", before, after)
	fmt.Fprintf(w, "- Cells are median [min..max] over the passes; ratios are lwgo/other taken inside each pass, then their median [min..max].\n\n")

	fmt.Fprintf(w, "### Ratios lwgo / gVisor\n\n| metric | better | lwgo / gVisor |\n|---|---|---|\n")
	for _, r := range ratioRows {
		f := r.f
		if f == nil { // lwgo's preallocated footprint against gVisor's growth
			var vs []float64
			for _, p := range passes {
				a, oka := p[r.bench+"/"+r.a]
				b, okb := p[r.bench+"/"+r.b]
				if oka && okb {
					vs = append(vs, a["prealloc-B/conn"]/b["growth-B/conn"])
				}
			}
			s, ok := summarize(vs)
			c := "—"
			if ok {
				c = fmt.Sprintf("%.3g× [%.3g..%.3g]", s.med, s.lo, s.hi)
			}
			fmt.Fprintf(w, "| %s | %s | %s |\n", r.what, r.better, c)
			continue
		}
		c, _, _ := ratioCell(passes, r.bench+"/"+r.a, r.bench+"/"+r.b, f)
		fmt.Fprintf(w, "| %s | %s | %s |\n", r.what, r.better, c)
	}

	fmt.Fprintf(w, "\n### Targets\n\n| target | measured (median) | met |\n|---|---|---|\n")
	for _, t := range targets {
		v, met, known := t.f(passes)
		mark := "no"
		switch {
		case !known:
			mark = "not measured"
		case met:
			mark = "yes"
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", t.what, v, mark)
	}

	for _, s := range sections {
		fmt.Fprintf(w, "\n### %s (`%s`)\n\n| case |", s.title, s.bench)
		for _, m := range s.metrics {
			fmt.Fprintf(w, " %s |", m.title)
		}
		fmt.Fprintf(w, "\n|---|")
		for range s.metrics {
			fmt.Fprintf(w, "---|")
		}
		fmt.Fprintln(w)
		for _, c := range s.cases {
			name := s.bench + "/" + c
			if len(collect(passes, name, unit("ns/op"))) == 0 {
				continue
			}
			fmt.Fprintf(w, "| %s |", c)
			for _, m := range s.metrics {
				fmt.Fprintf(w, " %s |", cell(passes, name, m))
			}
			fmt.Fprintln(w)
		}
	}
}

// machine describes the host: CPUs, model, Go and gVisor versions.
func machine() []string {
	var m []string
	model := "unknown"
	if out, err := exec.Command("lscpu").Output(); err == nil {
		for l := range strings.SplitSeq(string(out), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "Model name" {
				model = strings.TrimSpace(v)
			}
		}
	}
	nproc := strconv.Itoa(runtime.NumCPU())
	if out, err := exec.Command("nproc").Output(); err == nil {
		nproc = strings.TrimSpace(string(out))
	}
	m = append(m, fmt.Sprintf("CPU: %s, nproc %s, GOMAXPROCS %s", model, nproc, envOr("GOMAXPROCS", nproc+" (Go default)")))
	if out, err := exec.Command("uname", "-sr").Output(); err == nil {
		m = append(m, "Kernel: "+strings.TrimSpace(string(out)))
	}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		m = append(m, "Go: "+strings.TrimSpace(string(out)))
	}
	if out, err := exec.Command("go", "list", "-m", "gvisor.dev/gvisor").Output(); err == nil {
		m = append(m, "gVisor: "+strings.TrimSpace(string(out)))
	}
	if out, err := exec.Command("git", "describe", "--always", "--dirty").Output(); err == nil {
		m = append(m, "lwgo commit: "+strings.TrimSpace(string(out)))
	}
	return m
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], ", ")
}
