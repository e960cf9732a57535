package fault

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/bits"
	"slices"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
)

// sink is an inner device that records (optionally) and frees what it is
// given. room limits how many more frames it accepts (negative: no limit).
type sink struct {
	room   int
	record bool
	frames [][]byte
}

func newSink() *sink { return &sink{room: -1, record: true} }

func (s *sink) Transmit(fs []*pbuf.Buf) int {
	n := 0
	for _, b := range fs {
		if s.room == 0 {
			break
		}
		if s.room > 0 {
			s.room--
		}
		if s.record {
			s.frames = append(s.frames, bytes.Clone(b.Bytes()))
		}
		b.Free()
		n++
	}
	return n
}
func (s *sink) Receive(*pbuf.Pool, []*pbuf.Buf) int { return 0 }
func (s *sink) HardwareAddr() wire.MAC              { return wire.MAC{2, 0, 0, 0, 0, 9} }
func (s *sink) MTU() int                            { return 1500 }
func (s *sink) Caps() netif.Caps                    { return netif.Caps{RxChecksum: true} }
func (s *sink) LinkUp() bool                        { return true }

// ids returns the frame numbers the sink received, in order.
func (s *sink) ids() []uint32 {
	out := make([]uint32, len(s.frames))
	for i, f := range s.frames {
		out[i] = binary.BigEndian.Uint32(f[wire.EthernetHeaderLen:])
	}
	return out
}

// frame allocates an n-byte frame (n >= 18) numbered id.
func frame(t testing.TB, p *pbuf.Pool, n int, id uint32) *pbuf.Buf {
	t.Helper()
	b, err := p.Alloc(pbuf.LayerLink, n)
	if err != nil {
		t.Fatalf("Alloc(%d): %v", n, err)
	}
	f := b.Bytes()
	h := wire.EthernetHeader{Dst: wire.MAC{2, 0, 0, 0, 0, 2}, Src: wire.MAC{2, 0, 0, 0, 0, 1}, Type: wire.EtherTypeIPv4}
	h.Encode(wire.Ethernet(f))
	binary.BigEndian.PutUint32(f[wire.EthernetHeaderLen:], id)
	for i := wire.EthernetHeaderLen + 4; i < n; i++ {
		f[i] = byte(i)
	}
	return b
}

func tx(d *Device, bs ...*pbuf.Buf) int { return d.Transmit(bs) }

// poll is what a stack does each round: Receive (nothing comes back from a
// sink), which releases due frames.
func poll(d *Device) {
	var dst [1]*pbuf.Buf
	d.Receive(nil, dst[:])
}

// checkAccounting verifies the conservation identity of Stats.
func checkAccounting(t testing.TB, d *Device) {
	t.Helper()
	s := d.Stats()
	in := s.Frames + s.Duplicated
	out := s.Passed + s.Dropped + s.RateLimited + s.MTUClamped + s.HeldOverflow + s.CorruptNoBuf + s.Discarded + uint64(d.Held())
	if in != out {
		t.Fatalf("frames in %d != frames out %d: %+v, held %d", in, out, s, d.Held())
	}
}

func TestZeroConfigIsTransparent(t *testing.T) {
	p := pbuf.NewPool(8, 2048)
	s := newSink()
	s.room = 2
	d := New(s, nil, Config{})
	third := frame(t, p, 60, 3)
	if n := tx(d, frame(t, p, 60, 1), frame(t, p, 60, 2), third); n != 2 {
		t.Fatalf("Transmit = %d, want the inner device's 2", n)
	}
	third.Free() // still the caller's
	if p.Available() != p.Cap() {
		t.Error("a buffer leaked")
	}
	if st := d.Stats(); st.Frames != 2 || st.Passed != 2 {
		t.Errorf("Stats = %+v", st)
	}
	if d.HardwareAddr() != s.HardwareAddr() || d.MTU() != 1500 || d.Caps() != s.Caps() || !d.LinkUp() || d.Inner() != s {
		t.Error("a forwarder does not forward")
	}
	if d.NextDeadline() != clock.Never {
		t.Error("NextDeadline with nothing held is not Never")
	}
}

