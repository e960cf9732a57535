package core

import (
	"encoding/binary"
	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
)

type netifCaps = netif.Caps

// testDev is a minimal in-package device for white-box tests: frames
// transmitted on one end are copied into the peer's inbox.
type testDev struct {
	mac   wire.MAC
	mtu   int
	peer  *testDev
	inbox [][]byte
	sent  [][]byte // every frame transmitted, for inspection
	keep  bool     // record sent frames
	down  bool
	caps  netifCaps
	// segmented counts super-segments the device cut (caps.TSOMax); bad
	// counts offloaded frames that broke the contract.
	segmented, bad int
}

func newTestPair(mtu int) (*testDev, *testDev) {
	a := &testDev{mac: wire.MAC{2, 0, 0, 0, 0, 1}, mtu: mtu}
	b := &testDev{mac: wire.MAC{2, 0, 0, 0, 0, 2}, mtu: mtu}
	a.peer, b.peer = b, a
	return a, b
}

func (d *testDev) Receive(pool *pbuf.Pool, dst []*pbuf.Buf) int {
	n := 0
	for n < len(dst) && len(d.inbox) > 0 {
		f := d.inbox[0]
		d.inbox = d.inbox[1:]
		b, err := pool.Alloc(pbuf.LayerRaw, len(f))
		if err != nil {
			continue
		}
		copy(b.Bytes(), f)
		dst[n] = b
		n++
	}
	return n
}

func (d *testDev) Transmit(frames []*pbuf.Buf) int {
	for _, b := range frames {
		for _, f := range d.offload(b) {
			if d.keep {
				d.sent = append(d.sent, f)
			}
			if d.peer != nil && !d.down {
				d.peer.inbox = append(d.peer.inbox, f)
			}
		}
		b.Free()
	}
	return len(frames)
}

// offload returns the frames b becomes on the wire: itself, or with the
// offloads the device offers, the MTU-sized segments of a super-segment
// and completed checksums, as a NIC would (Linux's tcp_gso_segment). It
// checks the stack's side of the contract: the checksum field holds the
// pseudo-header sum over the whole TCP length, the datagram fits TSOMax.
func (d *testDev) offload(b *pbuf.Buf) [][]byte {
	f := b.Bytes()
	partial := b.Flags&pbuf.TxL4ChecksumPartial != 0
	if !partial && b.GSOSize == 0 {
		return [][]byte{append([]byte(nil), f...)}
	}
	ip := wire.IPv4(f[wire.EthernetHeaderLen:])
	t := wire.TCP(ip[ip.HeaderLen():])
	if !partial || !d.caps.TxChecksumOffload || ip.Protocol() != wire.ProtoTCP ||
		t.Checksum() != ^wire.Fold(wire.PseudoHeaderSum(ip.Src(), ip.Dst(), wire.ProtoTCP, len(t))) ||
		(b.GSOSize != 0 && (d.caps.TSOMax == 0 || len(ip) > d.caps.TSOMax)) {
		d.bad++
		return nil
	}
	hl := wire.EthernetHeaderLen + ip.HeaderLen() + t.HeaderLen()
	mss := len(f) - hl
	if b.GSOSize != 0 {
		mss = int(b.GSOSize)
		d.segmented++
	}
	var out [][]byte
	for off, i := hl, 0; off < len(f); off, i = off+mss, i+1 {
		end := min(off+mss, len(f))
		seg := append(append([]byte(nil), f[:hl]...), f[off:end]...)
		sip := wire.IPv4(seg[wire.EthernetHeaderLen:])
		binary.BigEndian.PutUint16(sip[2:], uint16(len(sip)))
		binary.BigEndian.PutUint16(sip[4:], ip.ID()+uint16(i))
		sip.UpdateChecksum()
		st := wire.TCP(sip[ip.HeaderLen():])
		binary.BigEndian.PutUint32(st[4:], uint32(t.Seq())+uint32(off-hl))
		if end < len(f) {
			st[13] &^= 0x09 // FIN and PSH only on the last segment
		}
		st.SetChecksum(0)
		st.SetChecksum(wire.Fold(wire.Checksum(st, wire.PseudoHeaderSum(ip.Src(), ip.Dst(), wire.ProtoTCP, len(st)))))
		out = append(out, seg)
	}
	return out
}

func (d *testDev) HardwareAddr() wire.MAC { return d.mac }
func (d *testDev) MTU() int               { return d.mtu }
func (d *testDev) Caps() netifCaps        { return d.caps }
func (d *testDev) LinkUp() bool           { return !d.down }

// runPair polls both stacks, advancing the clock by step, until neither has
// frames in flight or rounds run out.
func runPair(clk *clock.Manual, a, b *Stack, da, db *testDev, rounds int, step clock.Duration) {
	for range rounds {
		a.Poll(clk.Now())
		b.Poll(clk.Now())
		if len(da.inbox) == 0 && len(db.inbox) == 0 {
			return
		}
		clk.Advance(step)
	}
}
