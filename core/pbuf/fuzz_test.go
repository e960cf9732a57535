package pbuf_test

import (
	"testing"

	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/pbuf"
)

// modelBuf is the fuzz model of one allocated buffer.
type modelBuf struct {
	b        *pbuf.Buf
	refs     int
	off, end int // expected data window in the slot
	flags    pbuf.Flags
}

// FuzzPoolOps drives a pool through random sequences of Alloc, Free, Ref,
// Prepend, Consume, Append, Truncate, SetWindow, Clone, queueing and double
// frees, checking after every step against a model: every slot is either
// free or held (Available() + held == Cap()), no slot is handed out twice,
// windows move exactly as documented, and AllocFails counts refusals.
func FuzzPoolOps(f *testing.F) {
	const (
		slots = 4
		size  = 512
		base  = 0x4000_0000
	)
	f.Fuzz(func(t *testing.T, ops []byte) {
		p := pbuf.NewPoolArena(make([]byte, slots*size), size, func(off int) uint64 { return base + uint64(off) })
		var (
			held     []*modelBuf // owned outside the queue
			queued   []*modelBuf // owned by q, in FIFO order
			released []*pbuf.Buf // returned to the pool at some point
			q        pbuf.Queue
			fails    uint64
		)
		isLive := func(b *pbuf.Buf) bool {
			for _, m := range append(held[:len(held):len(held)], queued...) {
				if m.b == b {
					return true
				}
			}
			return false
		}
		check := func(step int) {
			t.Helper()
			if got := p.Available() + len(held) + len(queued); got != p.Cap() {
				t.Fatalf("step %d: Available %d + held %d + queued %d != Cap %d", step, p.Available(), len(held), len(queued), p.Cap())
			}
			if p.AllocFails != fails {
				t.Fatalf("step %d: AllocFails %d, want %d", step, p.AllocFails, fails)
			}
			if q.Len() != len(queued) {
				t.Fatalf("step %d: queue Len %d, want %d", step, q.Len(), len(queued))
			}
			seen := map[*pbuf.Buf]bool{}
			for _, m := range append(held[:len(held):len(held)], queued...) {
				if seen[m.b] {
					t.Fatalf("step %d: slot %p handed out twice", step, m.b)
				}
				seen[m.b] = true
				if m.b.Headroom() != m.off || m.b.Len() != m.end-m.off || m.b.Tailroom() != size-m.end {
					t.Fatalf("step %d: window %d/%d/%d, want off %d end %d", step, m.b.Headroom(), m.b.Len(), m.b.Tailroom(), m.off, m.end)
				}
				if m.b.Flags != m.flags {
					t.Fatalf("step %d: flags %v, want %v", step, m.b.Flags, m.flags)
				}
				rel := m.b.BusAddr() - base - uint64(m.off)
				if rel%size != 0 || rel >= slots*size {
					t.Fatalf("step %d: BusAddr %#x is not slot start + %d", step, m.b.BusAddr(), m.off)
				}
			}
		}
		alloc := func(l pbuf.Layer, n int) {
			b, err := p.Alloc(l, n)
			h := l.Headroom()
			switch {
			case n < 0 || h+n > size:
				if err != errs.ErrVal || b != nil {
					t.Fatalf("Alloc(%v, %d) = %v, %v; want ErrVal", l, n, b, err)
				}
			case len(held)+len(queued) == slots:
				if err != errs.ErrMem || b != nil {
					t.Fatalf("Alloc on a full pool = %v, %v; want ErrMem", b, err)
				}
				fails++
			default:
				if err != nil {
					t.Fatalf("Alloc(%v, %d) with %d free slots: %v", l, n, p.Available(), err)
				}
				if b.Next != nil || b.Flags != 0 {
					t.Fatalf("Alloc returned Next %p, Flags %v", b.Next, b.Flags)
				}
				held = append(held, &modelBuf{b: b, refs: 1, off: h, end: h + n})
			}
		}
		for i, step := 0, 0; i+2 < len(ops); i, step = i+3, step+1 {
			op, sel, arg := ops[i]%10, int(ops[i+1]), int(ops[i+2])
			var m *modelBuf
			if len(held) > 0 {
				m = held[sel%len(held)]
			}
			switch op {
			case 0: // Alloc
				alloc(pbuf.Layer(sel%5), arg*3-8)
			case 1: // Free
				if m == nil {
					break
				}
				m.b.Free()
				if m.refs--; m.refs == 0 {
					held = remove(held, m)
					released = append(released, m.b)
				}
			case 2: // Ref
				if m == nil || m.refs > 1000 {
					break
				}
				m.b.Ref()
				m.refs++
			case 3: // Prepend
				if m == nil {
					break
				}
				n := arg%160 - 16
				got := m.b.Prepend(n)
				if ok := n >= 0 && n <= m.off; ok != (got != nil) || (ok && len(got) != n) {
					t.Fatalf("Prepend(%d) with headroom %d: %d bytes, nil %v", n, m.off, len(got), got == nil)
				}
				if got != nil {
					m.off -= n
				}
			case 4: // Consume
				if m == nil {
					break
				}
				n := arg%160 - 16
				ok := n >= 0 && n <= m.end-m.off
				if got := m.b.Consume(n); got != ok {
					t.Fatalf("Consume(%d) with len %d = %v", n, m.end-m.off, got)
				}
				if ok {
					m.off += n
				}
			case 5: // Append or Truncate
				if m == nil {
					break
				}
				n := arg>>1 - 16
				if arg&1 == 0 {
					ok := n >= 0 && n <= size-m.end
					if got := m.b.Append(n); ok != (got != nil) || (ok && len(got) != n) {
						t.Fatalf("Append(%d) with tailroom %d: %d bytes", n, size-m.end, len(got))
					}
					if ok {
						m.end += n
					}
				} else {
					ok := n >= 0 && n <= m.end-m.off
					if got := m.b.Truncate(n); got != ok {
						t.Fatalf("Truncate(%d) with len %d = %v", n, m.end-m.off, got)
					}
					if ok {
						m.end = m.off + n
					}
				}
			case 6: // SetWindow
				if m == nil {
					break
				}
				off, end := sel*3-20, sel*3-20+arg*3-40
				ok := off >= 0 && off <= end && end <= size
				if got := m.b.SetWindow(off, end); got != ok {
					t.Fatalf("SetWindow(%d, %d) = %v", off, end, got)
				}
				if ok {
					m.off, m.end = off, end
				}
				m.b.Flags = pbuf.Flags(arg)
				m.flags = m.b.Flags
			case 7: // Clone
				if m == nil {
					break
				}
				c, err := m.b.Clone()
				if len(held)+len(queued) == slots {
					if err != errs.ErrMem || c != nil {
						t.Fatalf("Clone on a full pool = %v, %v", c, err)
					}
					fails++
					break
				}
				if err != nil {
					t.Fatalf("Clone: %v", err)
				}
				if string(c.Bytes()) != string(m.b.Bytes()) {
					t.Fatal("Clone data differs")
				}
				held = append(held, &modelBuf{b: c, refs: 1, off: m.off, end: m.end, flags: m.flags})
			case 8: // Push one reference into the queue, or Pop
				if arg&1 == 0 {
					if m == nil || m.refs != 1 {
						break
					}
					q.Push(m.b)
					held = remove(held, m)
					queued = append(queued, m)
				} else {
					b := q.Pop()
					if len(queued) == 0 {
						if b != nil {
							t.Fatal("Pop on an empty queue returned a buffer")
						}
						break
					}
					if b != queued[0].b {
						t.Fatal("Pop broke FIFO order")
					}
					if q.Peek() != nil && q.Peek() != queued[1].b {
						t.Fatal("Peek after Pop is not the next buffer")
					}
					held = append(held, queued[0])
					queued = queued[1:]
				}
			case 9: // Free a buffer that is back in the pool: must panic, change nothing
				if len(released) == 0 {
					break
				}
				b := released[sel%len(released)]
				if isLive(b) {
					break // the slot was handed out again
				}
				avail := p.Available()
				mustPanic(t, "double Free", b.Free)
				if p.Available() != avail {
					t.Fatalf("double Free changed Available from %d to %d", avail, p.Available())
				}
			}
			check(step)
		}
		// Release everything: every slot comes back.
		q.FreeAll()
		for _, m := range held {
			for range m.refs {
				m.b.Free()
			}
		}
		if p.Available() != p.Cap() {
			t.Fatalf("after releasing everything: Available %d, Cap %d", p.Available(), p.Cap())
		}
	})
}

func remove(s []*modelBuf, m *modelBuf) []*modelBuf {
	for i, x := range s {
		if x == m {
			return append(s[:i], s[i+1:]...)
		}
	}
	panic("remove: not found")
}