// TestFaultRatesConvergeToConfiguredProbabilities sends 100k frames through
// each fault alone and checks the observed rate is within 5 standard
// deviations of the configured one.
func TestFaultRatesConvergeToConfiguredProbabilities(t *testing.T) {
	const n = 100_000
	cases := []struct {
		name  string
		cfg   Config
		count func(Stats) uint64
		p     float64
	}{
		{"drop", Config{DropRate: 0.1}, func(s Stats) uint64 { return s.Dropped }, 0.1},
		{"corrupt", Config{CorruptRate: 0.05}, func(s Stats) uint64 { return s.Corrupted }, 0.05},
		{"duplicate", Config{DuplicateRate: 0.2}, func(s Stats) uint64 { return s.Duplicated }, 0.2},
		{"reorder", Config{ReorderRate: 0.01}, func(s Stats) uint64 { return s.Reordered }, 0.01},
		{"drop-all", Config{DropRate: 1}, func(s Stats) uint64 { return s.Dropped }, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := pbuf.NewPool(4, 256)
			s := newSink()
			s.record = false
			c.cfg.Seed = 0x5eed
			d := New(s, nil, c.cfg)
			for i := range n {
				tx(d, frame(t, p, 64, uint32(i)))
			}
			d.Flush()
			got := float64(c.count(d.Stats())) / n
			tol := 5 * math.Sqrt(c.p*(1-c.p)/n)
			if math.Abs(got-c.p) > tol {
				t.Errorf("observed rate %.5f, want %.5f ± %.5f", got, c.p, tol)
			}
			checkAccounting(t, d)
			if p.Available() != p.Cap() {
				t.Errorf("%d buffers leaked", p.Cap()-p.Available())
			}
		})
	}
}

func allFaults(seed uint64) Config {
	return Config{
		Seed: seed, DropRate: 0.05, CorruptRate: 0.05, DuplicateRate: 0.05, ReorderRate: 0.05,
		Delay: 2 * clock.Millisecond, Jitter: clock.Millisecond, RateLimit: 2_000_000, MTUClamp: 1400,
		MaxHeld: 256,
	}
}

// run sends frames of varying sizes every 100µs for 1 s through a wrapper
// with cfg and returns what came out and the counters.
func run(t *testing.T, cfg Config) ([][]byte, Stats) {
	p := pbuf.NewPool(300, 2048)
	s := newSink()
	var clk clock.Manual
	d := New(s, &clk, cfg)
	for i := range 10_000 {
		tx(d, frame(t, p, 60+(i*97)%1454, uint32(i)))
		clk.Advance(100 * clock.Microsecond)
		poll(d)
	}
	clk.Advance(clock.Second)
	poll(d)
	checkAccounting(t, d)
	if d.Held() != 0 || p.Available() != p.Cap() {
		t.Fatalf("held %d, leaked %d", d.Held(), p.Cap()-p.Available())
	}
	return s.frames, d.Stats()
}

func TestSameSeedGivesSameFaultSequence(t *testing.T) {
	out1, st1 := run(t, allFaults(42))
	out2, st2 := run(t, allFaults(42))
	if st1 != st2 {
		t.Fatalf("stats differ:\n%+v\n%+v", st1, st2)
	}
	if !slices.EqualFunc(out1, out2, bytes.Equal) {
		t.Fatal("same seed, different frames out")
	}
	for name, v := range map[string]uint64{"dropped": st1.Dropped, "corrupted": st1.Corrupted,
		"duplicated": st1.Duplicated, "reordered": st1.Reordered, "delayed": st1.Delayed,
		"rate-limited": st1.RateLimited, "clamped": st1.MTUClamped} {
		if v == 0 {
			t.Errorf("no frame was %s; the test does not exercise it", name)
		}
	}
	out3, _ := run(t, allFaults(43))
	if slices.EqualFunc(out1, out3, bytes.Equal) {
		t.Fatal("different seeds, same frames out")
	}
}

func TestCorruptionFlipsExactlyOneBitOfACopy(t *testing.T) {
	for _, off := range []int{0, 14, 34} {
		p := pbuf.NewPool(4, 2048)
		s := newSink()
		d := New(s, nil, Config{Seed: 7, CorruptRate: 1, CorruptOffset: off})
		const n, size = 2000, 80
		hitLow, hitHigh := false, false
		for i := range n {
			b := frame(t, p, size, uint32(i))
			want := bytes.Clone(b.Bytes())
			b.Ref() // as a retransmission queue would
			tx(d, b)
			if !bytes.Equal(b.Bytes(), want) {
				t.Fatal("the caller's Buf was modified")
			}
			b.Free()
			got := s.frames[i]
			diff, at := 0, -1
			for j := range got {
				if x := bits.OnesCount8(got[j] ^ want[j]); x != 0 {
					diff += x
					at = j
				}
			}
			if diff != 1 {
				t.Fatalf("offset %d frame %d: %d bits differ, want 1", off, i, diff)
			}
			if at < off {
				t.Fatalf("offset %d: byte %d corrupted", off, at)
			}
			hitLow = hitLow || at < off+8
			hitHigh = hitHigh || at >= size-8
		}
		if !hitLow || !hitHigh {
			t.Errorf("offset %d: corruption did not spread over the frame (first bytes %v, last bytes %v)", off, hitLow, hitHigh)
		}
		if d.Stats().Corrupted != n || p.Available() != p.Cap() {
			t.Errorf("offset %d: corrupted %d, leaked %d", off, d.Stats().Corrupted, p.Cap()-p.Available())
		}
	}
}

