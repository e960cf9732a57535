package wire_test

import "github.com/lwgo/lwgo/core/wire"

// Golden packets, written by hand from the RFC layouts. Checksums were
// computed independently (a separate 16-bit RFC 1071 sum, re-done in the tests
// by refChecksum) and are spelled out in each packet's comment.

var (
	macGuest   = wire.MAC{0x52, 0x54, 0x00, 0x12, 0x34, 0x56} // QEMU's default guest MAC
	macGateway = wire.MAC{0x52, 0x55, 0x0a, 0x00, 0x02, 0x02} // QEMU user-mode gateway
	ipGuest    = wire.IPv4Addr{10, 0, 2, 15}
	ipGateway  = wire.IPv4Addr{10, 0, 2, 2}
	ipDNS      = wire.IPv4Addr{10, 0, 2, 3}
	ipClient   = wire.IPv4Addr{192, 168, 1, 10}
	ipServer   = wire.IPv4Addr{93, 184, 216, 34}
)

// Ethernet II header (RFC 894): guest to gateway, IPv4.
var goldenEthIPv4 = unhex(`
	52 55 0a 00 02 02 // dst
	52 54 00 12 34 56 // src
	08 00             // type IPv4
`)

// Ethernet II header: ARP broadcast from the guest.
var goldenEthARP = unhex(`
	ff ff ff ff ff ff // dst broadcast
	52 54 00 12 34 56 // src
	08 06             // type ARP
`)

// ARP request (RFC 826): who-has 10.0.2.2 tell 10.0.2.15.
var goldenARPRequest = unhex(`
	00 01             // htype Ethernet
	08 00             // ptype IPv4
	06 04             // hlen, plen
	00 01             // op request
	52 54 00 12 34 56 // sender MAC
	0a 00 02 0f       // sender IP 10.0.2.15
	00 00 00 00 00 00 // target MAC unknown
	0a 00 02 02       // target IP 10.0.2.2
`)

// ARP reply: 10.0.2.2 is-at 52:55:0a:00:02:02, to the guest.
var goldenARPReply = unhex(`
	00 01 08 00 06 04
	00 02             // op reply
	52 55 0a 00 02 02 // sender MAC
	0a 00 02 02       // sender IP
	52 54 00 12 34 56 // target MAC
	0a 00 02 0f       // target IP
`)

// IPv4 header (RFC 791) of a UDP datagram: the worked example of the IPv4
// header checksum in common use, 192.168.0.1 to 192.168.0.199, checksum 0xb861.
var goldenIPv4UDP = unhex(`
	45                // version 4, IHL 5
	00                // TOS
	00 73             // total length 115
	00 00             // ID
	40 00             // DF, offset 0
	40                // TTL 64
	11                // UDP
	b8 61             // checksum
	c0 a8 00 01       // src
	c0 a8 00 c7       // dst
`)

// IPv4 header of the TCP SYN in goldenTCPSynEncoded: 192.168.1.10 to
// 93.184.216.34, total length 64, ID 0x1c46, DF, TTL 64, checksum 0x26e5.
var goldenIPv4TCP = unhex(`
	45 00 00 40
	1c 46 40 00
	40 06 26 e5
	c0 a8 01 0a
	5d b8 d8 22
`)

// IPv4 header of a first fragment: MF set, offset 1480 (185 units of 8),
// 10.0.0.1 to 10.0.0.2, UDP, checksum 0x9488.
var goldenIPv4Frag = unhex(`
	45 00 05 dc       // total length 1500
	ab cd             // ID
	20 b9             // MF | 185
	40 11 94 88
	0a 00 00 01
	0a 00 00 02
`)

// IPv4 header with TOS 0xb8 (DSCP EF) carrying ICMP, TTL 128, checksum 0x21f8.
var goldenIPv4ICMP = unhex(`
	45 b8 00 3c
	00 01 00 00
	80 01 21 f8
	0a 00 02 0f
	0a 00 02 02
`)

// IPv4 header with one option (Router Alert, RFC 2113), as sent with an IGMPv3
// report: IHL 6, TOS 0xc0, DF, TTL 1, protocol 2, to 224.0.0.22, checksum
// 0x424f. Followed by 8 bytes of payload.
var goldenIPv4Options = unhex(`
	46 c0 00 20
	00 00 40 00
	01 02 42 4f
	c0 a8 01 0a
	e0 00 00 16
	94 04 00 00       // Router Alert
	22 00 f9 02 00 00 00 00 // payload
`)

// ICMP echo request (RFC 792) as Windows ping sends it: ID 1, sequence 1, 32
// bytes "abcdefghijklmnopqrstuvwabcdefghi", checksum 0x4d5a.
var goldenICMPEcho = unhex(`
	08 00             // type echo, code 0
	4d 5a             // checksum
	00 01 00 01       // ID, seq
	61 62 63 64 65 66 67 68 69 6a 6b 6c 6d 6e 6f 70
	71 72 73 74 75 76 77 61 62 63 64 65 66 67 68 69
`)

