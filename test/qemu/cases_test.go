//go:build qemu

package qemu

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lwgo/lwgo/test/qemu/internal/stream"
)

// TestPingGateway: lwgo on QEMU's hermetic user network pings the gateway.
// core/dhcp is not committed yet, so the guest takes slirp's usual lease,
// 10.0.2.15/24 via 10.0.2.2, statically. DMA memory: 4 KiB pages, each
// translated through pagemap.
func TestPingGateway(t *testing.T) {
	setup(t)
	r := Boot{
		Name:    "ping",
		Append:  "lwgo.case=ping lwgo.ip=10.0.2.15/24 lwgo.gw=10.0.2.2 lwgo.timeout=30",
		Netdev:  "user,id=n0,restrict=on",
		Timeout: 90 * time.Second,
		Pcap:    true,
	}.Run(t)
	if !r.Pass {
		t.Fatalf("guest verdict: FAIL (QEMU exit %d)", r.RC)
	}
	for _, want := range []string{"kernel driver \"\"", "echo reply from 10.0.2.2 seq=3"} {
		if r.Find(want) == "" {
			t.Errorf("console lacks %q", want)
		}
	}
}

// TestTCP64MiB: 64 MiB each way over TCP between the guest's lwgo and the
// Linux kernel's TCP in a network namespace, through a TAP netdev; the host
// checks every byte it receives against the guest stream and compares
// SHA-256 sums, the guest checks what the host sends. DMA memory: hugetlb
// pages (physically contiguous). LWGO_QEMU_TCP_BYTES overrides the size.
func TestTCP64MiB(t *testing.T) {
	setup(t)
	n := int64(64 << 20)
	if s := os.Getenv("LWGO_QEMU_TCP_BYTES"); s != "" {
		v, err := strconv.ParseInt(s, 0, 64)
		if err != nil {
			t.Fatal(err)
		}
		n = v
	}
	tn := newTapNet(t)
	ln, err := tn.listen("198.18.0.1:5001")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type hostResult struct {
		rcvd, bad int64
		sum       string
		sent      int64
		err       error
		elapsed   time.Duration
	}
	hc := make(chan hostResult, 1)
	go func() {
		r := hostResult{bad: -1}
		c, err := ln.Accept()
		if err != nil {
			r.err = err
			hc <- r
			return
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
		hc <- r
	}()
	res := Boot{
		Name: "tcp",
		Append: fmt.Sprintf("lwgo.case=tcp lwgo.ip=198.18.0.2/24 lwgo.gw=none lwgo.peer=198.18.0.1:5001 "+
			"lwgo.bytes=%d lwgo.huge=1 lwgo.timeout=400", n),
		Netdev:  "tap,id=n0,ifname=tap0,script=no,downscript=no",
		Memory:  512,
		Wrap:    tn.wrap(),
		Timeout: 480 * time.Second,
	}.Run(t)
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
		hr.elapsed.Round(time.Millisecond), float64(2*n)/hr.elapsed.Seconds()/1e6, hr.sum)
	t.Logf("guest: %s", res.Find("bytes each way"))
}
