package interop

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lwgo/lwgo/rawapi"
)

// TestCaptureLint captures everything on the TAP (kernel side, inside the
// namespace) with tcpdump while the kernel and lwgo exchange ARP, fragmented
// pings, UDP and TCP both ways, then lints the capture with tshark
// (facts/conformance.md §7): no malformed packet and no bad IPv4, ICMP, UDP
// or TCP checksum from lwgo's address, checksum validation switched on, and
// no expert item of Error severity from lwgo.
func TestCaptureLint(t *testing.T) {
	r := newRig(t, rigConfig{}, "tcpdump", "tshark", "ping", "curl", python())
	pcap := filepath.Join(t.TempDir(), "tap.pcap")
	stopCapture := r.capture(pcap)

	// Traffic: ARP (first contact), echoes with fragments, UDP, TCP server
	// and client.
	r.udpEcho(7)
	small, smallSum := body(2 << 20)
	srv := &httpServer{files: map[string][]byte{"/small": small}}
	r.listen(80, func() rawapi.TCPHandler { return &httpConn{srv: srv} })
	r.pingOK(2, "-i", "0.05", "-s", "56")
	r.pingOK(2, "-i", "0.05", "-s", "3000")
	var c *net.UDPConn
	if err := r.n.Do(func() error {
		var err error
		c, err = net.ListenUDP("udp4", &net.UDPAddr{IP: r.kaddr.AsSlice()})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 9000)
	for _, size := range []int{10, 1472, 4000} {
		if _, err := c.WriteToUDPAddrPort(small[:size], netip.AddrPortFrom(r.addr, 7)); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if n, _, err := c.ReadFromUDPAddrPort(buf); err != nil || n != size {
			t.Fatalf("UDP echo of %d bytes: %d, %v", size, n, err)
		}
	}
	out := r.run(30*time.Second, "curl", "-sS", "--max-time", "20", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
		"http://"+r.addr.String()+"/small")
	if out != "200 "+strconv.Itoa(len(small)) {
		t.Fatalf("curl: %q", out)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "small.bin"), small, 0o600); err != nil {
		t.Fatal(err)
	}
	stopHTTP := r.startHTTPServer(dir, 8000)
	res := r.fetch(netip.AddrPortFrom(r.kaddr, 8000), "/small.bin", 30*time.Second)
	if res.err != nil || res.sum != smallSum {
		t.Fatalf("lwgo fetch: %+v", res)
	}
	stopHTTP()
	time.Sleep(100 * time.Millisecond) // the last FIN/ACKs
	stopCapture()

	stack := r.addr.String()
	tshark := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		all := append([]string{"-n", "-r", pcap,
			"-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"}, args...)
		cmd := exec.CommandContext(ctx, "tshark", all...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr // "Running as user root…" and the like
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("tshark %v: %v\n%s", args, err, stderr.String())
		}
		return string(out)
	}
	count := func(filter string) int {
		t.Helper()
		return len(strings.Fields(tshark("-Y", filter, "-T", "fields", "-e", "frame.number")))
	}
	// The capture holds lwgo's traffic of every kind, and tshark checked it.
	for _, f := range []string{
		"arp.src.proto_ipv4==" + stack,
		"icmp.type==0 && ip.src==" + stack + " && ip.checksum.status==\"Good\"",
		"ip.flags.mf==1 && ip.src==" + stack,
		"udp.srcport==7 && ip.src==" + stack + " && udp.checksum.status==\"Good\"",
		"tcp.srcport==80 && ip.src==" + stack + " && tcp.checksum.status==\"Good\"",
		"tcp.dstport==8000 && ip.src==" + stack + " && tcp.checksum.status==\"Good\"",
	} {
		if count(f) == 0 {
			t.Errorf("capture has no packet matching %s", f)
		}
	}
	bad := tshark("-Y", "ip.src=="+stack+" && (_ws.malformed || _ws.expert.severity >= \"Error\""+
		" || ip.checksum.status==\"Bad\" || icmp.checksum.status==\"Bad\" || udp.checksum.status==\"Bad\""+
		" || tcp.checksum.status==\"Bad\")",
		"-T", "fields", "-e", "frame.number", "-e", "_ws.col.Info", "-e", "_ws.expert.message")
	if strings.TrimSpace(bad) != "" {
		t.Errorf("tshark: malformed packets, bad checksums or errors from lwgo:\n%s", bad)
	}
	warn := tshark("-Y", "ip.src=="+stack+" && _ws.expert.severity >= \"Warning\"",
		"-T", "fields", "-e", "frame.number", "-e", "_ws.expert.message")
	for _, line := range strings.Split(strings.TrimSpace(warn), "\n") {
		if line == "" {
			continue
		}
		// Warnings that mean a protocol bug in lwgo's output.
		for _, bug := range []string{"MSS option", "Window scale shift exceeds", "does contain a", "Bogus"} {
			if strings.Contains(line, bug) {
				t.Errorf("tshark warning on lwgo's output: %s", line)
			}
		}
	}
	summary := tshark("-q", "-z", "expert,note")
	t.Logf("tshark expert summary (all hosts):\n%s", summary)
	if w := strings.TrimSpace(warn); w != "" {
		t.Logf("warnings on lwgo's packets:\n%s", w)
	}
	t.Logf("%d frames captured, %d from lwgo", count("frame"), count("eth.src=="+r.n.Dev.HardwareAddr().String()))
}

// capture starts tcpdump on the TAP inside the namespace, writing to file,
// and waits until it listens; the returned function stops it (SIGINT) and
// waits for it to flush.
func (r *rig) capture(file string) (stop func()) {
	r.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	cmd := r.n.Command(ctx, "tcpdump", "-i", r.n.TAPName, "-n", "-U", "-s", "0", "-w", file)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		cancel()
		r.tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		r.tb.Fatal(err)
	}
	lines := make(chan string, 16)
	var logs bytes.Buffer
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
	}()
	done := make(chan struct{})
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cmd.Process.Signal(os.Interrupt)
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			r.tb.Error("tcpdump did not stop on SIGINT")
		}
		cancel()
	}
	r.tb.Cleanup(stop)
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				r.tb.Fatalf("tcpdump exited: %s", logs.String())
			}
			logs.WriteString(l + "\n")
			if strings.Contains(l, "listening on") {
				return stop
			}
		case <-timeout:
			r.tb.Fatalf("tcpdump not listening after 10 s: %s", logs.String())
		}
	}
}
