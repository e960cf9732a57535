package interop

// Issue 4's benchmarks: lwgo over the TAP against the Linux kernel in the
// same namespace, each figure compared in the same run with a kernel-only
// reference. They are benchmarks (never run by `make test`); one iteration is
// one full measurement, so run them with -benchtime 1x:
//
//	go test -run '^$' -bench 'Issue4' -benchtime 1x -count 3 -v ./test/interop/
//
// BenchmarkIssue4HTTP: wrk -t1 -c32 -d5s from inside the namespace against
// apps/httpd (its own TAP, plain mode) serving its index page, then against
// the same page served by Go's net/http on a kernel socket listening in the
// namespace (in this process, via netns.Do). Reports both req/s and lwgo's
// ratio.
//
// BenchmarkIssue4Iperf: iperf 2 (Debian's) against lwgo both ways for 5 s:
// apps/iperf on a plain TAP; the raw-API sink and a raw-API zero source in
// this process on a TAP with IFF_VNET_HDR + CSUM + TSO4 (appflags has no
// flag for that mode); and iperf 2 kernel↔kernel over a veth pair. Each rate
// is the one the kernel-side iperf reports (-y C).

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lwgo/lwgo/platform/netns"
	"github.com/lwgo/lwgo/platform/tap"
	"github.com/lwgo/lwgo/rawapi"
)

const perfSecs = "5"

func perfRun(tb testing.TB, n *netns.Net, name string, args ...string) string {
	tb.Helper()
	out, err := n.Run(context.Background(), time.Minute, name, args...)
	if err != nil {
		tb.Fatalf("%v\n%s", err, out)
	}
	return string(out)
}

func perfUptime(tb testing.TB, when string) {
	out, _ := exec.Command("uptime").Output()
	tb.Logf("uptime %s: %s", when, strings.TrimSpace(string(out)))
}

var wrkRate = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)

// wrk runs wrk -t1 -c32 -d5s against url inside n and returns req/s.
func wrk(tb testing.TB, n *netns.Net, url string) float64 {
	tb.Helper()
	out := perfRun(tb, n, "wrk", "-t1", "-c32", "-d"+perfSecs+"s", url)
	m := wrkRate.FindStringSubmatch(out)
	if m == nil {
		tb.Fatalf("wrk %s:\n%s", url, out)
	}
	if strings.Contains(out, "Non-2xx") || strings.Contains(out, "Socket errors") {
		tb.Logf("wrk %s reported errors:\n%s", url, out)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func BenchmarkIssue4HTTP(b *testing.B) {
	needTier(b, "wrk")
	dir := buildApps(b)
	for range b.N {
		perfUptime(b, "before")
		n := programNet(b, 44)
		srv := startApp(b, n, "serving http://", filepath.Join(dir, "httpd"),
			"-tap", n.TAPName, "-host-ip", n.KernelAddr.String(), "-ip", n.StackAddr.String(),
			"-port", "80", "-max-clients", "32", "-q")

		// The same page, headers and keep-alive from net/http on a kernel
		// socket in the namespace.
		page := []byte("<!DOCTYPE html>\n<html><head><title>lwgo</title></head>\n<body><h1>hello, world</h1>\n<p>Served by lwgo's httpd on the sequential API.</p></body></html>\n")
		var ln net.Listener
		if err := n.Do(func() error {
			var err error
			ln, err = net.Listen("tcp4", netip.AddrPortFrom(n.KernelAddr.Addr(), 8080).String())
			return err
		}); err != nil {
			b.Fatal(err)
		}
		hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h["Server"] = []string{"go-net-http"}
			h["Content-Type"] = []string{"text/html; charset=utf-8"}
			h["Content-Length"] = []string{strconv.Itoa(len(page))}
			w.Write(page)
		})}
		go hs.Serve(ln)

		lw := wrk(b, n, "http://"+n.StackAddr.Addr().String()+"/")
		kn := wrk(b, n, "http://"+n.KernelAddr.Addr().String()+":8080/")
		hs.Close()
		log := srv.stop()
		if i := strings.LastIndex(log, "httpd: "); i >= 0 {
			b.Logf("httpd: %s", strings.TrimSpace(log[i:]))
		}
		b.Logf("wrk -t1 -c32 -d%ss: lwgo httpd %.0f req/s, kernel net/http %.0f req/s, ratio %.2f", perfSecs, lw, kn, lw/kn)
		b.ReportMetric(lw, "lwgo-req/s")
		b.ReportMetric(kn, "kernel-req/s")
		b.ReportMetric(lw/kn, "ratio")
		perfUptime(b, "after")
	}
}

