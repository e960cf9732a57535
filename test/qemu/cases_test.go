//go:build qemu

package qemu

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"github.com/lwgo/lwgo/test/qemu/internal/initramfs"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lwgo/lwgo/test/internal/stream"
)

// TestPingGateway: lwgo on QEMU's hermetic user network takes a DHCP lease
// (core/dhcp) and pings the gateway. With restrict=on slirp's offer carries
// no router option, so the guest pings the lease's server, 10.0.2.2 (the
// gateway). DMA memory: 4 KiB pages, each translated through pagemap.
func TestPingGateway(t *testing.T) {
	setup(t)
	r := Boot{
		Name:    "ping",
		Append:  "lwgo.case=ping lwgo.dhcp=1 lwgo.timeout=30",
		Netdev:  "user,id=n0,restrict=on",
		Timeout: 90 * time.Second,
		Pcap:    true,
	}.Run(t)
	if !r.Pass {
		t.Fatalf("guest verdict: FAIL (QEMU exit %d)", r.RC)
	}
	for _, want := range []string{"kernel driver \"\"", "dhcp: bound 10.0.2.15/24", "echo reply from 10.0.2.2 seq=3"} {
		if r.Find(want) == "" {
			t.Errorf("console lacks %q", want)
		}
	}
}

// tcpBytes is the size of each direction of the TCP cases: 64 MiB, or
// LWGO_QEMU_TCP_BYTES.
func tcpBytes(t *testing.T) int64 {
	n := int64(64 << 20)
	if s := os.Getenv("LWGO_QEMU_TCP_BYTES"); s != "" {
		v, err := strconv.ParseInt(s, 0, 64)
		if err != nil {
			t.Fatal(err)
		}
		n = v
	}
	return n
}

// hostResult is the Linux kernel's end of a TCP case.
type hostResult struct {
	rcvd, bad int64
	sum       string
	sent      int64
	err       error
	elapsed   time.Duration // accept to both directions done
}

// MBps is the total throughput of both directions in MB/s.
func (h hostResult) MBps() float64 { return float64(h.rcvd+h.sent) / h.elapsed.Seconds() / 1e6 }

// tcpCase boots b in a fresh TAP network with the host's TCP peer
// listening on 198.18.0.1:5001: the host sends n bytes of the host stream
// and checks the n bytes of the guest stream it receives.
func tcpCase(t *testing.T, b Boot, n int64) (*Result, hostResult) {
	t.Helper()
	tn := newTapNet(t)
	ln, err := tn.listen("198.18.0.1:5001")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	hc := make(chan hostResult, 1)
	go func() { hc <- hostPeer(ln, n) }()
	b.Wrap = tn.wrap()
	b.Netdev = "tap,id=n0,ifname=tap0,script=no,downscript=no"
	res := b.Run(t)
	ln.Close()
	var hr hostResult
	select {
	case hr = <-hc:
	case <-time.After(10 * time.Second):
		t.Fatalf("host peer did not finish")
	}
	if hr.err != nil {
		t.Errorf("host peer: %v", hr.err)
	}
	if hr.rcvd != n || hr.bad >= 0 {
		t.Errorf("host received %d of %d bytes from the guest, first wrong byte at %d", hr.rcvd, n, hr.bad)
	}
	if line := res.Find("tcp: sent sha256 "); !strings.HasSuffix(line, hr.sum) {
		t.Errorf("SHA-256: guest sent %q, host received %s", line, hr.sum)
	}
	if !res.Pass {
		t.Fatalf("guest verdict: FAIL (QEMU exit %d)", res.RC)
	}
	t.Logf("host: %d bytes each way in %v (%.1f MB/s total), received sha256 %s", n,
		hr.elapsed.Round(time.Millisecond), hr.MBps(), hr.sum)
	t.Logf("guest: %s", res.Find("bytes each way"))
	return res, hr
}