func TestFramesNoLongerThanCorruptOffsetPassIntact(t *testing.T) {
	p := pbuf.NewPool(4, 2048)
	s := newSink()
	d := New(s, nil, Config{CorruptRate: 1, CorruptOffset: 60})
	b := frame(t, p, 60, 1)
	want := bytes.Clone(b.Bytes())
	tx(d, b)
	if !bytes.Equal(s.frames[0], want) || d.Stats().Corrupted != 0 {
		t.Error("a frame within CorruptOffset was corrupted")
	}
}

// TestReorderSendsEachHeldFrameRightAfterItsSuccessor checks the output
// against a model: a frame that comes out after a later one was held; it
// must come out right behind the first non-held frame that follows it, in
// order with the other frames held before that one.
func TestReorderSendsEachHeldFrameRightAfterItsSuccessor(t *testing.T) {
	p := pbuf.NewPool(64, 256)
	s := newSink()
	d := New(s, nil, Config{Seed: 3, ReorderRate: 0.3})
	const n = 5000
	for i := range n {
		tx(d, frame(t, p, 64, uint32(i)))
	}
	d.Flush()
	got := s.ids()
	if len(got) != n {
		t.Fatalf("%d frames out, want %d", len(got), n)
	}
	held := map[uint32]bool{}
	var maxSeen uint32
	for i, id := range got {
		if i > 0 && id < maxSeen {
			held[id] = true
		}
		maxSeen = max(maxSeen, id)
	}
	// Reordered frames at the very end have no successor and leave in order
	// on Flush, so they do not show as late.
	if r := d.Stats().Reordered; uint64(len(held)) > r || r-uint64(len(held)) > 10 {
		t.Errorf("%d frames came out late, Stats.Reordered = %d", len(held), r)
	}
	if len(held) < n/5 {
		t.Fatalf("only %d of %d frames reordered", len(held), n)
	}
	var want, pending []uint32
	for id := range uint32(n) {
		if held[id] {
			pending = append(pending, id)
			continue
		}
		want = append(want, id)
		want = append(want, pending...)
		pending = pending[:0]
	}
	want = append(want, pending...)
	if !slices.Equal(got, want) {
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("output differs from the model at %d: %v, want %v", i, got[i:min(i+8, n)], want[i:min(i+8, n)])
			}
		}
	}
}

func TestReorderedFrameWithoutSuccessorLeavesAfterTimeout(t *testing.T) {
	p := pbuf.NewPool(4, 256)
	s := newSink()
	var clk clock.Manual
	clk.Set(1000)
	d := New(s, &clk, Config{ReorderRate: 1, ReorderTimeout: 3 * clock.Millisecond})
	tx(d, frame(t, p, 64, 1))
	deadline := clock.Time(1000).Add(3 * clock.Millisecond)
	if got := d.NextDeadline(); got != deadline {
		t.Fatalf("NextDeadline = %d, want %d", got, deadline)
	}
	clk.Set(deadline - 1)
	poll(d)
	if len(s.frames) != 0 {
		t.Fatal("released before the timeout")
	}
	clk.Set(deadline)
	poll(d)
	if len(s.frames) != 1 || d.Held() != 0 || d.NextDeadline() != clock.Never {
		t.Fatalf("not released at the timeout: %d out, %d held", len(s.frames), d.Held())
	}
}

