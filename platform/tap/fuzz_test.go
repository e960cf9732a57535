//go:build linux

package tap

import (
	"testing"

	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

// FuzzReceive feeds arbitrary messages, virtio header included, to a Device
// in TSO mode (the most permissive) and checks that Receive never panics,
// hands over only frames that fit a slot, marks checksums only when they are
// right, and returns every buffer.
func FuzzReceive(f *testing.F) {
	f.Add(vnetFrame(vnetHdr{GSOType: vnetGSOTCPv4, GSOSize: 1448}, superFrame(7, 0x19, pattern(5000))))
	f.Add(vnetFrame(vnetHdr{GSOType: vnetGSOTCPv4 | vnetGSOECN, GSOSize: 3}, superFrame(7, 0x99, pattern(20))))
	f.Add(vnetFrame(vnetHdr{Flags: vnetFNeedsCsum, CsumStart: 34, CsumOffset: 6}, ethIPv4(wire.ProtoUDP, make([]byte, 30), 6, 1)))
	f.Add(vnetFrame(vnetHdr{}, pattern(60)))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, msg []byte) {
		if len(msg) == 0 || len(msg) > 100000 {
			return
		}
		d, peer := pair(t, Config{VnetHdr: true, Offload: OffloadTSO4})
		pool := pbuf.NewPool(32, 2048)
		send(t, peer, msg)
		dst := make([]*pbuf.Buf, 7)
		for range 1000 {
			n := d.Receive(pool, dst)
			for _, b := range dst[:n] {
				if b.Len() > pool.SlotSize()-rxOff || b.Len() < wire.EthernetHeaderLen {
					t.Fatalf("frame of %d bytes", b.Len())
				}
				if b.Flags&pbuf.RxIPv4ChecksumOK != 0 {
					ip, err := wire.ParseIPv4(b.Bytes()[14:])
					if err != nil || !ip.IsChecksumValid() {
						t.Fatalf("segment marked IPv4-checksum-OK is not: %v", err)
					}
					tcp, err := wire.ParseTCP(ip.Payload())
					if err != nil || !tcp.IsChecksumValid(ip.Src(), ip.Dst()) {
						t.Fatalf("segment marked TCP-checksum-OK is not: %v", err)
					}
				}
				b.Free()
			}
			if n == 0 && !d.gso.pending() {
				break
			}
		}
		if d.gso.pending() {
			t.Fatal("segments still pending after 1000 calls")
		}
		if pool.Available() != pool.Cap() {
			t.Fatalf("pool leaked: %d of %d free", pool.Available(), pool.Cap())
		}
	})
}

// FuzzReceiveGRO is FuzzReceive with GRO: a frame in a GRO buffer is a
// whole TCPv4 super-frame whose IPv4 header (total length, checksum) is
// consistent; its TCP checksum is the kernel's partial one (NEEDS_CSUM: the
// data never left the host), marked verified as a NIC would. Every buffer,
// GRO ones included, comes back.
func FuzzReceiveGRO(f *testing.F) {
	f.Add(vnetFrame(vnetHdr{Flags: vnetFNeedsCsum, GSOType: vnetGSOTCPv4, GSOSize: 1448}, superFrame(7, 0x19, pattern(5000))))
	f.Add(vnetFrame(vnetHdr{GSOType: vnetGSOTCPv4, GSOSize: 0}, superFrame(7, 0x19, pattern(50))))
	f.Add(vnetFrame(vnetHdr{Flags: vnetFNeedsCsum, CsumStart: 34, CsumOffset: 6}, ethIPv4(wire.ProtoUDP, make([]byte, 30), 6, 1)))
	f.Add(vnetFrame(vnetHdr{}, pattern(3000)))
	f.Fuzz(func(t *testing.T, msg []byte) {
		if len(msg) == 0 || len(msg) > 100000 {
			return
		}
		d, peer := pair(t, Config{VnetHdr: true, Offload: OffloadTSO4, GRO: true, GROBufs: 2})
		pool := pbuf.NewPool(32, 2048)
		send(t, peer, msg)
		dst := make([]*pbuf.Buf, 7)
		for range 1000 {
			n := d.Receive(pool, dst)
			for _, b := range dst[:n] {
				if b.Pool() == pool {
					if b.Len() > pool.SlotSize()-rxOff || b.Len() < wire.EthernetHeaderLen {
						t.Fatalf("frame of %d bytes", b.Len())
					}
				} else {
					ip, err := wire.ParseIPv4(b.Bytes()[14:])
					if err != nil || !ip.IsChecksumValid() || int(ip.TotalLen()) != b.Len()-14 || ip.Protocol() != wire.ProtoTCP {
						t.Fatalf("GRO frame with a bad IPv4 header: %v", err)
					}
					if _, err := wire.ParseTCP(ip.Payload()); err != nil {
						t.Fatalf("GRO frame with a bad TCP header: %v", err)
					}
				}
				b.Free()
			}
			if n == 0 && !d.gso.pending() {
				break
			}
		}
		if pool.Available() != pool.Cap() || d.gro.Available() != d.gro.Cap() {
			t.Fatalf("leak: pool %d of %d, GRO %d of %d", pool.Available(), pool.Cap(), d.gro.Available(), d.gro.Cap())
		}
	})
}
