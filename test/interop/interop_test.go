package interop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lwgo/lwgo/platform/tap"
	"github.com/lwgo/lwgo/rawapi"
)

// modes are the TAP configurations the data-path tests run under.
var modes = []struct {
	name string
	tap  tap.Config
}{
	{"plain", tap.Config{}},
	{"vnet-tso", tap.Config{VnetHdr: true, Offload: tap.OffloadCsum | tap.OffloadTSO4}},
	// Offloads both ways: lwgo sends 64 KiB super-segments with partial
	// checksums, which the kernel takes as they are.
	{"vnet-offload", tap.Config{VnetHdr: true, Offload: tap.OffloadCsum | tap.OffloadTSO4 | tap.OffloadTxTSO4, GRO: true}},
}

var pingStats = regexp.MustCompile(`(\d+) packets transmitted, (\d+) received`)

// pingOK runs ping in the namespace and checks that every echo was answered.
func (r *rig) pingOK(count int, args ...string) string {
	r.tb.Helper()
	all := append([]string{"-n", "-q", "-c", strconv.Itoa(count), "-W", "2"}, args...)
	all = append(all, r.addr.String())
	out := r.run(time.Duration(count)*20*time.Millisecond+15*time.Second, "ping", all...)
	m := pingStats.FindStringSubmatch(out)
	if m == nil || m[1] != strconv.Itoa(count) || m[2] != m[1] {
		r.tb.Fatalf("ping %v: want %d answered:\n%s", args, count, out)
	}
	return out
}

// TestPing: the kernel pings lwgo: once, 1000 times in quick succession, and
// with sizes that need fragmentation both ways.
func TestPing(t *testing.T) {
	r := newRig(t, rigConfig{}, "ping")
	r.pingOK(1)
	out := r.pingOK(1000, "-i", "0.002")
	t.Logf("1000 pings: %s", strings.TrimSpace(out[strings.LastIndex(out, "rtt"):]))
	for _, size := range []int{56, 1472, 1473, 3000, 8000} {
		r.pingOK(3, "-i", "0.05", "-s", strconv.Itoa(size))
	}
	// The kernel flood-pings with the largest size too: reassembly and
	// fragmentation under load.
	r.pingOK(200, "-f", "-s", "8000")
	st, _, _ := r.stats()
	if st.IP.Drop != 0 || st.ICMP.Drop != 0 {
		t.Errorf("lwgo dropped packets:\n%s", st.String())
	}
	t.Logf("lwgo: ICMP xmit=%d recv=%d; IP fragments sent %d, received %d",
		st.ICMP.Xmit, st.ICMP.Recv, st.IPFrag.Xmit, st.IPFrag.Recv)
}

// TestUDPEcho: socat in the namespace against lwgo's UDP echo on port 7, one
// datagram per run, sizes up to a fragmented 8000 bytes; then 1000 echoes of
// varied sizes from a kernel socket.
func TestUDPEcho(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			r := newRig(t, rigConfig{tap: m.tap}, "socat")
			r.udpEcho(7)
			dir := t.TempDir()
			for _, size := range []int{1, 1472, 8000} {
				data, _ := body(size)
				in := filepath.Join(dir, "in"+strconv.Itoa(size))
				if err := os.WriteFile(in, data, 0o600); err != nil {
					t.Fatal(err)
				}
				f, err := os.Open(in)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				cmd := r.n.Command(ctx, "socat", "-b", "65507", "-t", "0.3", "-T", "3", "STDIO",
					"UDP4:"+netip.AddrPortFrom(r.addr, 7).String())
				cmd.Stdin = f
				out, err := cmd.Output()
				cancel()
				f.Close()
				if err != nil {
					t.Fatalf("socat, %d bytes: %v", size, err)
				}
				if !bytes.Equal(out, data) {
					t.Fatalf("socat, %d bytes: echo of %d bytes differs", size, len(out))
				}
			}
			// A kernel socket in the namespace: many datagrams, every size
			// from 1 to 9000 bytes in a stride.
			var c *net.UDPConn
			if err := r.n.Do(func() error {
				var err error
				c, err = net.ListenUDP("udp4", &net.UDPAddr{IP: r.kaddr.AsSlice()})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			to := netip.AddrPortFrom(r.addr, 7)
			buf := make([]byte, 65536)
			for i := range 1000 {
				size := 1 + i*37%9000
				data, _ := body(9000)
				data = data[:size]
				if _, err := c.WriteToUDPAddrPort(data, to); err != nil {
					t.Fatal(err)
				}
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				n, from, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					t.Fatalf("datagram %d (%d bytes): %v", i, size, err)
				}
				if from != to || !bytes.Equal(buf[:n], data) {
					t.Fatalf("datagram %d (%d bytes): wrong echo from %v (%d bytes)", i, size, from, n)
				}
			}
			st, _, _ := r.stats()
			if st.UDP.Drop != 0 {
				t.Errorf("lwgo dropped UDP:\n%s", st.String())
			}
		})
	}
}