func TestDelayReleasesExactlyAtTheDeadlineInOrder(t *testing.T) {
	p := pbuf.NewPool(8, 256)
	s := newSink()
	var clk clock.Manual
	clk.Set(12345)
	const delay = 5 * clock.Millisecond
	d := New(s, &clk, Config{Delay: delay})
	t0 := clk.Now()
	tx(d, frame(t, p, 64, 1))
	clk.Advance(clock.Microsecond)
	tx(d, frame(t, p, 64, 2))
	if got, want := d.NextDeadline(), t0.Add(delay); got != want {
		t.Fatalf("NextDeadline = %d, want %d", got, want)
	}
	clk.Set(t0.Add(delay) - 1)
	poll(d)
	if len(s.frames) != 0 {
		t.Fatal("a frame left 1 ns early")
	}
	clk.Set(t0.Add(delay))
	poll(d)
	if !slices.Equal(s.ids(), []uint32{1}) {
		t.Fatalf("at the first deadline: %v, want [1]", s.ids())
	}
	if got, want := d.NextDeadline(), t0.Add(delay+clock.Microsecond); got != want {
		t.Fatalf("NextDeadline = %d, want %d", got, want)
	}
	clk.Set(t0.Add(delay + clock.Microsecond))
	tx(d, frame(t, p, 64, 3)) // Transmit releases too, before taking new frames
	if !slices.Equal(s.ids(), []uint32{1, 2}) {
		t.Fatalf("after Transmit at the second deadline: %v, want [1 2]", s.ids())
	}
	if st := d.Stats(); st.Delayed != 3 {
		t.Errorf("Delayed = %d, want 3", st.Delayed)
	}
}

func TestJitterKeepsDelaysWithinBoundsAndReorders(t *testing.T) {
	const n = 2000
	p := pbuf.NewPool(n, 128)
	s := newSink()
	var clk clock.Manual
	const delay, jitter = 10 * clock.Millisecond, 4 * clock.Millisecond
	d := New(s, &clk, Config{Seed: 9, Delay: delay, Jitter: jitter, MaxHeld: n})
	for i := range n {
		tx(d, frame(t, p, 64, uint32(i)))
	}
	if dl := d.NextDeadline(); dl < clock.Time(delay) || dl > clock.Time(delay+jitter) {
		t.Fatalf("NextDeadline = %d outside [delay, delay+jitter]", dl)
	}
	var sum clock.Duration
	for step := clock.Duration(0); step <= delay+jitter+clock.Millisecond; step += 100 * clock.Microsecond {
		clk.Set(clock.Time(step))
		before := len(s.frames)
		poll(d)
		for range len(s.frames) - before {
			if step < delay || step > delay+jitter+100*clock.Microsecond {
				t.Fatalf("a frame left at %d ns", step)
			}
			sum += step
		}
	}
	if len(s.frames) != n {
		t.Fatalf("%d of %d frames out", len(s.frames), n)
	}
	mean := sum / n
	if mean < delay+jitter/2-jitter/10 || mean > delay+jitter/2+jitter/10+100*clock.Microsecond {
		t.Errorf("mean departure %d ns, want about %d", mean, delay+jitter/2)
	}
	if slices.IsSorted(s.ids()) {
		t.Error("jitter did not reorder any frame")
	}
}

func TestTokenBucketAdmitsTheConfiguredRate(t *testing.T) {
	const rate, frameLen, seconds = 100_000, 1000, 10
	p := pbuf.NewPool(4, 2048)
	s := newSink()
	s.record = false
	var clk clock.Manual
	d := New(s, &clk, Config{RateLimit: rate})
	burst := d.cfg.Burst
	if burst != rate/50 { // 20 ms worth
		t.Fatalf("default Burst = %d, want %d", burst, rate/50)
	}
	// Offer 1 MB/s, ten times the rate.
	for range seconds * 1000 {
		tx(d, frame(t, p, frameLen, 0))
		clk.Advance(clock.Millisecond)
	}
	admitted := d.Stats().Passed * frameLen
	lo, hi := uint64(rate*seconds-frameLen), uint64(rate*seconds)+burst
	if admitted < lo || admitted > hi {
		t.Errorf("admitted %d bytes in %d s, want [%d, %d]", admitted, seconds, lo, hi)
	}
	if d.Stats().RateLimited == 0 {
		t.Error("nothing rate-limited")
	}
}

