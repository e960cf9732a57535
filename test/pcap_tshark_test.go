package test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif/loopback"
	"github.com/lwgo/lwgo/netif/pcap"
)

var (
	tsMACA = wire.MAC{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	tsMACB = wire.MAC{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
	tsIPA  = wire.IPv4Addr{192, 168, 7, 1}
	tsIPB  = wire.IPv4Addr{192, 168, 7, 2}
)

// needTshark returns the path of tshark, skipping the test when it is not
// installed, except under CI=true, where its absence is a failure.
func needTshark(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tshark not found, and CI=true requires it: install it with " +
				"`apt-get install -y tshark` (the CI image should provide it)")
		}
		t.Skip("tshark not installed; skipping the pcap decode check (set CI=true to make this fatal)")
	}
	return path
}

// arpRequest builds "who has tsIPB? tell tsIPA", broadcast.
func arpRequest(t *testing.T, p *pbuf.Pool) *pbuf.Buf {
	b := alloc(t, p, wire.EthernetHeaderLen+wire.ARPLen)
	f := b.Bytes()
	eh := wire.EthernetHeader{Dst: wire.BroadcastMAC, Src: tsMACA, Type: wire.EtherTypeARP}
	eh.Encode(wire.Ethernet(f))
	ah := wire.ARPHeader{Op: wire.ARPRequest, SenderMAC: tsMACA, SenderIP: tsIPA, TargetIP: tsIPB}
	ah.Encode(wire.ARP(f[wire.EthernetHeaderLen:]))
	return b
}

// icmpEcho builds an echo request from A to B with 32 bytes of data and
// correct IPv4 and ICMP checksums.
func icmpEcho(t *testing.T, p *pbuf.Pool) *pbuf.Buf {
	const dataLen = 32
	ipLen := wire.IPv4MinHeaderLen + wire.ICMPv4HeaderLen + dataLen
	b := alloc(t, p, wire.EthernetHeaderLen+ipLen)
	f := b.Bytes()
	eh := wire.EthernetHeader{Dst: tsMACB, Src: tsMACA, Type: wire.EtherTypeIPv4}
	eh.Encode(wire.Ethernet(f))
	ip := wire.IPv4(f[wire.EthernetHeaderLen:])
	ih := wire.IPv4Header{TotalLen: ipLen, ID: 0x4242, Flags: wire.IPv4DontFragment, TTL: 64, Protocol: wire.ProtoICMP, Src: tsIPA, Dst: tsIPB}
	ih.Encode(ip)
	m := wire.ICMPv4(ip[wire.IPv4MinHeaderLen:])
	mh := wire.ICMPv4Header{Type: wire.ICMPv4Echo, Rest: 0x1234<<16 | 1}
	mh.Encode(m)
	for i := range dataLen {
		m[wire.ICMPv4HeaderLen+i] = byte('a' + i%26)
	}
	m.UpdateChecksum()
	return b
}

// udpDatagram builds a UDP datagram from A:40000 to B:40001 with a correct
// checksum.
func udpDatagram(t *testing.T, p *pbuf.Pool) *pbuf.Buf {
	payload := []byte("hello from lwgo's pcap test")
	udpLen := wire.UDPHeaderLen + len(payload)
	ipLen := wire.IPv4MinHeaderLen + udpLen
	b := alloc(t, p, wire.EthernetHeaderLen+ipLen)
	f := b.Bytes()
	eh := wire.EthernetHeader{Dst: tsMACB, Src: tsMACA, Type: wire.EtherTypeIPv4}
	eh.Encode(wire.Ethernet(f))
	ip := wire.IPv4(f[wire.EthernetHeaderLen:])
	ih := wire.IPv4Header{TotalLen: ipLen, ID: 0x4243, TTL: 64, Protocol: wire.ProtoUDP, Src: tsIPA, Dst: tsIPB}
	ih.Encode(ip)
	u := wire.UDP(ip[wire.IPv4MinHeaderLen:])
	uh := wire.UDPHeader{SrcPort: 40000, DstPort: 40001, Length: udpLen}
	uh.Encode(u)
	copy(u[wire.UDPHeaderLen:], payload)
	u.SetChecksum(wire.UDPChecksum(u, tsIPA, tsIPB))
	return b
}

func alloc(t *testing.T, p *pbuf.Pool, n int) *pbuf.Buf {
	t.Helper()
	b, err := p.Alloc(pbuf.LayerLink, n)
	if err != nil {
		t.Fatalf("Alloc(%d): %v", n, err)
	}
	return b
}

