package appflags

import (
	"context"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lwgo/lwgo/netif/fault"
	"github.com/lwgo/lwgo/netif/pcap"
	"github.com/lwgo/lwgo/netif/pipe"
	"github.com/lwgo/lwgo/rawapi"
)

func parse(t *testing.T, args ...string) *Flags {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	f := Register(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		args []string
		err  string // substring; empty: valid
	}{
		{[]string{"-ip", "10.0.0.2/24"}, ""},
		{[]string{"-ip", "10.0.0.2/24", "-gw", "10.0.0.1", "-dns", "10.0.0.53"}, ""},
		{[]string{"-dhcp"}, ""},
		{[]string{"-tap", "t0", "-host-ip", "10.0.0.1/24", "-ip", "10.0.0.2/24"}, ""},
		{nil, "give -ip"},
		{[]string{"-dhcp", "-ip", "10.0.0.2/24"}, "excludes"},
		{[]string{"-ip", "10.0.0.2"}, "prefix length"},
		{[]string{"-ip", "fe80::1/64"}, "IPv4"},
		{[]string{"-ip", "10.0.0.2/24", "-gw", "10.0.1.1"}, "not on 10.0.0.0/24"},
		{[]string{"-ip", "10.0.0.2/24", "-gw", "x"}, "-gw"},
		{[]string{"-ip", "10.0.0.2/24", "-dns", "::1"}, "-dns"},
		{[]string{"-ip", "10.0.0.2/24", "-host-ip", "10.0.0.1/24"}, "needs -tap"},
		{[]string{"-tap", "t0", "-ip", "10.0.0.2/24", "-host-ip", "10.0.0.2/24"}, "must differ"},
		{[]string{"-ip", "10.0.0.2/24", "-drop-chance", "1.5"}, "-drop-chance"},
		{[]string{"-ip", "10.0.0.2/24", "-corrupt-chance", "-0.1"}, "-corrupt-chance"},
		{[]string{"-ip", "10.0.0.2/24", "-corrupt-chance", "NaN"}, "-corrupt-chance"},
	} {
		_, err := parse(t, tc.args...).Check()
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.args, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want one containing %q", tc.args, err, tc.err)
		}
	}
}

func TestOpenWithDeviceBuildsTheChain(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "x.pcap")
	f := parse(t, "-ip", "192.0.2.2/24", "-gw", "192.0.2.1", "-pcap", file, "-drop-chance", "0.5")
	a, b := pipe.New(pipe.Config{})
	n, err := f.Open(Options{Device: a})
	if err != nil {
		t.Fatal(err)
	}
	fd, ok := n.Dev.(*fault.Device)
	if !ok {
		t.Fatalf("outermost device %T, want the fault injector", n.Dev)
	}
	if n.Netif.Addr != [4]byte{192, 0, 2, 2} || n.Netif.Gateway != [4]byte{192, 0, 2, 1} || !n.Netif.IsUp() {
		t.Fatalf("interface %+v", n.Netif)
	}
	// Send some frames: gratuitous ARP at SetUp, then ARP requests.
	p, _ := n.Stack.NewPing(nil)
	for i := range 20 {
		p.Send(netip.AddrFrom4([4]byte{192, 0, 2, byte(10 + i)}), uint16(i), nil) // one ARP request each
		n.Stack.Poll(n.Clock.Now())
	}
	st := fd.Stats()
	if st.Dropped == 0 || st.Passed == 0 {
		t.Fatalf("fault stats %+v: want some frames dropped and some passed", st)
	}
	if got := b.Pending(); got != int(st.Passed) {
		t.Fatalf("%d frames on the wire, fault passed %d", got, st.Passed)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// pcap global header, then one record (16 + frame) per frame that went
	// to the wire: the capture sits under the fault injector.
	if len(data) < 24 || data[0] != 0xd4 || data[1] != 0xc3 || data[2] != 0xb2 || data[3] != 0xa1 {
		t.Fatalf("not a pcap file: % x", data[:min(len(data), 8)])
	}
	records := 0
	for off := 24; off+16 <= len(data); records++ {
		incl := int(data[off+8]) | int(data[off+9])<<8 | int(data[off+10])<<16 | int(data[off+11])<<24
		off += 16 + incl
	}
	if records != int(st.Passed) {
		t.Fatalf("%d records, want %d", records, st.Passed)
	}
	_ = pcap.New // the chain uses netif/pcap
}

func TestOpenErrors(t *testing.T) {
	if _, err := parse(t, "-ip", "10.0.0.2/24").Open(Options{}); err == nil || !strings.Contains(err.Error(), "no device") {
		t.Fatalf("Open without a device = %v", err)
	}
	if _, err := parse(t).Open(Options{}); err == nil {
		t.Fatal("Open without -ip accepted")
	}
	a, _ := pipe.New(pipe.Config{})
	if _, err := parse(t, "-ip", "10.0.0.2/24", "-pcap", filepath.Join(t.TempDir(), "no", "such", "dir")).
		Open(Options{Device: a}); err == nil {
		t.Fatal("Open with an unwritable -pcap accepted")
	}
}

func TestOpenDHCPWithoutServerTimesOut(t *testing.T) {
	a, _ := pipe.New(pipe.Config{})
	start := time.Now()
	_, err := parse(t, "-dhcp").Open(Options{Device: a, DHCPTimeout: 300 * time.Millisecond})
	if err != ErrNoLease || time.Since(start) > 5*time.Second {
		t.Fatalf("Open -dhcp with nobody answering = %v after %v, want ErrNoLease after 300 ms", err, time.Since(start))
	}
}

func TestIdleWaitsAndEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	a, _ := pipe.New(pipe.Config{})
	n, err := parse(t, "-ip", "10.0.0.2/24").Open(Options{Device: a, Context: ctx})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	start := time.Now()
	n.Idle(n.Clock.Now().Add(5 * rawapi.Millisecond))
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Idle for 5 ms took %v", d)
	}
	n.Idle(n.Clock.Now() - 1) // in the past: returns at once
	cancel()
	start = time.Now()
	n.Idle(rawapi.Never)
	if d := time.Since(start); d > time.Second || !n.Done() {
		t.Fatalf("Idle after cancel took %v, Done %v", d, n.Done())
	}
	// A Seq on the Net times out in real time.
	q := n.Seq(rawapi.SeqConfig{})
	u, err := q.OpenUDP(netip.AddrPortFrom(netip.Addr{}, 9))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := u.RecvFrom(make([]byte, 10), 20*rawapi.Millisecond); err != rawapi.ErrTimeout {
		t.Fatalf("RecvFrom = %v, want ErrTimeout", err)
	}
}

func TestRunStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	a, _ := pipe.New(pipe.Config{})
	n, err := parse(t, "-ip", "10.0.0.2/24").Open(Options{Device: a, Context: ctx})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	polls := 0
	err = n.Run(PollerFunc(func(now rawapi.Time) rawapi.Time {
		polls++
		return now.Add(rawapi.Millisecond)
	}))
	if err != context.DeadlineExceeded || polls == 0 {
		t.Fatalf("Run = %v after %d polls", err, polls)
	}
}
