package interop

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/netif"
	"github.com/lwgo/lwgo/netif/fault"
	"github.com/lwgo/lwgo/platform/hosted"
	"github.com/lwgo/lwgo/rawapi"
)

// rxImpair drops and corrupts received frames, seeded: the kernel-to-lwgo
// direction's impairment (netif/fault impairs transmission only).
// Corruption flips one bit past the Ethernet header of IPv4 frames only: a
// corrupted ARP reply would poison a neighbour cache, which no checksum can
// catch, while every bit of an IPv4 datagram is covered by a checksum.
type rxImpair struct {
	netif.Device
	rng              *rand.Rand
	drop, corrupt    float64
	dropped, flipped int
}

func (d *rxImpair) Receive(pool *pbuf.Pool, dst []*pbuf.Buf) int {
	n := d.Device.Receive(pool, dst)
	k := 0
	for _, b := range dst[:n] {
		if d.rng.Float64() < d.drop {
			b.Free()
			d.dropped++
			continue
		}
		f := b.Bytes()
		if len(f) > 14 && f[12] == 0x08 && f[13] == 0x00 && d.rng.Float64() < d.corrupt {
			i := 14 + d.rng.IntN(len(f)-14)
			f[i] ^= 1 << d.rng.IntN(8)
			d.flipped++
		}
		dst[k] = b
		k++
	}
	clear(dst[k:n])
	return k
}

// NextDeadline forwards the inner device's deadline (netif.Deadliner).
func (d *rxImpair) NextDeadline() clock.Time {
	if dl, ok := d.Device.(netif.Deadliner); ok {
		return dl.NextDeadline()
	}
	return clock.Never
}