// iperfCSV returns the rate in Gbit/s of the last -y C report line in out.
func iperfCSV(tb testing.TB, what, out string) float64 {
	tb.Helper()
	var rate float64 = -1
	for line := range strings.SplitSeq(out, "\n") {
		f := strings.Split(strings.TrimSpace(line), ",")
		if len(f) < 9 {
			continue
		}
		if v, err := strconv.ParseFloat(f[8], 64); err == nil {
			rate = v / 1e9
		}
	}
	if rate < 0 {
		tb.Fatalf("%s: no iperf -y C report:\n%s", what, out)
	}
	return rate
}

// iperfServer starts Debian's iperf -s in n, returning a function that
// waits for the report, stops it and returns the rate.
func iperfServer(tb testing.TB, n *netns.Net) func() float64 {
	p := startApp(tb, n, "", "iperf", "-s", "-y", "C")
	perfWaitListening(tb, n, 5001)
	return func() float64 {
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(p.out.String(), ",") && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
		return iperfCSV(tb, "iperf -s", p.stop())
	}
}

// perfWaitListening waits until something listens on TCP port in n.
func perfWaitListening(tb testing.TB, n *netns.Net, port int) {
	tb.Helper()
	for range 200 {
		out, _ := n.Run(context.Background(), 5*time.Second, "ss", "-Hltn", "sport", "= :"+strconv.Itoa(port))
		if strings.TrimSpace(string(out)) != "" {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	tb.Fatalf("nothing listens on %d", port)
}

func BenchmarkIssue4Iperf(b *testing.B) {
	needTier(b, "iperf", "ss")
	dir := buildApps(b)
	for range b.N {
		perfUptime(b, "before")
		report := func(name string, gbps float64) {
			b.Logf("%-28s %6.2f Gbit/s", name, gbps)
			b.ReportMetric(gbps, name+"-Gbps")
		}

		// Plain TAP: apps/iperf both ways.
		n := programNet(b, 45)
		flags := []string{"-tap", n.TAPName, "-host-ip", n.KernelAddr.String(), "-ip", n.StackAddr.String()}
		srv := startApp(b, n, "Server listening", filepath.Join(dir, "iperf"), append(flags, "-s")...)
		plainIn := iperfCSV(b, "iperf -c lwgo", perfRun(b, n, "iperf", "-c", n.StackAddr.Addr().String(), "-t", perfSecs, "-y", "C"))
		srv.stop()
		stop := iperfServer(b, n)
		perfRun(b, n, filepath.Join(dir, "iperf"), append(flags, "-c", n.KernelAddr.Addr().String(), "-t", perfSecs)...)
		plainOut := stop()
		n.Close()

		// vnet-hdr TAP with every offload: apps/iperf -offload both ways.
		n = programNet(b, 47)
		flags = []string{"-tap", n.TAPName, "-offload", "-host-ip", n.KernelAddr.String(), "-ip", n.StackAddr.String()}
		srv = startApp(b, n, "Server listening", filepath.Join(dir, "iperf"), append(flags, "-s")...)
		offIn := iperfCSV(b, "iperf -c lwgo (offload)", perfRun(b, n, "iperf", "-c", n.StackAddr.Addr().String(), "-t", perfSecs, "-y", "C"))
		srv.stop()
		stop = iperfServer(b, n)
		perfRun(b, n, filepath.Join(dir, "iperf"), append(flags, "-c", n.KernelAddr.Addr().String(), "-t", perfSecs)...)
		offOut := stop()
		n.Close()

		// vnet-hdr TAP with CSUM+TSO4: raw-API sink and zero source.
		tsoIn, tsoOut := perfTSO(b)

		// Kernel↔kernel over a veth pair (TSO/GSO/GRO on).
		va, vb, err := netns.NewVethPair(context.Background(), netns.Config{Subnet: 46})
		if err != nil {
			b.Fatal(err)
		}
		stop = iperfServer(b, vb)
		perfRun(b, va, "iperf", "-c", vb.KernelAddr.Addr().String(), "-t", perfSecs, "-y", "C")
		vethAB := stop()
		stop = iperfServer(b, va)
		perfRun(b, vb, "iperf", "-c", va.KernelAddr.Addr().String(), "-t", perfSecs, "-y", "C")
		vethBA := stop()
		va.Close()
		vb.Close()

		report("plain-kernel-to-lwgo", plainIn)
		report("plain-lwgo-to-kernel", plainOut)
		report("offload-kernel-to-lwgo", offIn)
		report("offload-lwgo-to-kernel", offOut)
		report("tso-kernel-to-lwgo", tsoIn)
		report("tso-lwgo-to-kernel", tsoOut)
		report("veth-a-to-b", vethAB)
		report("veth-b-to-a", vethBA)
		veth := (vethAB + vethBA) / 2
		b.Logf("ratios to veth (mean of both ways %.2f): plain in %.2f out %.2f, offload in %.2f out %.2f, raw-API tso in %.2f out %.2f",
			veth, plainIn/veth, plainOut/veth, offIn/veth, offOut/veth, tsoIn/veth, tsoOut/veth)
		perfUptime(b, "after")
	}
}

// perfTSO measures the vnet-hdr TAP mode: Debian's iperf -c into the rig's
// raw-API sink, and the rig's zero source into Debian's iperf -s.
func perfTSO(b *testing.B) (in, out float64) {
	// The rig (its namespace and stack) lives until the benchmark's cleanup.
	sb := b
	{
		r := newRig(sb, rigConfig{
			tap: tap.Config{VnetHdr: true, Offload: tap.OffloadCsum | tap.OffloadTSO4 | tap.OffloadTxTSO4, GRO: true},
			stack: rawapi.Config{
				PoolBufs: 4096,
				TCP:      rawapi.TCPConfig{SndBuf: 1 << 20, RcvBuf: 1 << 20},
			},
		})
		sink := &sinkServer{done: make(chan int64, 1)}
		r.listen(5001, func() rawapi.TCPHandler { return &sinkConn{srv: sink} })
		in = iperfCSV(sb, "iperf -c lwgo (tso)", perfRun(sb, r.n, "iperf", "-c", r.addr.String(), "-t", perfSecs, "-y", "C"))
		select {
		case <-sink.done:
		case <-time.After(10 * time.Second):
			sb.Fatal("lwgo sink did not see the FIN")
		}
		// The sink's listener still holds port 5001 on lwgo's side only;
		// Debian's server listens on the kernel's side.
		stop := iperfServer(sb, r.n)
		secs, _ := strconv.Atoi(perfSecs)
		src := &zeroSource{until: time.Now().Add(time.Duration(secs) * time.Second), done: make(chan error, 1)}
		var err error
		r.do(func() {
			var c rawapi.TCP
			if c, err = r.s.NewTCP(); err != nil {
				return
			}
			c.SetHandler(src)
			err = c.Connect(netip.AddrPortFrom(r.kaddr, 5001))
		})
		if err != nil {
			sb.Fatal(err)
		}
		select {
		case err = <-src.done:
		case <-time.After(time.Duration(secs)*time.Second + 30*time.Second):
			err = errors.New("zero source did not finish")
		}
		if err != nil {
			sb.Fatal(err)
		}
		out = stop()
		_, ts, ds := r.stats()
		sb.Logf("tso: lwgo TCP super-segments %d, retransmits %d, fast %d, RTOs %d; TAP reads %d, super-frames %d → %d segments, no-buf %d; TAP writes %d frames, %d B each on average, EAGAIN %d",
			ts.TSOSegs, ts.Retransmits, ts.FastRetransmits, ts.Timeouts, ds.RxReads, ds.RxGSO, ds.RxGSOSegs, ds.RxNoBuf,
			ds.TxFrames, ds.TxBytes/max(ds.TxFrames, 1), ds.TxAgain)
	}
	return in, out
}

// zeroSource connects and sends zeros (an iperf 2 header of zeros means a
// plain one-way test) until a deadline, then closes.
type zeroSource struct {
	rawapi.DefaultHandler
	until  time.Time
	closed bool
	done   chan error
}

var zeroChunk = make([]byte, 256<<10)

func (h *zeroSource) Connected(c rawapi.TCP, err error) error {
	if err != nil {
		h.done <- err
		return err
	}
	return h.push(c)
}

func (h *zeroSource) Sent(c rawapi.TCP, n int) error { return h.push(c) }

func (h *zeroSource) Recv(c rawapi.TCP, p *rawapi.Buf, err error) error {
	if p == nil {
		return nil
	}
	c.Recved(p.Len())
	p.Free()
	return nil
}

func (h *zeroSource) Err(c rawapi.TCP, err error) {
	select {
	case h.done <- err:
	default:
	}
}

func (h *zeroSource) push(c rawapi.TCP) error {
	if h.closed {
		return nil
	}
	if time.Now().After(h.until) {
		h.closed = true
		h.done <- nil
		return c.Close()
	}
	wrote := false
	for {
		n := min(c.SendBuffer(), len(zeroChunk))
		if n <= 0 {
			break
		}
		if err := c.Write(zeroChunk[:n], rawapi.WriteCopy|rawapi.WriteMore); err != nil {
			break
		}
		wrote = true
	}
	if wrote {
		return c.Output()
	}
	return nil
}

// BenchmarkIssue4TSO runs only the vnet-hdr TSO4 half of BenchmarkIssue4Iperf,
// for profiling lwgo's side (-cpuprofile covers the in-process stack).
func BenchmarkIssue4TSO(b *testing.B) {
	needTier(b, "iperf", "ss")
	for range b.N {
		in, out := perfTSO(b)
		b.Logf("tso kernel→lwgo %.2f Gbit/s, lwgo→kernel %.2f Gbit/s", in, out)
		b.ReportMetric(in, "tso-kernel-to-lwgo-Gbps")
		b.ReportMetric(out, "tso-lwgo-to-kernel-Gbps")
	}
}