// hostPeer accepts one connection, sends n bytes of the host stream while
// checking and hashing what it receives.
func hostPeer(ln net.Listener, n int64) hostResult {
	r := hostResult{bad: -1}
	c, err := ln.Accept()
	if err != nil {
		r.err = err
		return r
	}
	defer c.Close()
	start := time.Now()
	c.SetDeadline(time.Now().Add(10 * time.Minute))
	werr := make(chan error, 1)
	go func() { // host → guest
		g := stream.New(stream.HostToGuest)
		buf := make([]byte, 256<<10)
		for r.sent < n {
			k := int(min(int64(len(buf)), n-r.sent))
			g.Fill(buf[:k])
			if _, err := c.Write(buf[:k]); err != nil {
				werr <- err
				return
			}
			r.sent += int64(k)
		}
		werr <- c.(*net.TCPConn).CloseWrite()
	}()
	g := stream.New(stream.GuestToHost)
	h := sha256.New()
	buf := make([]byte, 256<<10)
	want := make([]byte, len(buf))
	for {
		k, err := c.Read(buf)
		if k > 0 {
			h.Write(buf[:k])
			g.Fill(want[:k])
			if r.bad < 0 && !bytes.Equal(buf[:k], want[:k]) {
				for i := range k {
					if buf[i] != want[i] {
						r.bad = r.rcvd + int64(i)
						break
					}
				}
			}
			r.rcvd += int64(k)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			r.err = err
			break
		}
	}
	if err := <-werr; err != nil && r.err == nil {
		r.err = err
	}
	r.sum = hex.EncodeToString(h.Sum(nil))
	r.elapsed = time.Since(start)
	return r
}

// lwgoTCP is TestTCP64MiB's host-side result, for the comparison with the
// Linux driver in the same run.
var lwgoTCP hostResult

// TestTCP64MiB: 64 MiB each way over TCP between the guest's lwgo and the
// Linux kernel's TCP in a network namespace, through a TAP netdev; the host
// checks every byte it receives against the guest stream and compares
// SHA-256 sums, the guest checks what the host sends. DMA memory: hugetlb
// pages (physically contiguous). LWGO_QEMU_TCP_BYTES overrides the size.
func TestTCP64MiB(t *testing.T) {
	setup(t)
	n := tcpBytes(t)
	_, hr := tcpCase(t, Boot{
		Name: "tcp",
		Append: fmt.Sprintf("lwgo.case=tcp lwgo.ip=198.18.0.2/24 lwgo.gw=none lwgo.peer=198.18.0.1:5001 "+
			"lwgo.bytes=%d lwgo.huge=1 lwgo.timeout=400", n),
		Memory:  512,
		Timeout: 480 * time.Second,
	}, n)
	lwgoTCP = hr
}

// TestTCPLinuxE1000 runs the same exchange through the Linux kernel's own
// e1000 driver and TCP in the same kind of guest (e1000.ko from the same
// kernel package, loaded by the guest from its initramfs) and reports
// lwgo's throughput relative to it (issue 5's target is at least 1.0×; the
// test reports the ratio and does not fail on it: TCG timing is noisy).
func TestTCPLinuxE1000(t *testing.T) {
	setup(t)
	ko := filepath.Join(filepath.Dir(kernel), "e1000.ko")
	mod, err := os.ReadFile(ko)
	need(t, "e1000.ko next to the kernel (kernel.sh extracts it)", err)
	img, err := buildImage(filepath.Join(work, "init"), "linux-e1000",
		initramfs.File{Name: "lib", Mode: initramfs.ModeDir | 0o755},
		initramfs.File{Name: "lib/modules", Mode: initramfs.ModeDir | 0o755},
		initramfs.File{Name: "lib/modules/e1000.ko", Mode: initramfs.ModeFile | 0o644, Data: mod})
	if err != nil {
		t.Fatal(err)
	}
	n := tcpBytes(t)
	_, hr := tcpCase(t, Boot{
		Name:    "linux-tcp",
		Initrd:  img,
		Append:  fmt.Sprintf("lwgo.case=linux-tcp lwgo.ip=198.18.0.2/24 lwgo.peer=198.18.0.1:5001 lwgo.bytes=%d lwgo.timeout=400", n),
		Memory:  512,
		Timeout: 480 * time.Second,
	}, n)
	if lwgoTCP.elapsed == 0 {
		t.Logf("linux e1000: %.1f MB/s total (run TestTCP64MiB too for the ratio)", hr.MBps())
		return
	}
	ratio := lwgoTCP.MBps() / hr.MBps()
	t.Logf("TCP both directions, %d MiB each way: lwgo + drivers/e1000 %.1f MB/s, Linux e1000 + TCP %.1f MB/s: %.2f×",
		n>>20, lwgoTCP.MBps(), hr.MBps(), ratio)
	fmt.Printf("qemu-perf: lwgo=%.1fMB/s linux=%.1fMB/s ratio=%.2f bytes-each-way=%d\n", lwgoTCP.MBps(), hr.MBps(), ratio, n)
}

