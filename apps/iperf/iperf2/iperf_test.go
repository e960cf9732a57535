package iperf2

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"

	"github.com/lwgo/lwgo/apps/internal/apptest"
	"github.com/lwgo/lwgo/netif/fault"
	"github.com/lwgo/lwgo/rawapi"
)

// Bytes captured from Debian's iperf 2.1.8 on loopback: the client's header
// for `iperf -c 127.0.0.1 -p 5001 -t 1 -l 1000`, and the server's answer.
const (
	iperf218Header = "40010078" + "00000001" + "00001389" + "000003e8" + "00000000" + "ffffff9c" +
		"00000000" + "00000000" + "0000" + "0000" + "00020001" + "00080003" + "0000" + "0000" +
		"00000000" + "00000000" + "00000000"
	iperf218Ack = "00000002" + "0000001c" + "00000000" + "00020001" + "00080003" + "00000000" + "00000000"
)

func TestHeaderMatchesIperf218(t *testing.T) {
	got := appendHeader(nil, header{threads: 1, port: 5001, bufLen: 1000, amount: -100})
	if hex.EncodeToString(got) != iperf218Header {
		t.Fatalf("header\n got %x\nwant %s", got, iperf218Header)
	}
	if got := hex.EncodeToString(appendAck(nil)); got != iperf218Ack {
		t.Fatalf("ack\n got %s\nwant %s", got, iperf218Ack)
	}
	raw, _ := hex.DecodeString(iperf218Header)
	n, ext := headerLen(uint32(raw[0])<<24 | uint32(raw[1])<<16 | uint32(raw[2])<<8 | uint32(raw[3]))
	h := parseHeader(raw)
	if n != 60 || !ext || h.port != 5001 || h.bufLen != 1000 || h.amount != -100 || h.verUpper != versionUpper {
		t.Fatalf("parse: len %d ext %v %+v", n, ext, h)
	}
	for _, flags := range []uint32{0x30313233 /* "0123" */, 0, 0x40000000, 0x40010002 /* len 1 */} {
		if n, _ := headerLen(flags); n != 0 {
			t.Fatalf("flags %#x taken for a header of %d bytes", flags, n)
		}
	}
	if n, ext := headerLen(0x80000001); n != 24 || ext {
		t.Fatalf("a v1 (-d) header: len %d ext %v", n, ext)
	}
}

