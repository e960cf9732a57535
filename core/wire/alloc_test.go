package wire_test

import (
	"testing"

	"github.com/lwgo/lwgo/core/wire"
)

// Sinks keep results alive so that the compiler cannot drop the work.
var (
	sinkBool  bool
	sinkInt   int
	sinkU16   uint16
	sinkU32   uint32
	sinkBytes []byte
	sinkMAC   wire.MAC
	sinkIP    wire.IPv4Addr
	sinkSeq   wire.Seq
	sinkErr   error
)

// TestNoAllocs proves rule 4 of the style guide for package wire: parsing,
// every accessor, every encoder and the checksum helpers allocate nothing,
// on both the success and the error paths.
func TestNoAllocs(t *testing.T) {
	eth := cat(goldenEthIPv4, goldenIPv4TCP, goldenTCPSynEncoded)
	arp := clone(goldenARPRequest)
	ip := cat(goldenIPv4Options)
	icmp := clone(goldenICMPEcho)
	quote := clone(goldenICMPFragNeeded[wire.ICMPv4HeaderLen:])
	udp := clone(goldenUDPDNS)
	tcp := clone(goldenTCPSACK)
	buf := make([]byte, 128)
	text := make([]byte, 0, 64)
	var opts wire.TCPOptions
	fullTCP := wire.TCPHeader{SrcPort: 1, DstPort: 2, Seq: 3, Ack: 4, Flags: wire.FlagACK, Window: 5,
		Options: wire.TCPOptions{MSS: 1460, HasWScale: true, WScale: 7, SACKPermitted: true,
			HasTimestamps: true, TSVal: 1, TSEcr: 2, NumSACK: 4, SACK: allSACKs}}
	badIP := clone(goldenIPv4UDP)
	badIP[0] = 0x65

	tests := []struct {
		name string
		f    func()
	}{
		{"ParseEthernet", func() {
			e, err := wire.ParseEthernet(eth)
			sinkErr = err
			sinkMAC, sinkMAC = e.Dst(), e.Src()
			sinkU16 = uint16(e.Type())
			sinkBytes = e.Payload()
		}},
		{"EthernetEncode", func() {
			h := wire.EthernetHeader{Dst: macGateway, Src: macGuest, Type: wire.EtherTypeIPv4}
			h.Encode(buf)
			e := wire.Ethernet(buf)
			e.SetDst(macGuest)
			e.SetSrc(macGateway)
			e.SetType(wire.EtherTypeARP)
		}},
		{"ParseARP", func() {
			a, err := wire.ParseARP(arp)
			sinkErr = err
			sinkU16 = uint16(a.Op())
			sinkMAC, sinkMAC = a.SenderMAC(), a.TargetMAC()
			sinkIP, sinkIP = a.SenderIP(), a.TargetIP()
		}},
		{"ARPEncode", func() {
			h := wire.ARPHeader{Op: wire.ARPReply, SenderMAC: macGuest, SenderIP: ipGuest, TargetMAC: macGateway, TargetIP: ipGateway}
			h.Encode(buf)
		}},
		{"ParseIPv4", func() {
			p, err := wire.ParseIPv4(ip)
			sinkErr = err
			sinkInt = p.HeaderLen() + p.TotalLen() + p.FragOffset()
			sinkU16 = uint16(p.TOS()) + p.ID() + uint16(p.Flags()) + uint16(p.TTL()) + uint16(p.Protocol()) + p.Checksum()
			sinkBool = p.IsFragment() && p.IsChecksumValid()
			sinkIP, sinkIP = p.Src(), p.Dst()
			sinkBytes, sinkBytes = p.Options(), p.Payload()
		}},
		{"ParseIPv4Header", func() {
			p, err := wire.ParseIPv4Header(quote)
			sinkErr = err
			sinkBytes = p.Payload()
		}},
		{"ParseIPv4Error", func() {
			_, sinkErr = wire.ParseIPv4(badIP)
		}},
		{"IPv4Encode", func() {
			h := wire.IPv4Header{TotalLen: 40, ID: 7, Flags: wire.IPv4DontFragment, TTL: 64, Protocol: wire.ProtoTCP, Src: ipGuest, Dst: ipGateway}
			h.Encode(buf)
			p := wire.IPv4(buf[:40])
			p.SetTTL(63)
			p.SetSrc(ipClient)
			p.SetDst(ipServer)
			p.SetTotalLen(40)
			p.UpdateChecksum()
		}},
		{"ParseICMPv4", func() {
			m, err := wire.ParseICMPv4(icmp)
			sinkErr = err
			sinkU16 = uint16(m.Type()) + uint16(m.Code()) + m.Checksum() + m.ID() + m.Seq() + m.MTU()
			sinkBool = m.IsChecksumValid() && m.Type().IsError()
			sinkBytes = m.Payload()
		}},
		{"ICMPv4Encode", func() {
			h := wire.ICMPv4Header{Type: wire.ICMPv4EchoReply, Rest: 0x00010001}
			h.Encode(icmp)
			m := wire.ICMPv4(icmp)
			m.SetType(wire.ICMPv4Echo)
			m.UpdateChecksum()
		}},
		{"ParseUDP", func() {
			u, err := wire.ParseUDP(udp)
			sinkErr = err
			sinkU16 = u.SrcPort() + u.DstPort() + u.Checksum()
			sinkInt = u.Length()
			sinkBool = u.IsChecksumValid(ipGuest, ipDNS)
			sinkBytes = u.Payload()
		}},
		{"UDPEncode", func() {
			h := wire.UDPHeader{SrcPort: 54321, DstPort: 53, Length: len(udp)}
			h.Encode(udp)
			u := wire.UDP(udp)
			u.SetChecksum(wire.UDPChecksum(u, ipGuest, ipDNS))
		}},
		{"ParseTCP", func() {
			s, err := wire.ParseTCP(tcp)
			sinkErr = err
			sinkU16 = s.SrcPort() + s.DstPort() + s.Window() + s.Checksum() + s.Urgent()
			sinkSeq = s.Seq() + s.Ack()
			sinkInt = s.HeaderLen() + int(s.Flags())
			sinkBool = s.IsChecksumValid(ipServer, ipClient)
			sinkBytes, sinkBytes = s.Options(), s.Payload()
			sinkErr = wire.ParseTCPOptions(s.Options(), &opts)
		}},
		{"ParseTCPOptionsError", func() {
			sinkErr = wire.ParseTCPOptions([]byte{2, 0}, &opts)
		}},
		{"TCPEncode", func() {
			fullTCP.Encode(buf)
			s := wire.TCP(buf[:fullTCP.Len()])
			s.SetChecksum(wire.Fold(wire.Checksum(s, wire.PseudoHeaderSum(ipClient, ipServer, wire.ProtoTCP, len(s)))))
		}},
		{"ChecksumHelpers", func() {
			sinkU32 = wire.Checksum(eth, 0) + wire.ChecksumSimple(eth, 0)
			sinkU16 = wire.UpdateChecksum16(1, 2, 3) + wire.UpdateChecksum32(1, 2, 3)
		}},
		{"Seq", func() {
			a := wire.Seq(0xfffffff0)
			sinkBool = a.LessThan(10) || a.LessThanEq(10) || a.InRange(0, 10) || a.InWindow(0, 10)
			sinkSeq = a.Add(a.Sub(10))
		}},
		{"AppendTo", func() {
			text = macGuest.AppendTo(text[:0])
			text = ipServer.AppendTo(text)
			text = (wire.FlagSYN | wire.FlagACK).AppendTo(text)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(1000, tt.f); n != 0 {
				t.Errorf("%v allocations per run, want 0", n)
			}
		})
	}
}
