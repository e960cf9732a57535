package fault

import (
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
)

// FuzzFaultConservesBuffers drives a wrapper with a random Config through a
// random sequence of transmits, clock steps, polls and inner-device stalls.
// It must not panic, must account for every frame, and once drained must
// have returned every buffer to the pool.
func FuzzFaultConservesBuffers(f *testing.F) {
	f.Add(uint64(1), uint8(30), uint8(30), uint8(30), uint8(30), uint16(200), uint16(100), uint32(50_000), uint16(1000), uint8(8), uint8(20),
		[]byte{0x04, 0x41, 0x02, 0x07, 0x11, 0x03, 0x0a, 0x82, 0xff, 0x00, 0x13, 0x1b})
	f.Add(uint64(2), uint8(0), uint8(0), uint8(0), uint8(255), uint16(0), uint16(0), uint32(0), uint16(0), uint8(1), uint8(0),
		[]byte{0x0c, 0x0c, 0x0c, 0x03, 0x02, 0x01, 0x0c})
	f.Add(uint64(3), uint8(0), uint8(255), uint8(255), uint8(0), uint16(0), uint16(0), uint32(0), uint16(0), uint8(0), uint8(0),
		[]byte{0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c, 0x0c})
	f.Add(uint64(4), uint8(0), uint8(0), uint8(0), uint8(0), uint16(0), uint16(0), uint32(0), uint16(0), uint8(0), uint8(0),
		[]byte{0x03, 0x0c, 0x0c, 0x07, 0x0c})
	f.Fuzz(func(t *testing.T, seed uint64, drop, corrupt, dup, reorder uint8, delayUs, jitterUs uint16,
		rate uint32, clamp uint16, maxHeld, corruptOff uint8, ops []byte) {
		var clk clock.Manual
		cfg := Config{
			Seed:          seed,
			DropRate:      float64(drop) / 255,
			CorruptRate:   float64(corrupt) / 255,
			CorruptOffset: int(corruptOff),
			DuplicateRate: float64(dup) / 255,
			ReorderRate:   float64(reorder) / 255,
			Delay:         clock.Duration(delayUs) * clock.Microsecond,
			Jitter:        clock.Duration(jitterUs) * clock.Microsecond,
			RateLimit:     uint64(rate),
			MTUClamp:      int(clamp),
			MaxHeld:       int(maxHeld % 32),
		}
		p := pbuf.NewPool(16, 1600)
		s := newSink()
		s.record = false
		d := New(s, &clk, cfg)
		var fs [4]*pbuf.Buf
		var dst [2]*pbuf.Buf
		for i, op := range ops {
			arg := int(op >> 2)
			switch op & 3 {
			case 0: // transmit 1-4 frames
				k := 0
				for ; k < 1+arg%4; k++ {
					b, err := p.Alloc(pbuf.LayerLink, (arg*37+i*11)%(1600-pbuf.LayerLink.Headroom()))
					if err != nil {
						break
					}
					fs[k] = b
				}
				n := d.Transmit(fs[:k])
				for _, b := range fs[n:k] {
					b.Free() // refused: still ours
				}
			case 1: // the clock moves
				clk.Advance(clock.Duration(arg*arg) * 10 * clock.Microsecond)
			case 2: // the stack polls
				d.Receive(p, dst[:])
			case 3: // the inner device stalls or recovers
				s.room = arg%3 - 1
			}
			checkAccounting(t, d)
			if dl := d.NextDeadline(); d.Held() > 0 && dl == clock.Never || d.Held() == 0 && dl != clock.Never {
				t.Fatalf("NextDeadline %d with %d held", dl, d.Held())
			}
		}
		s.room = -1
		clk.Advance(clock.Minute)
		d.Receive(p, dst[:])
		if d.Held() != 0 {
			t.Fatalf("%d frames still held after the clock passed every deadline", d.Held())
		}
		if d.Flush() != 0 {
			t.Fatal("Flush left frames")
		}
		checkAccounting(t, d)
		if p.Available() != p.Cap() {
			t.Fatalf("%d of %d buffers not returned", p.Cap()-p.Available(), p.Cap())
		}
	})
}