func TestFormats(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{formatBytes(596_639_744, 'a'), " 569 MBytes"},
		{formatBits(4.76e9, 'a'), "4.76 Gbits/sec"},
		{formatBits(939e6, 'a'), " 939 Mbits/sec"},
		{formatBytes(100000, 'b'), "100000 Bytes"},
		{formatBits(45649073, 'b'), "45649073 bits/sec"},
		{formatBytes(1.09*(1<<30), 'a'), "1.09 GBytes"},
		{formatBytes(50*1024, 'a'), "50.0 KBytes"},
		{formatBits(12.5e6, 'm'), "12.5 Mbits/sec"},
		{formatBytes(3<<20, 'k'), "3072 KBytes"},
		{kbytes(128 << 10), " 128 KByte"},
		{kbytes(16 << 10), "16.0 KByte"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// rig: the server on A, clients on B, both event-driven.
type rig struct {
	w       *apptest.World
	srv     *Server
	results []Result
	out     bytes.Buffer
	clients []*Client
}

func newRig(t *testing.T, o apptest.Options) *rig {
	t.Helper()
	r := &rig{w: apptest.New(t, o)}
	var err error
	if r.srv, err = NewServer(r.w.A, 5001, 4, &r.out, 'a'); err != nil {
		t.Fatal(err)
	}
	r.srv.OnResult = func(res Result) { r.results = append(r.results, res) }
	r.w.OnIdle = append(r.w.OnIdle, func() {
		for _, c := range r.clients {
			c.Tick(r.w.Clk.Now())
		}
	})
	return r
}

func (r *rig) client(t *testing.T, cfg ClientConfig) (*Client, *bytes.Buffer) {
	var out bytes.Buffer
	cfg.Server = netip.AddrPortFrom(apptest.AddrA, 5001)
	cfg.Out = &out
	c := NewClient(r.w.B, cfg)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	r.clients = append(r.clients, c)
	return c, &out
}

func TestClientServerByteCounts(t *testing.T) {
	// 64 KiB windows over a 10 ms round trip: about 6 MB/s per connection,
	// so that the timed test moves megabytes, not gigabytes.
	delay := fault.Config{Delay: 5 * rawapi.Millisecond}
	o := apptest.Options{Config: rawapi.Config{TCP: rawapi.TCPConfig{SndBuf: 64 << 10, RcvBuf: 64 << 10}},
		FaultAB: delay, FaultBA: delay}
	r := newRig(t, o)
	const amount = 10_000_000
	c1, out1 := r.client(t, ClientConfig{Amount: amount, Len: 8000})
	c2, out2 := r.client(t, ClientConfig{Time: 3 * rawapi.Second, Len: 1000})
	if !r.w.Run(60*rawapi.Second, nil, func() bool { return c1.Done() && c2.Done() && len(r.results) == 2 }) {
		t.Fatalf("not done: %v %v, %d results\n%s", c1.Done(), c2.Done(), len(r.results), r.out.String())
	}
	r1, r2 := c1.Result(), c2.Result()
	if r1.Err != nil || r1.Bytes != amount {
		t.Fatalf("-n client: %+v", r1)
	}
	if r2.Err != nil || r2.Duration < 3*rawapi.Second || r2.Duration > 3*rawapi.Second+200*rawapi.Millisecond || r2.Bytes < 5_000_000 {
		t.Fatalf("-t client: %+v", r2)
	}
	byRemote := map[uint16]Result{}
	for _, res := range r.results {
		byRemote[res.Remote.Port()] = res
	}
	for _, c := range []*Client{c1, c2} {
		s := byRemote[c.Result().Local.Port()]
		if c.c.IsValid() {
			t.Fatal("client connection still open")
		}
		if !s.Header || s.Err != nil || s.Bytes != c.Result().Bytes {
			t.Fatalf("server saw %+v, client sent %d", s, c.Result().Bytes)
		}
		if c.acked != ackLen {
			t.Fatalf("client got %d bytes back, want the %d-byte ack", c.acked, ackLen)
		}
	}
	// The reports look like iperf 2's.
	for _, out := range []string{out1.String(), out2.String()} {
		if !strings.Contains(out, "Client connecting to 192.0.2.1, TCP port 5001\n") ||
			!strings.Contains(out, "[  1] local 192.0.2.2 port ") ||
			!strings.Contains(out, "[ ID] Interval       Transfer     Bandwidth\n[  1] 0.0000-") {
			t.Fatalf("client report:\n%s", out)
		}
	}
	if !strings.Contains(out1.String(), "sec  9.54 MBytes  ") {
		t.Fatalf("-n report:\n%s", out1.String())
	}
	so := r.out.String()
	if !strings.HasPrefix(so, rule+"Server listening on TCP port 5001\nTCP window size: 64.0 KByte (default)\n"+rule) ||
		strings.Count(so, "connected with 192.0.2.2 port") != 2 || strings.Count(so, " sec  ") != 2 {
		t.Fatalf("server report:\n%s", so)
	}
	r.w.Step = 10 * rawapi.Millisecond
	r.w.Run(90*rawapi.Second, nil, nil)
	r.w.CheckPools(t)
}

// TestServerCountsAPlainStream: a client that sends no header (iperf 2.0,
// or nc) is counted byte for byte and gets nothing back.
func TestServerCountsAPlainStream(t *testing.T) {
	r := newRig(t, apptest.Options{})
	data := bytes.Repeat([]byte("0123456789"), 10_000)
	c := (&apptest.Client{Send: data, CloseWrite: true}).Dial(t, r.w, netip.AddrPortFrom(apptest.AddrA, 5001))
	if !r.w.Run(30*rawapi.Second, nil, func() bool { return c.Done && len(r.results) == 1 }) {
		t.Fatal("not done")
	}
	if res := r.results[0]; res.Header || res.Bytes != int64(len(data)) || len(c.Got) != 0 {
		t.Fatalf("server: %+v; client got %q", res, c.Got)
	}
}

// TestServerAnswersARealIperfHeader: the 2.1.8 header split over segments
// still gets the ack.
func TestServerAnswersARealIperfHeader(t *testing.T) {
	r := newRig(t, apptest.Options{})
	hdr, _ := hex.DecodeString(iperf218Header)
	c := (&apptest.Client{Send: append(hdr[:10:10], hdr[10:]...)}).Dial(t, r.w, netip.AddrPortFrom(apptest.AddrA, 5001))
	r.w.Run(rawapi.Second, nil, func() bool { return len(c.Got) == ackLen })
	if hex.EncodeToString(c.Got) != iperf218Ack {
		t.Fatalf("ack %x", c.Got)
	}
	c.Conn.Close()
	r.w.Run(rawapi.Second, nil, func() bool { return len(r.results) == 1 })
	if len(r.results) != 1 || !r.results[0].Header || r.results[0].Bytes != 60 {
		t.Fatalf("results %+v", r.results)
	}
}

func TestClientRefused(t *testing.T) {
	w := apptest.New(t, apptest.Options{})
	var out bytes.Buffer
	c := NewClient(w.B, ClientConfig{Server: netip.AddrPortFrom(apptest.AddrA, 5001), Amount: 1000, Out: &out})
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	w.Run(5*rawapi.Second, nil, c.Done)
	if !c.Done() || c.Result().Err != rawapi.ErrReset {
		t.Fatalf("done %v, result %+v", c.Done(), c.Result())
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"128K": 128 << 10, "1M": 1 << 20, "2G": 2 << 30, "1000": 1000, "1.5K": 1536} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v", in, got, err)
		}
	}
	if _, err := ParseSize("x"); err == nil {
		t.Error("ParseSize(x) accepted")
	}
}
