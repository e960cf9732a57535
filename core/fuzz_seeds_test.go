package core

// The seed corpus of FuzzStackInput, written by
//
//	LWGO_WRITE_SEEDS=1 go test ./core -run TestWriteFuzzStackInputSeeds
//
// and committed in testdata/fuzz/FuzzStackInput/. Without the variable the
// test only checks that the committed seeds match what it would write.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/lwgo/lwgo/core/wire"
)

// fuzzRecord encodes one FuzzStackInput record.
func fuzzRecord(frame []byte, deltaMs uint16, flags uint16) []byte {
	var h [4]byte
	binary.BigEndian.PutUint16(h[:], uint16(len(frame))|flags)
	binary.BigEndian.PutUint16(h[2:], deltaMs)
	return append(h[:], frame...)
}

func fuzzStackSeeds() map[string][]byte {
	newMAC := wire.MAC{2, 0, 0, 0, 0, 5}
	newIP := wire.IPv4Addr{10, 0, 0, 5}
	arpReq := mkEth(wire.BroadcastMAC, newMAC, wire.EtherTypeARP, mkARP(wire.ARPRequest, newMAC, newIP, wire.MAC{}, rigIP))
	arpReply := mkEth(rigMAC, otherMAC, wire.EtherTypeARP, mkARP(wire.ARPReply, otherMAC, otherIP, rigMAC, rigIP))
	echo := echoFrame(rigIP, 0x1234, 1, []byte("abcdefghijklmnopqrstuvwabcdefghi"))
	udp := udpFrame(rigIP, 5353, 7, []byte("hello, echo"))
	closed := udpFrame(rigIP, 5353, 4242, []byte("nobody home"))
	bcastClosed := udpFrame(wire.IPv4Broadcast, 68, 4242, []byte("to all"))
	copy(bcastClosed, wire.BroadcastMAC[:])
	msg := mkUDP(peerIP, rigIP, 5353, 7, pattern(100, 1))
	h := wire.IPv4Header{ID: 0x0f0f, Protocol: wire.ProtoUDP, Src: peerIP, Dst: rigIP}
	frag0 := mkFrag(h, msg, frag{0, 64, true})
	frag1 := mkFrag(h, msg, frag{64, len(msg) - 64, false})
	truncated := bytes.Clone(echo[:wire.EthernetHeaderLen+12])
	orig := mkIPv4(wire.IPv4Header{ID: 3, Protocol: wire.ProtoUDP, Src: rigIP, Dst: peerIP}, mkUDP(rigIP, peerIP, 9, 53, []byte("q")))
	unreach := ipFrame(peerIP, rigIP, wire.ProtoICMP, 4, mkICMP(wire.ICMPv4DstUnreachable, 3, 0, orig[:28]))
	echoMsg := mkICMP(wire.ICMPv4Echo, 0, 0x77<<16|1, pattern(2000, 2))
	eh := wire.IPv4Header{ID: 0x0e0e, Protocol: wire.ProtoICMP, Src: peerIP, Dst: rigIP}
	bigEcho0 := mkFrag(eh, echoMsg, frag{0, 1480, true})
	bigEcho1 := mkFrag(eh, echoMsg, frag{1480, len(echoMsg) - 1480, false})
	// A frame whose checksums the harness fixes: an echo with a zeroed IPv4
	// and ICMP checksum.
	zeroed := echoFrame(rigIP, 0x4321, 2, []byte("fix me"))
	copy(zeroed[wire.EthernetHeaderLen+10:], []byte{0, 0})
	copy(zeroed[wire.EthernetHeaderLen+20+2:], []byte{0, 0})

	cat := func(recs ...[]byte) []byte { return bytes.Join(recs, nil) }
	return map[string][]byte{
		"arp-request":        fuzzRecord(arpReq, 0, 0),
		"icmp-echo":          fuzzRecord(echo, 0, 0),
		"udp-bound":          fuzzRecord(udp, 0, 0),
		"udp-closed":         fuzzRecord(closed, 0, 0),
		"udp-closed-bcast":   fuzzRecord(bcastClosed, 0, 0),
		"fragment-pair":      cat(fuzzRecord(frag1, 5, 0), fuzzRecord(frag0, 0, 0)),
		"fragment-timeout":   cat(fuzzRecord(frag0, 0, 0), fuzzRecord(truncated, 31000, 0), fuzzRecord(frag1, 0, 0)),
		"ipv4-truncated":     fuzzRecord(truncated, 0, 0),
		"icmp-unreachable":   fuzzRecord(unreach, 0, 0),
		"arp-reply-resolves": cat(fuzzRecord(arpReply, 10, 0), fuzzRecord(echo, 0, 0)),
		"big-echo-fragments": cat(fuzzRecord(bigEcho0, 1, 0), fuzzRecord(bigEcho1, 0, 0)),
		"fix-checksums":      fuzzRecord(zeroed, 0, 0x8000),
		"device-checksum-ok": fuzzRecord(zeroed, 0, 0x4000),
		"mixed": cat(fuzzRecord(arpReq, 100, 0), fuzzRecord(echo, 200, 0), fuzzRecord(udp, 300, 0),
			fuzzRecord(closed, 1000, 0), fuzzRecord(frag0, 2000, 0), fuzzRecord(truncated, 40000, 0)),
	}
}

func TestWriteFuzzStackInputSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzStackInput")
	write := os.Getenv("LWGO_WRITE_SEEDS") == "1"
	if write {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range fuzzStackSeeds() {
		want := []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data))
		path := filepath.Join(dir, "seed-"+name)
		if write {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is missing or stale (err %v): run LWGO_WRITE_SEEDS=1 go test ./core -run %s", path, err, t.Name())
		}
	}
}

// Each seed reaches the path it is named for.
func TestFuzzStackInputSeedsReachTheirPaths(t *testing.T) {
	seeds := fuzzStackSeeds()
	checks := map[string]func(st Stats, fs *fuzzStack) bool{
		"arp-request":      func(st Stats, _ *fuzzStack) bool { return st.ARPEx.Replies == 1 },
		"icmp-echo":        func(st Stats, _ *fuzzStack) bool { return st.ICMPEx.EchoReplies == 1 },
		"udp-bound":        func(st Stats, fs *fuzzStack) bool { return len(fs.rx) == 1 },
		"udp-closed":       func(st Stats, _ *fuzzStack) bool { return st.ICMPEx.Unreachables == 1 },
		"udp-closed-bcast": func(st Stats, _ *fuzzStack) bool { return st.UDP.ProtErr == 1 && st.ICMPEx.Unreachables == 0 },
		"fragment-pair":    func(st Stats, fs *fuzzStack) bool { return len(fs.rx) == 1 },
		"fragment-timeout": func(st Stats, _ *fuzzStack) bool { return st.ICMPEx.TimeExceeded == 1 },
		"ipv4-truncated":   func(st Stats, _ *fuzzStack) bool { return st.IPDrop.Truncated == 1 },
		"icmp-unreachable": func(st Stats, _ *fuzzStack) bool { return st.ICMPEx.ErrorsIn == 1 },
		"arp-reply-resolves": func(st Stats, fs *fuzzStack) bool {
			_, ok := fs.s.LookupARP(&fs.s.netifs[0], netip.AddrFrom4(otherIP))
			return ok
		},
		"big-echo-fragments": func(st Stats, _ *fuzzStack) bool { return st.ICMPEx.EchoReplies == 1 && st.IPFrag.Xmit == 2 },
		"fix-checksums":      func(st Stats, _ *fuzzStack) bool { return st.ICMPEx.EchoReplies == 1 },
		"device-checksum-ok": func(st Stats, _ *fuzzStack) bool { return st.ICMP.ChkErr == 1 }, // ICMP is always verified
		"mixed":              func(st Stats, fs *fuzzStack) bool { return st.ICMPEx.EchoReplies == 1 && len(fs.rx) == 1 },
	}
	for name, data := range seeds {
		fs := runStackInput(t, data)
		if c := checks[name]; c == nil || !c(fs.s.Stats(), fs) {
			t.Errorf("seed %s does not reach its path:\n%s", name, fs.s.stats.String())
		}
		fs.finish(t)
	}
}