// TestApplianceHostfwd is the appliance pattern (the visor VM will be one
// more Boot like this with its own /init): the guest serves a page on port
// 80, QEMU's user network forwards a local port to it (hostfwd, with
// restrict=on: nothing leaves the VM), and the host fetches the page. It
// measures the time from QEMU start to the first answered request.
func TestApplianceHostfwd(t *testing.T) {
	setup(t)
	port := freePort(t)
	vm := Boot{
		Name:    "http",
		Append:  "lwgo.case=http lwgo.requests=3 lwgo.ip=10.0.2.15/24 lwgo.gw=10.0.2.2 lwgo.timeout=60",
		Netdev:  fmt.Sprintf("user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:%d-10.0.2.15:80", port),
		Timeout: 90 * time.Second,
	}.Start(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	first := fetchUntil(t, vm, url, 60*time.Second)
	if first > 0 {
		t.Logf("http: first answered request %v after QEMU start", first.Round(time.Millisecond))
		fmt.Printf("qemu-timing: case=http qemu-start-to-first-answered-request=%v\n", first.Round(time.Millisecond))
		for range 2 {
			if _, err := fetch(url); err != nil {
				t.Errorf("GET %s: %v", url, err)
			}
		}
	}
	r := vm.Wait(t)
	if first == 0 {
		t.Fatalf("no answer from %s", url)
	}
	if !r.Pass {
		t.Fatalf("guest verdict: FAIL (QEMU exit %d)", r.RC)
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// fetch GETs url once with a short timeout and checks the page.
func fetch(url string) (string, error) {
	c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "lwgo on e1000") {
		return "", fmt.Errorf("status %d, body %q", resp.StatusCode, body)
	}
	return string(body), nil
}

// fetchUntil retries GET url until it answers, the VM exits or limit passes,
// and returns the time since QEMU start of the first answer (0 if none).
func fetchUntil(t *testing.T, vm *VM, url string, limit time.Duration) time.Duration {
	t.Helper()
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		if _, err := fetch(url); err == nil {
			return vm.Since()
		}
		select {
		case <-vm.eof:
			return 0
		case <-time.After(100 * time.Millisecond):
		}
	}
	return 0
}

// TestMMIOAccessRule checks platform/mmio's write rule on QEMU's real e1000
// model (facts/qemu-e1000.md §9, items 1–2): a register write through
// mmio.Regs is a plain store with no hidden read, so a pending ICR cause
// survives it; and it records whether atomic.StoreUint32 (XCHG) on ICR
// loses the cause under TCG.
func TestMMIOAccessRule(t *testing.T) {
	setup(t)
	r := Boot{
		Name:    "mmio",
		Append:  "lwgo.case=mmio",
		Netdev:  "user,id=n0,restrict=on",
		Timeout: 90 * time.Second,
	}.Run(t)
	if !r.Pass {
		t.Fatalf("guest verdict: FAIL (QEMU exit %d)", r.RC)
	}
	t.Logf("%s", r.Find("mmio: ICS after"))
	t.Logf("%s", r.Find("mmio: XCHG on ICR"))
}

// TestOtherModels runs the ping case on the other 8254x parts QEMU models
// with the same register set, which drivers/e1000 lists as supported: the
// 82545EM (8086:100f) and the 82544GC (8086:100c). Static address: the DHCP
// client is exercised by TestPingGateway.
func TestOtherModels(t *testing.T) {
	setup(t)
	for _, c := range []struct{ nic, id string }{
		{"e1000-82545em", "8086:100f"},
		{"e1000-82544gc", "8086:100c"},
	} {
		t.Run(c.nic, func(t *testing.T) {
			r := Boot{
				Name:    "ping-" + c.nic,
				NIC:     c.nic,
				Append:  "lwgo.case=ping lwgo.ip=10.0.2.15/24 lwgo.gw=10.0.2.2 lwgo.timeout=30",
				Netdev:  "user,id=n0,restrict=on",
				Timeout: 90 * time.Second,
			}.Run(t)
			if !r.Pass {
				t.Fatalf("guest verdict: FAIL (QEMU exit %d)", r.RC)
			}
			if r.Find("found "+c.id) == "" {
				t.Errorf("console lacks %q", "found "+c.id)
			}
		})
	}
}