// TestTCPImpaired: both directions of TCP through a lossy, corrupting,
// reordering, duplicating link: lwgo's recovery against the kernel's and
// the kernel's against lwgo's; the data must arrive intact (SHA-256).
func TestTCPImpaired(t *testing.T) {
	var rx *rxImpair
	var tx *fault.Device
	r := newRig(t, rigConfig{wrap: func(d netif.Device, clk *hosted.Clock) netif.Device {
		tx = fault.New(d, clk, fault.Config{Seed: 7, DropRate: 0.02, DuplicateRate: 0.01, ReorderRate: 0.02})
		rx = &rxImpair{Device: tx, rng: rand.New(rand.NewPCG(7, 9)), drop: 0.02, corrupt: 0.01}
		return rx
	}}, "curl", python())
	const size = 4 << 20
	data, sum := body(size)
	srv := &httpServer{files: map[string][]byte{"/data": data}}
	r.listen(80, func() rawapi.TCPHandler { return &httpConn{srv: srv} })
	file := filepath.Join(t.TempDir(), "data")
	out := r.run(120*time.Second, "curl", "-sS", "--max-time", "110", "-o", file, "-w", "%{http_code} %{size_download} %{speed_download}",
		"http://"+r.addr.String()+"/data")
	f := strings.Fields(out)
	if len(f) != 3 || f[0] != "200" || f[1] != strconv.Itoa(size) {
		t.Fatalf("curl: %q", out)
	}
	if got, err := fileSum(file); err != nil || got != sum {
		t.Fatalf("curl: SHA-256 mismatch (%v)", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "data"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	r.startHTTPServer(dir, 8000)
	res := r.fetch(netip.AddrPortFrom(r.kaddr, 8000), "/data", 120*time.Second)
	if res.err != nil || res.got != size || res.sum != sum {
		t.Fatalf("lwgo fetch: err %v, %d of %d bytes, hash ok %v", res.err, res.got, size, res.sum == sum)
	}
	st, ts, _ := r.stats()
	var fs fault.Stats
	var dropped, flipped int
	r.do(func() { fs, dropped, flipped = tx.Stats(), rx.dropped, rx.flipped })
	t.Logf("curl %s B/s, lwgo fetch %v; egress faults %+v; ingress dropped %d, corrupted %d",
		f[2], res.elapsed.Round(time.Millisecond), fs, dropped, flipped)
	t.Logf("lwgo TCP: retransmits %d, fast retransmits %d, RTOs %d, dup ACKs %d, out-of-order %d, checksum errors %d; IP bad checksums %d",
		ts.Retransmits, ts.FastRetransmits, ts.Timeouts, ts.DupAcks, ts.OOSeq, ts.ChkErr, st.IPDrop.BadChecksum)
	if ts.Retransmits == 0 || ts.OOSeq == 0 {
		t.Errorf("no retransmission or out-of-order data at lwgo: the impairments did not bite")
	}
	if flipped > 0 && ts.ChkErr+st.IPDrop.BadChecksum+st.UDP.ChkErr == 0 {
		t.Errorf("%d frames corrupted, but lwgo counted no checksum error", flipped)
	}
}

// TestFastRetransmitAgainstLinux: with a Linux receiver, a lost segment
// should be repaired by fast retransmit, not by the retransmission timeout.
// lwgo loses 0.5% of what it sends (seeded) while serving 8 MiB to curl.
//
// Known bug (core/tcp, ackInput): a duplicate ACK is counted only when its
// window equals SND.WND (RFC 5681's condition (e)). Linux grows its
// advertised window on nearly every ACK while it autotunes the receive
// buffer, duplicates included (a capture shows 17 ACKs of the same sequence
// number, each SACKing one more segment, windows 2835…2881 ×1024), so lwgo
// ignores them and waits for the RTO (200 ms minimum) instead. RFC 6675 §2
// counts an ACK that SACKs new data as a duplicate whatever its window. The
// test skips with the figures while the bug shows, and fails on anything
// else.
func TestFastRetransmitAgainstLinux(t *testing.T) {
	var tx *fault.Device
	r := newRig(t, rigConfig{wrap: func(d netif.Device, clk *hosted.Clock) netif.Device {
		tx = fault.New(d, clk, fault.Config{Seed: 7, DropRate: 0.005})
		return tx
	}}, "curl")
	const size = 8 << 20
	data, sum := body(size)
	srv := &httpServer{files: map[string][]byte{"/data": data}}
	r.listen(80, func() rawapi.TCPHandler { return &httpConn{srv: srv} })
	file := filepath.Join(t.TempDir(), "data")
	start := time.Now()
	out := r.run(120*time.Second, "curl", "-sS", "--max-time", "110", "-o", file, "-w", "%{http_code} %{size_download}",
		"http://"+r.addr.String()+"/data")
	elapsed := time.Since(start)
	if out != "200 "+strconv.Itoa(size) {
		t.Fatalf("curl: %q", out)
	}
	if got, err := fileSum(file); err != nil || got != sum {
		t.Fatalf("curl: SHA-256 mismatch (%v)", err)
	}
	_, ts, _ := r.stats()
	var fs fault.Stats
	r.do(func() { fs = tx.Stats() })
	msg := "8 MiB in " + elapsed.Round(time.Millisecond).String() + ": " + strconv.FormatUint(fs.Dropped, 10) +
		" segments lost, " + strconv.FormatUint(ts.FastRetransmits, 10) + " fast retransmits, " +
		strconv.FormatUint(ts.Timeouts, 10) + " RTOs, " + strconv.FormatUint(ts.DupAcks, 10) + " duplicate ACKs counted"
	t.Log(msg)
	if fs.Dropped == 0 {
		t.Fatal("nothing was dropped: the test exercised nothing")
	}
	// Most losses must be repaired by fast retransmit, not by the RTO:
	// Linux grows its window on duplicate ACKs, which must still count
	// (RFC 6675 §2).
	if ts.Timeouts*4 > fs.Dropped {
		t.Fatal("losses waited for the RTO instead of fast retransmit: " + msg)
	}
}
