package e1000

import (
	"testing"

	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/drivers/e1000/e1000model"
)

// FuzzRxDescriptors plays a hostile device: each 4-byte op writes a status
// byte, an errors byte and a length into any RX descriptor (owned or not),
// then the driver receives or services; the stack holds or frees what it
// got. Whatever the device writes, the driver must not panic, must hand up
// only frames that fit their buffer, and must never lose or duplicate a
// pool buffer.
func FuzzRxDescriptors(f *testing.F) {
	f.Add([]byte{0, 0x03, 0, 60, 1, 0x03, 0x08, 0, 2, 0x01, 0, 60, 7, 0x03, 0xff, 0xff})
	f.Add([]byte{7, 0x03, 0, 64, 7, 0x03, 0, 64, 0, 0x03, 0x80, 64})
	f.Fuzz(func(t *testing.T, ops []byte) {
		r := mustRig(t, Config{RxRing: 8, TxRing: 8, PoolBufs: 12}, e1000model.Faults{})
		d := r.dev
		var held []*pbuf.Buf
		dst := make([]*pbuf.Buf, 4)
		for len(ops) >= 4 {
			i := int(ops[0]) % d.rxN
			d.rx[4*i+2] = uint32(ops[2])<<8 | uint32(ops[3])
			d.rx[4*i+3] = uint32(ops[1]) | uint32(ops[0]&0xF0)<<4
			var got []*pbuf.Buf
			if ops[0]&8 != 0 {
				d.Service(int(ops[3]%5) + 1)
			} else {
				got = dst[:d.Receive(nil, dst)]
			}
			for _, b := range got {
				if b.Len() < 14 || b.Len() > BufSize || b.Pool() != d.Pool() {
					t.Fatalf("handed up a %d-byte frame", b.Len())
				}
				if ops[2]&1 != 0 && len(held) < 3 {
					held = append(held, b)
				} else {
					b.Free()
				}
			}
			if d.rxNext < 0 || d.rxNext >= d.rxN || d.rxTail != d.prev(d.rxNext, d.rxN) {
				t.Fatalf("ring indices rxNext %d rxTail %d", d.rxNext, d.rxTail)
			}
			if n := d.pool.Available() + len(held) + d.rxN + d.ready.Len(); n != d.pool.Cap() {
				t.Fatalf("pool accounting: %d free + %d held + %d ring + %d ready != %d", d.pool.Available(),
					len(held), d.rxN, d.ready.Len(), d.pool.Cap())
			}
			ops = ops[4:]
		}
		for _, b := range held {
			b.Free()
		}
	})
}