// tshark runs tshark with args and returns its standard output.
func tshark(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("tshark %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	return string(out)
}

// decoded is what tshark says about one frame.
type decoded struct {
	protocols string // frame.protocols, e.g. "eth:ethertype:ip:udp:data"
	time      string // frame.time_epoch
	checksums string // ip, icmp and udp checksum statuses, present ones only
}

// checkDecodes has tshark read file, checks each frame's protocol stack,
// that every IPv4, ICMP and UDP checksum verifies, and that tshark's expert
// analysis finds nothing malformed. It returns tshark's view of the frames.
func checkDecodes(t *testing.T, bin, file string, want []string) []decoded {
	t.Helper()
	out := tshark(t, bin, "-r", file,
		"-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
		"-T", "fields", "-E", "separator=|", "-e", "frame.protocols", "-e", "frame.time_epoch",
		"-e", "ip.checksum.status", "-e", "icmp.checksum.status", "-e", "udp.checksum.status")
	var got []decoded
	var protos []string
	for line := range strings.Lines(out) {
		f := strings.Split(strings.TrimRight(line, "\n"), "|")
		if len(f) != 5 {
			t.Fatalf("unexpected tshark line %q", line)
		}
		d := decoded{protocols: f[0], time: f[1], checksums: strings.Join(strings.Fields(strings.Join(f[2:], " ")), " ")}
		got = append(got, d)
		protos = append(protos, d.protocols)
	}
	if strings.Join(protos, " ") != strings.Join(want, " ") {
		t.Errorf("tshark decodes %s as\n  %v\nwant\n  %v", filepath.Base(file), protos, want)
	}
	for i, d := range got {
		// PROTO_CHECKSUM_E_GOOD is 1 (epan/proto.h); an IPv4 frame here
		// carries two checksums, IP and ICMP or UDP.
		wantSums := ""
		if strings.Contains(d.protocols, ":ip:") {
			wantSums = "1 1"
		}
		if d.checksums != wantSums {
			t.Errorf("frame %d (%s): checksum statuses %q, want %q", i+1, d.protocols, d.checksums, wantSums)
		}
	}
	expert := tshark(t, bin, "-r", file, "-q", "-z", "expert")
	if strings.Contains(strings.ToLower(expert), "malformed") || strings.Contains(expert, "Errors (") {
		t.Errorf("tshark expert info reports problems in %s:\n%s", filepath.Base(file), expert)
	}
	return got
}

func writeCapture(t *testing.T, name string, record func(w *pcap.Writer, clk *clock.Manual)) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), name)
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	var clk clock.Manual
	clk.Set(clock.Time(1_700_000_000 * clock.Second)) // a plausible Unix time
	w := pcap.NewWriter(bw, &clk, 0)
	record(w, &clk)
	if err := w.Err(); err != nil {
		t.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return file
}

const (
	protoARP  = "eth:ethertype:arp"
	protoICMP = "eth:ethertype:ip:icmp:data"
	protoUDP  = "eth:ethertype:ip:udp:data"
)

func TestPcapWriterOutputDecodesInTshark(t *testing.T) {
	bin := needTshark(t)
	p := pbuf.NewPool(8, 2048)
	file := writeCapture(t, "writer.pcap", func(w *pcap.Writer, clk *clock.Manual) {
		for _, mk := range []func(*testing.T, *pbuf.Pool) *pbuf.Buf{arpRequest, icmpEcho, udpDatagram} {
			b := mk(t, p)
			w.WriteFrame(b.Bytes())
			b.Free()
			clk.Advance(1500 * clock.Microsecond)
		}
	})
	got := checkDecodes(t, bin, file, []string{protoARP, protoICMP, protoUDP})
	for i, want := range []string{"1700000000.000000000", "1700000000.001500000", "1700000000.003000000"} {
		if i < len(got) && got[i].time != want {
			t.Errorf("frame %d: timestamp %s, want %s", i+1, got[i].time, want)
		}
	}
}

func TestPcapDeviceRecordsBothDirectionsDecodableByTshark(t *testing.T) {
	bin := needTshark(t)
	p := pbuf.NewPool(8, 2048)
	file := writeCapture(t, "device.pcap", func(w *pcap.Writer, clk *clock.Manual) {
		d := pcap.New(loopback.New(loopback.Config{}), w)
		d.Transmit([]*pbuf.Buf{arpRequest(t, p), icmpEcho(t, p), udpDatagram(t, p)})
		clk.Advance(clock.Millisecond)
		var rx [4]*pbuf.Buf
		n := d.Receive(p, rx[:])
		for _, b := range rx[:n] {
			b.Free()
		}
	})
	checkDecodes(t, bin, file, []string{protoARP, protoICMP, protoUDP, protoARP, protoICMP, protoUDP})
}