// TestTCPEchoDiscard: nc against lwgo's TCP echo (port 7, 1 MiB each way with
// a half-close) and discard (port 9, 16 MiB).
func TestTCPEchoDiscard(t *testing.T) {
	r := newRig(t, rigConfig{}, "nc")
	r.listen(7, func() rawapi.TCPHandler { return echoConn{} })
	d := &discard{}
	r.listen(9, func() rawapi.TCPHandler { return discardConn{d: d} })
	dir := t.TempDir()

	data, _ := body(1 << 20)
	in := filepath.Join(dir, "echo.in")
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(in)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	cmd := r.n.Command(ctx, "nc", "-N", "-w", "10", r.addr.String(), "7")
	cmd.Stdin = f
	out, err := cmd.Output()
	cancel()
	f.Close()
	if err != nil {
		t.Fatalf("nc echo: %v", err)
	}
	if !bytes.Equal(out, data) {
		t.Fatalf("echo: got %d bytes back, want the %d sent", len(out), len(data))
	}

	data, _ = body(16 << 20)
	in = filepath.Join(dir, "discard.in")
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r.run(60*time.Second, "sh", "-c", "nc -N -w 10 "+r.addr.String()+" 9 < "+in)
	var got int64
	var conns int
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.do(func() { got, conns = d.bytes, d.conns })
		if conns == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got != int64(len(data)) || conns != 1 {
		t.Fatalf("discard: %d bytes on %d finished connections, want %d on 1", got, conns, len(data))
	}
}

const bigSize = 100 << 20

// TestHTTPServerDownload: curl in the namespace fetches a 100 MiB body from
// a small HTTP server on lwgo's raw TCP API; the file's SHA-256 must match.
func TestHTTPServerDownload(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			r := newRig(t, rigConfig{tap: m.tap}, "curl")
			data, sum := body(bigSize)
			srv := &httpServer{files: map[string][]byte{"/big": data, "/hello": []byte("hello from lwgo\n")}}
			r.listen(80, func() rawapi.TCPHandler { return &httpConn{srv: srv} })
			out := r.run(10*time.Second, "curl", "-sS", "--max-time", "5", "http://"+r.addr.String()+"/hello")
			if out != "hello from lwgo\n" {
				t.Fatalf("/hello: %q", out)
			}
			file := filepath.Join(t.TempDir(), "big")
			out = r.run(90*time.Second, "curl", "-sS", "--max-time", "80", "-o", file,
				"-w", "%{http_code} %{size_download} %{speed_download}", "http://"+r.addr.String()+"/big")
			f := strings.Fields(out)
			if len(f) != 3 || f[0] != "200" || f[1] != strconv.Itoa(bigSize) {
				t.Fatalf("curl: %q", out)
			}
			got, err := fileSum(file)
			if err != nil {
				t.Fatal(err)
			}
			if got != sum {
				t.Fatalf("SHA-256 %x, want %x", got, sum)
			}
			speed, _ := strconv.ParseFloat(f[2], 64)
			_, ts, ds := r.stats()
			t.Logf("curl: 100 MiB at %.0f MB/s (%.2f Gbps); lwgo TCP: %d segments sent, %d retransmitted; TAP: %d frames out",
				speed/1e6, speed*8/1e9, ts.Xmit, ts.Retransmits, ds.TxFrames)
			var errs []string
			r.do(func() { errs = srv.errs })
			if len(errs) != 0 {
				t.Errorf("server: %v", errs)
			}
		})
	}
}

func fileSum(name string) ([32]byte, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return [32]byte{}, err
	}
	defer os.Remove(name)
	return sha256.Sum256(b), nil
}

// TestHTTPClientDownload: lwgo fetches a 100 MiB file from python3's
// http.server in the namespace; the body's SHA-256 must match.
func TestHTTPClientDownload(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			r := newRig(t, rigConfig{tap: m.tap}, python())
			data, sum := body(bigSize)
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "big.bin"), data, 0o600); err != nil {
				t.Fatal(err)
			}
			srv := r.startHTTPServer(dir, 8000)
			res := r.fetch(netip.AddrPortFrom(r.kaddr, 8000), "/big.bin", 90*time.Second)
			if res.err != nil {
				t.Fatalf("fetch: %v (after %d bytes)", res.err, res.got)
			}
			if !strings.HasPrefix(res.status, "200") || res.length != bigSize || res.got != bigSize {
				t.Fatalf("fetch: status %q, Content-Length %d, got %d bytes", res.status, res.length, res.got)
			}
			if res.sum != sum {
				t.Fatalf("SHA-256 %s, want %s", hex.EncodeToString(res.sum[:]), hex.EncodeToString(sum[:]))
			}
			_, _, ds := r.stats()
			t.Logf("lwgo client: 100 MiB in %v (%.2f Gbps); TAP: %d reads, %d super-frames → %d segments",
				res.elapsed.Round(time.Millisecond), float64(bigSize)*8/res.elapsed.Seconds()/1e9, ds.RxReads, ds.RxGSO, ds.RxGSOSegs)
			if m.tap.Offload&tap.OffloadTSO4 != 0 && ds.RxGSO == 0 {
				t.Errorf("TSO mode, but the kernel sent no super-frame")
			}
			srv()
		})
	}
}

// startHTTPServer runs python3 -m http.server on the kernel's address and
// waits until it accepts connections; the returned function stops it.
func (r *rig) startHTTPServer(dir string, port int) (stop func()) {
	r.tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := r.n.Command(ctx, python(), "-m", "http.server", "--bind", r.kaddr.String(), "--directory", dir, strconv.Itoa(port))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		r.tb.Fatal(err)
	}
	waited := make(chan struct{})
	go func() { cmd.Wait(); close(waited) }()
	stop = func() {
		cancel()
		<-waited
	}
	r.tb.Cleanup(stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := r.n.Do(func() error {
			c, err := net.DialTimeout("tcp4", netip.AddrPortFrom(r.kaddr, uint16(port)).String(), time.Second)
			if err == nil {
				c.Close()
			}
			return err
		})
		if err == nil {
			return stop
		}
		select {
		case <-waited:
			r.tb.Fatalf("http.server exited: %s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			r.tb.Fatalf("http.server not listening after 10 s: %v\n%s", err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
