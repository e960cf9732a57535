package main

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/lwgo/lwgo/apps/internal/apptest"
	"github.com/lwgo/lwgo/rawapi"
)

// fakeServer is a DNS server on stack B: A records from a table, NXDOMAIN
// for other names, silence for the names in mute.
type fakeServer struct {
	a       map[string]netip.Addr
	mute    map[string]bool
	queries int
}

func (f *fakeServer) serve(t *testing.T, w *apptest.World) {
	t.Helper()
	u, err := w.B.NewUDP()
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Bind(netip.Addr{}, 53); err != nil {
		t.Fatal(err)
	}
	u.SetRecv(func(u rawapi.UDP, p *rawapi.Buf, src netip.AddrPort, dst netip.Addr) {
		defer p.Free()
		f.queries++
		q := p.Bytes()
		if len(q) < 17 {
			return
		}
		// The question: labels from offset 12 to the zero byte, then type and class.
		end := 12
		var labels []string
		for end < len(q) && q[end] != 0 {
			n := int(q[end])
			if end+1+n > len(q) {
				return
			}
			labels = append(labels, string(q[end+1:end+1+n]))
			end += 1 + n
		}
		end += 5
		if end > len(q) {
			return
		}
		name := strings.ToLower(strings.Join(labels, "."))
		if f.mute[name] {
			return
		}
		resp := append([]byte(nil), q[:end]...)
		addr, ok := f.a[name]
		flags, an := uint16(0x8180), uint16(1)
		if !ok {
			flags, an = 0x8183, 0
		}
		binary.BigEndian.PutUint16(resp[2:], flags)
		binary.BigEndian.PutUint16(resp[6:], an)
		binary.BigEndian.PutUint16(resp[8:], 0)
		binary.BigEndian.PutUint16(resp[10:], 0)
		if ok {
			a4 := addr.As4()
			resp = append(resp, 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
			resp = append(resp, a4[:]...)
		}
		u.SendTo(resp, src)
	})
}

// resolve runs the dns program's lookup on stack A against the fake server
// on B and returns what it printed.
func resolve(t *testing.T, f *fakeServer, servers []netip.Addr, names ...string) (out, log string, l *lookup) {
	t.Helper()
	w := apptest.New(t, apptest.Options{})
	f.serve(t, w)
	var o, e bytes.Buffer
	l, err := start(w.A, servers, names, &o, &e)
	if err != nil {
		t.Fatal(err)
	}
	if !w.Run(60*rawapi.Second, nil, l.Done) {
		l.Expire()
	}
	w.Run(rawapi.Second, nil, nil)
	w.CheckPools(t)
	return o.String(), e.String(), l
}

func TestLookupPrintsInOrder(t *testing.T) {
	f := &fakeServer{a: map[string]netip.Addr{
		"one.test":   netip.MustParseAddr("198.18.0.10"),
		"two.test":   netip.MustParseAddr("198.18.0.20"),
		"three.test": netip.MustParseAddr("198.18.0.30"),
	}}
	names := []string{"one.test", "192.0.2.77", "two.test", "nope.test", "THREE.test", "one.test", "bad..name"}
	out, log, l := resolve(t, f, []netip.Addr{apptest.AddrB}, names...)
	want := "one.test has address 198.18.0.10\n" +
		"192.0.2.77 has address 192.0.2.77\n" +
		"two.test has address 198.18.0.20\n" +
		"THREE.test has address 198.18.0.30\n" +
		"one.test has address 198.18.0.10\n"
	if out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	wantLog := "dns: nope.test: not found (NXDOMAIN, or no A record)\n" +
		"dns: bad..name: not a valid host name\n"
	if log != wantLog {
		t.Errorf("stderr:\n%s\nwant:\n%s", log, wantLog)
	}
	if l.failed != 2 {
		t.Errorf("failed = %d, want 2", l.failed)
	}
}

// TestLookupFailsOver: the first server never answers; the resolver moves
// to the second, which does.
func TestLookupFailsOver(t *testing.T) {
	f := &fakeServer{a: map[string]netip.Addr{"x.test": netip.MustParseAddr("198.18.0.1")}}
	dead := netip.MustParseAddr("192.0.2.99") // on the link, but nobody is there
	out, log, _ := resolve(t, f, []netip.Addr{dead, apptest.AddrB}, "x.test")
	if out != "x.test has address 198.18.0.1\n" || log != "" {
		t.Fatalf("stdout %q, stderr %q", out, log)
	}
}

func TestLookupTimesOut(t *testing.T) {
	f := &fakeServer{mute: map[string]bool{"slow.test": true}, a: map[string]netip.Addr{"ok.test": netip.MustParseAddr("198.18.0.2")}}
	out, log, l := resolve(t, f, []netip.Addr{apptest.AddrB}, "slow.test", "ok.test")
	if out != "ok.test has address 198.18.0.2\n" || log != "dns: slow.test: no answer (timed out)\n" || l.failed != 1 {
		t.Fatalf("stdout %q, stderr %q, failed %d", out, log, l.failed)
	}
	if f.queries < 3 {
		t.Errorf("the server saw %d queries; the resolver retransmits", f.queries)
	}
}

// TestLookupManyNames: more names than query slots; each is asked once.
func TestLookupManyNames(t *testing.T) {
	f := &fakeServer{a: map[string]netip.Addr{}}
	var names []string
	var want strings.Builder
	for i := range 40 {
		name := "h" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ".test"
		a := netip.AddrFrom4([4]byte{198, 18, 1, byte(i)})
		f.a[name] = a
		names = append(names, name)
		want.WriteString(name + " has address " + a.String() + "\n")
	}
	out, log, _ := resolve(t, f, []netip.Addr{apptest.AddrB}, names...)
	if out != want.String() || log != "" {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out, log)
	}
	if f.queries != 40 {
		t.Errorf("%d queries for 40 names", f.queries)
	}
}

func TestParseServers(t *testing.T) {
	got, err := parseServers("10.0.0.1, 10.0.0.2")
	if err != nil || len(got) != 2 || got[1] != netip.MustParseAddr("10.0.0.2") {
		t.Fatalf("%v %v", got, err)
	}
	for _, bad := range []string{"", "x", "10.0.0.1,", "::1", "0.0.0.0"} {
		if _, err := parseServers(bad); err == nil {
			t.Errorf("parseServers(%q) accepted", bad)
		}
	}
}