func TestTokenBucketPassesABurstThenThrottles(t *testing.T) {
	p := pbuf.NewPool(16, 2048)
	s := newSink()
	var clk clock.Manual
	d := New(s, &clk, Config{RateLimit: 1000, Burst: 5000})
	for i := range 10 {
		tx(d, frame(t, p, 1000, uint32(i)))
	}
	if got := d.Stats().Passed; got != 5 {
		t.Fatalf("%d frames of the burst passed, want 5", got)
	}
	clk.Advance(999 * clock.Millisecond) // 999 bytes of tokens: not enough
	tx(d, frame(t, p, 1000, 10))
	clk.Advance(clock.Millisecond) // 1 more byte
	tx(d, frame(t, p, 1000, 11))
	if got := s.ids(); !slices.Equal(got, []uint32{0, 1, 2, 3, 4, 11}) {
		t.Fatalf("passed %v", got)
	}
	// Fractions of a byte accumulate: 1000 steps of 999 µs carry 999 bytes,
	// though each step alone is worth less than one.
	for range 1000 {
		clk.Advance(999 * clock.Microsecond)
		b, _ := p.Alloc(pbuf.LayerRaw, 1) // a 1-byte "frame" costs 1 token
		tx(d, b)
	}
	if got := d.Stats().Passed; got != 6+999 {
		t.Errorf("1-byte frames passed: %d, want 999", got-6)
	}
}

func TestMTUClampDropsFramesWithALargerIPPayload(t *testing.T) {
	p := pbuf.NewPool(4, 2048)
	s := newSink()
	d := New(s, nil, Config{MTUClamp: 1000})
	tx(d, frame(t, p, 1014, 1), frame(t, p, 1015, 2))
	if !slices.Equal(s.ids(), []uint32{1}) || d.Stats().MTUClamped != 1 {
		t.Fatalf("passed %v, clamped %d", s.ids(), d.Stats().MTUClamped)
	}
	if d.MTU() != 1500 {
		t.Error("MTUClamp changed the reported MTU")
	}
}

func TestHeldFramesAreBoundedByMaxHeld(t *testing.T) {
	p := pbuf.NewPool(8, 256)
	s := newSink()
	var clk clock.Manual
	d := New(s, &clk, Config{Delay: clock.Millisecond, MaxHeld: 4})
	for i := range 6 {
		tx(d, frame(t, p, 64, uint32(i)))
	}
	if d.Held() != 4 || d.Stats().HeldOverflow != 2 {
		t.Fatalf("held %d, overflow %d", d.Held(), d.Stats().HeldOverflow)
	}
	if p.Available() != p.Cap()-4 {
		t.Fatal("overflowing frames were not freed")
	}
	clk.Advance(clock.Millisecond)
	poll(d)
	if !slices.Equal(s.ids(), []uint32{0, 1, 2, 3}) {
		t.Fatalf("released %v", s.ids())
	}
}

func TestFramesTheInnerDeviceRefusesAreHeldAndRetriedInOrder(t *testing.T) {
	p := pbuf.NewPool(8, 256)
	s := newSink()
	s.room = 1
	d := New(s, nil, Config{MTUClamp: 9000}) // a fault that never fires: not transparent
	if n := tx(d, frame(t, p, 64, 1), frame(t, p, 64, 2), frame(t, p, 64, 3)); n != 3 {
		t.Fatalf("Transmit = %d, want 3", n)
	}
	if d.Held() != 2 || d.Stats().InnerRefused == 0 {
		t.Fatalf("held %d, refused %d", d.Held(), d.Stats().InnerRefused)
	}
	s.room = -1
	tx(d, frame(t, p, 64, 4))
	if !slices.Equal(s.ids(), []uint32{1, 2, 3, 4}) {
		t.Fatalf("order %v, want [1 2 3 4]", s.ids())
	}
	checkAccounting(t, d)
}

func TestClonesFromAnEmptyPoolAreCounted(t *testing.T) {
	p := pbuf.NewPool(1, 256)
	s := newSink()
	d := New(s, nil, Config{DuplicateRate: 1})
	tx(d, frame(t, p, 64, 1))
	if len(s.frames) != 1 || d.Stats().DuplicateNoBuf != 1 || d.Stats().Duplicated != 0 {
		t.Errorf("duplicate without a slot: %d out, %+v", len(s.frames), d.Stats())
	}
	d = New(s, nil, Config{CorruptRate: 1})
	tx(d, frame(t, p, 64, 2))
	if len(s.frames) != 1 || d.Stats().CorruptNoBuf != 1 {
		t.Errorf("corruption without a slot: %d out, %+v", len(s.frames), d.Stats())
	}
	if p.Available() != 1 {
		t.Error("a buffer leaked")
	}
}

func TestDuplicatesFollowTheirOriginal(t *testing.T) {
	p := pbuf.NewPool(4, 256)
	s := newSink()
	d := New(s, nil, Config{DuplicateRate: 1})
	tx(d, frame(t, p, 64, 1), frame(t, p, 64, 2))
	if !slices.Equal(s.ids(), []uint32{1, 1, 2, 2}) {
		t.Errorf("got %v", s.ids())
	}
}