// ICMP destination unreachable, fragmentation needed (RFC 1191): next-hop MTU
// 1400, quoting a 1500-byte DF datagram's header (checksum 0x57db) and its
// first 8 bytes. Checksum 0x1d55.
var goldenICMPFragNeeded = unhex(`
	03 04             // type 3, code 4
	1d 55             // checksum
	00 00 05 78       // unused, MTU 1400
	45 00 05 dc 12 34 40 00 3f 11 57 db 0a 00 00 01 c0 00 02 01 // quoted header
	d4 31 00 35 05 c8 00 00 // quoted UDP header
`)

// UDP datagram (RFC 768): a DNS query for example.com A from 10.0.2.15:54321
// to 10.0.2.3:53, length 37, checksum 0x318a.
var goldenUDPDNS = unhex(`
	d4 31             // src port 54321
	00 35             // dst port 53
	00 25             // length 37
	31 8a             // checksum
	12 34 01 00 00 01 00 00 00 00 00 00 // DNS header: ID, RD, 1 question
	07 65 78 61 6d 70 6c 65 03 63 6f 6d 00 // example.com
	00 01 00 01       // type A, class IN
`)

// TCP SYN (RFC 9293 §3.1) as Linux sends it, 192.168.1.10:49152 to
// 93.184.216.34:80: options MSS 1460, SACK permitted, timestamps, NOP, window
// scale 7. Checksum 0x7fea.
var goldenTCPLinuxSYN = unhex(`
	c0 00 00 50       // ports 49152, 80
	9a 3b 1c 2d       // seq
	00 00 00 00       // ack
	a0 02             // data offset 10, SYN
	fa f0             // window 64240
	7f ea             // checksum
	00 00             // urgent
	02 04 05 b4       // MSS 1460
	04 02             // SACK permitted
	08 0a 00 9c 5e 42 00 00 00 00 // TSval 0x009c5e42, TSecr 0
	01                // NOP
	03 03 07          // window scale 7
`)

// TCP data segment, PSH|ACK, with timestamps and an HTTP request. Checksum
// 0x27ef.
var goldenTCPData = unhex(`
	c0 00 00 50
	9a 3b 1c 2e       // seq
	4f 3e 2d 1d       // ack
	80 18             // data offset 8, PSH|ACK
	01 f6             // window 502
	27 ef 00 00
	01 01 08 0a 00 9c 5e 6a 8e 1f 2c 3d // NOP NOP TS
	47 45 54 20 2f 20 48 54 54 50 2f 31 2e 31 0d 0a // GET / HTTP/1.1
	48 6f 73 74 3a 20 65 78 61 6d 70 6c 65 2e 63 6f 6d 0d 0a 0d 0a // Host: example.com
`)

// TCP ACK from the server with timestamps and two SACK blocks (RFC 2018),
// 93.184.216.34:80 to 192.168.1.10:49152. Checksum 0xbce4.
var goldenTCPSACK = unhex(`
	00 50 c0 00
	4f 3e 2d 1d
	9a 3b 1c 53
	d0 10             // data offset 13, ACK
	01 f5 bc e4 00 00
	01 01 08 0a 8e 1f 2d 00 00 9c 5e 6a // NOP NOP TS
	01 01 05 12       // NOP NOP SACK, length 18
	4f 3e 3d 1d 4f 3e 42 cd // block 1
	4f 3e 4d 1d 4f 3e 52 cd // block 2
`)

// goldenTCPSynEncoded is the SYN TCPHeader.Encode writes for synHeader, in the
// encoder's fixed option order (MSS, NOP WS, NOP NOP SACK-permitted, NOP NOP
// TS), checksum zero. With the checksum filled in for 192.168.1.10 to
// 93.184.216.34 it is 0x383d.
var goldenTCPSynEncoded = unhex(`
	c0 00 00 50
	12 34 56 78
	00 00 00 00
	b0 02             // data offset 11, SYN
	fa f0
	00 00             // checksum left zero
	00 00
	02 04 05 b4
	01 03 03 07
	01 01 04 02
	01 01 08 0a 00 01 e2 40 00 00 00 00
`)

var synHeader = wire.TCPHeader{
	SrcPort: 49152,
	DstPort: 80,
	Seq:     0x12345678,
	Flags:   wire.FlagSYN,
	Window:  64240,
	Options: wire.TCPOptions{
		MSS:           1460,
		HasWScale:     true,
		WScale:        7,
		SACKPermitted: true,
		HasTimestamps: true,
		TSVal:         123456,
	},
}