func TestFlushSendsEverythingAndDiscardFreesIt(t *testing.T) {
	p := pbuf.NewPool(8, 256)
	s := newSink()
	var clk clock.Manual
	d := New(s, &clk, Config{Delay: clock.Second})
	tx(d, frame(t, p, 64, 1), frame(t, p, 64, 2))
	if left := d.Flush(); left != 0 || !slices.Equal(s.ids(), []uint32{1, 2}) {
		t.Fatalf("Flush left %d, sent %v", left, s.ids())
	}
	tx(d, frame(t, p, 64, 3), frame(t, p, 64, 4))
	d.Discard()
	if d.Held() != 0 || d.Stats().Discarded != 2 || p.Available() != p.Cap() || d.NextDeadline() != clock.Never {
		t.Fatalf("Discard: held %d, stats %+v", d.Held(), d.Stats())
	}
	checkAccounting(t, d)
}

func TestNextDeadlineForwardsTheInnerDevices(t *testing.T) {
	p := pbuf.NewPool(8, 256)
	var clk clock.Manual
	inner := New(newSink(), &clk, Config{Delay: 2 * clock.Millisecond})
	outer := New(inner, &clk, Config{Delay: 5 * clock.Millisecond})
	inner.Transmit([]*pbuf.Buf{frame(t, p, 64, 1)})
	if got := outer.NextDeadline(); got != clock.Time(2*clock.Millisecond) {
		t.Fatalf("NextDeadline = %d, want the inner's 2 ms", got)
	}
	outer.Transmit([]*pbuf.Buf{frame(t, p, 64, 2)})
	clk.Advance(3 * clock.Millisecond)
	var dst [1]*pbuf.Buf
	outer.Receive(nil, dst[:]) // releases nothing of outer's; inner released by its own poll only
	inner.Receive(nil, dst[:])
	if got := outer.NextDeadline(); got != clock.Time(5*clock.Millisecond) {
		t.Fatalf("NextDeadline = %d, want the outer's 5 ms", got)
	}
}

func TestNewPanicsOnBadConfig(t *testing.T) {
	var clk clock.Manual
	bad := []struct {
		name string
		clk  clock.Source
		cfg  Config
	}{
		{"negative rate", nil, Config{DropRate: -0.1}},
		{"rate above one", nil, Config{CorruptRate: 1.01}},
		{"NaN rate", nil, Config{ReorderRate: math.NaN()}},
		{"negative delay", &clk, Config{Delay: -1}},
		{"negative offset", nil, Config{CorruptOffset: -1}},
		{"negative MaxHeld", nil, Config{MaxHeld: -1}},
		{"delay without clock", nil, Config{Delay: 1}},
		{"jitter without clock", nil, Config{Jitter: 1}},
		{"rate limit without clock", nil, Config{RateLimit: 1}},
	}
	for _, c := range bad {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: New did not panic", c.name)
				}
			}()
			New(newSink(), c.clk, c.cfg)
		}()
	}
}

func TestTransmitDoesNotAllocate(t *testing.T) {
	var clk clock.Manual
	cases := []struct {
		name string
		cfg  Config
	}{
		{"no faults", Config{}},
		{"drop all", Config{DropRate: 1}},
		{"every fault", allFaults(1)},
	}
	for _, c := range cases {
		p := pbuf.NewPool(64, 2048)
		s := newSink()
		s.record = false
		d := New(s, &clk, c.cfg)
		var fs [4]*pbuf.Buf
		var dst [4]*pbuf.Buf
		allocs := testing.AllocsPerRun(1000, func() {
			for i := range fs {
				fs[i], _ = p.Alloc(pbuf.LayerLink, 100+300*i)
			}
			d.Transmit(fs[:])
			clk.Advance(500 * clock.Microsecond)
			d.Receive(p, dst[:])
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per round, want 0", c.name, allocs)
		}
		d.Flush()
		if p.Available() != p.Cap() {
			t.Errorf("%s: %d buffers leaked", c.name, p.Cap()-p.Available())
		}
	}
}

func TestSplitMix64MatchesReference(t *testing.T) {
	// First outputs for seed 0, from the reference C implementation
	// (Vigna, splitmix64.c).
	want := []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f}
	r := splitMix64{0}
	for i, w := range want {
		if got := r.next(); got != w {
			t.Errorf("output %d = %#x, want %#x", i, got, w)
		}
	}
}
