package fault

import (
	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
)

// Defaults for the zero fields of Config.
const (
	DefaultMaxHeld        = 64
	DefaultReorderTimeout = 10 * clock.Millisecond
	// MinBurst is the smallest default Burst: one full 1500-MTU frame.
	MinBurst = 1514
)

// Config selects the faults. The zero Config injects none.
type Config struct {
	// Seed seeds the generator. Equal seeds give equal fault sequences.
	Seed uint64

	// DropRate is the probability that a frame is lost.
	DropRate float64
	// CorruptRate is the probability that one bit of a frame is flipped.
	CorruptRate float64
	// CorruptOffset is the first byte that corruption may hit (0: the whole
	// frame). Frames no longer than it pass intact.
	CorruptOffset int
	// DuplicateRate is the probability that a frame is sent twice.
	DuplicateRate float64
	// ReorderRate is the probability that a frame is held back behind the
	// next one.
	ReorderRate float64
	// ReorderTimeout bounds how long a reordered frame waits for a successor
	// after its due time (default DefaultReorderTimeout).
	ReorderTimeout clock.Duration

	// Delay is added to every frame's departure.
	Delay clock.Duration
	// Jitter adds a uniform random extra delay in [0, Jitter].
	Jitter clock.Duration

	// RateLimit is the token-bucket rate in bytes per second (0: unlimited).
	RateLimit uint64
	// Burst is the bucket size in bytes (default: 20 ms at RateLimit, at
	// least MinBurst). Frames longer than Burst never pass.
	Burst uint64

	// MTUClamp drops frames whose IP payload, len(frame)-14, exceeds it
	// (0: off).
	MTUClamp int

	// MaxHeld bounds the frames held for delay, reordering or a full inner
	// device (default DefaultMaxHeld).
	MaxHeld int
}

// Stats counts what the wrapper did. A frame can count in several fields
// (corrupted and delayed, say). Every frame is accounted for:
//
//	Frames + Duplicated == Passed + Dropped + RateLimited + MTUClamped +
//	                       HeldOverflow + CorruptNoBuf + Discarded + Held()
type Stats struct {
	Frames         uint64 // frames Transmit took from the caller
	Passed         uint64 // frames handed to the inner device, duplicates included
	Dropped        uint64 // frames lost to DropRate
	Corrupted      uint64 // frames sent with one bit flipped
	Duplicated     uint64 // duplicates created
	Reordered      uint64 // frames held back behind their successor
	Delayed        uint64 // frames (duplicates included) held for Delay or Jitter
	RateLimited    uint64 // frames dropped by the token bucket
	MTUClamped     uint64 // frames dropped by MTUClamp
	HeldOverflow   uint64 // frames dropped because MaxHeld frames were held
	CorruptNoBuf   uint64 // frames dropped because the pool had no slot for the corrupted copy
	DuplicateNoBuf uint64 // duplicates skipped because the pool had no slot for them
	InnerRefused   uint64 // times the inner device refused a frame, which stayed held
	Discarded      uint64 // held frames freed by Discard
}

// held is a frame waiting in the wrapper.
type held struct {
	b         *pbuf.Buf
	due       clock.Time // departure time from Delay and Jitter
	seq       uint64     // order in which frames entered the wrapper
	afterNext bool       // reordered: waits for a later frame to go first
}

// Device is a fault-injecting wrapper around another Device. Create it with
// New.
type Device struct {
	inner netif.Device
	clk   clock.Source
	cfg   Config
	rng   splitMix64

	drop, corrupt, duplicate, reorder threshold

	transparent bool // no fault enabled: pass straight through

	bucket bucket

	held   []held // in seq order; cap MaxHeld
	nTimed int    // held entries that are not afterNext
	seq    uint64

	one   [1]*pbuf.Buf // scratch for single-frame inner Transmits
	stats Stats
}

var _ netif.Device = (*Device)(nil)

// New wraps inner. clk may be nil only if Delay, Jitter and RateLimit are
// zero. New panics on a rate outside [0, 1] or a negative size or duration.
func New(inner netif.Device, clk clock.Source, cfg Config) *Device {
	if cfg.CorruptOffset < 0 || cfg.ReorderTimeout < 0 || cfg.Delay < 0 || cfg.Jitter < 0 ||
		cfg.MTUClamp < 0 || cfg.MaxHeld < 0 {
		panic("fault: negative size or duration in Config")
	}
	if clk == nil && (cfg.Delay != 0 || cfg.Jitter != 0 || cfg.RateLimit != 0) {
		panic("fault: Delay, Jitter and RateLimit need a clock")
	}
	if cfg.MaxHeld == 0 {
		cfg.MaxHeld = DefaultMaxHeld
	}
	if cfg.ReorderTimeout == 0 {
		cfg.ReorderTimeout = DefaultReorderTimeout
	}
	if cfg.RateLimit != 0 && cfg.Burst == 0 {
		cfg.Burst = max(cfg.RateLimit/50, MinBurst)
	}
	d := &Device{
		inner:     inner,
		clk:       clk,
		cfg:       cfg,
		rng:       splitMix64{cfg.Seed},
		drop:      newThreshold(cfg.DropRate),
		corrupt:   newThreshold(cfg.CorruptRate),
		duplicate: newThreshold(cfg.DuplicateRate),
		reorder:   newThreshold(cfg.ReorderRate),
		held:      make([]held, 0, cfg.MaxHeld),
	}
	d.transparent = d.drop == 0 && d.corrupt == 0 && d.duplicate == 0 && d.reorder == 0 &&
		cfg.Delay == 0 && cfg.Jitter == 0 && cfg.RateLimit == 0 && cfg.MTUClamp == 0
	if cfg.RateLimit != 0 {
		d.bucket = bucket{rate: cfg.RateLimit, burst: cfg.Burst, tokens: cfg.Burst, last: clk.Now()}
	}
	return d
}

func (d *Device) now() clock.Time {
	if d.clk == nil {
		return 0
	}
	return d.clk.Now()
}

// Transmit applies the faults to each frame and passes the survivors to the
// inner device, now or when due. With the zero Config it returns what the
// inner device returns; otherwise it takes ownership of every frame and
// returns len(frames).
func (d *Device) Transmit(frames []*pbuf.Buf) int {
	if d.transparent && len(d.held) == 0 {
		n := d.inner.Transmit(frames)
		d.stats.Frames += uint64(n)
		d.stats.Passed += uint64(n)
		return n
	}
	now := d.now()
	d.release(now)
	for _, b := range frames {
		d.stats.Frames++
		d.transmit(b, now)
	}
	return len(frames)
}

// transmit applies the faults to one frame, of which it takes ownership.
func (d *Device) transmit(b *pbuf.Buf, now clock.Time) {
	n := b.Len()
	if d.cfg.MTUClamp > 0 && n-wire.EthernetHeaderLen > d.cfg.MTUClamp {
		d.stats.MTUClamped++
		b.Free()
		return
	}
	if d.cfg.RateLimit > 0 && !d.bucket.admit(n, now) {
		d.stats.RateLimited++
		b.Free()
		return
	}
	if d.drop.hit(&d.rng) {
		d.stats.Dropped++
		b.Free()
		return
	}
	if d.corrupt.hit(&d.rng) && n > d.cfg.CorruptOffset {
		c, err := b.Clone()
		b.Free()
		if err != nil {
			d.stats.CorruptNoBuf++
			return
		}
		span := uint64(n-d.cfg.CorruptOffset) * 8
		bit := uint64(d.cfg.CorruptOffset)*8 + d.rng.below(span)
		c.Bytes()[bit/8] ^= 1 << (bit % 8)
		d.stats.Corrupted++
		b = c
	}
	var dup *pbuf.Buf
	if d.duplicate.hit(&d.rng) {
		c, err := b.Clone()
		if err != nil {
			d.stats.DuplicateNoBuf++
		} else {
			dup = c
			d.stats.Duplicated++
		}
	}
	due := now.Add(d.cfg.Delay)
	if d.cfg.Jitter > 0 {
		due = due.Add(clock.Duration(d.rng.below(uint64(d.cfg.Jitter) + 1)))
	}
	reorder := d.reorder.hit(&d.rng)
	d.emit(b, due, reorder, now)
	if dup != nil {
		d.emit(dup, due, false, now)
	}
}

// emit sends b now if nothing must go before it, and holds it otherwise.
func (d *Device) emit(b *pbuf.Buf, due clock.Time, afterNext bool, now clock.Time) {
	d.seq++
	if !afterNext && !due.After(now) && d.nTimed == 0 {
		if d.send(b) {
			d.releaseAfterNext(d.seq)
			return
		}
	}
	if len(d.held) == cap(d.held) {
		d.stats.HeldOverflow++
		b.Free()
		return
	}
	if afterNext {
		d.stats.Reordered++
	} else {
		d.nTimed++
		if due.After(now) {
			d.stats.Delayed++
		}
	}
	d.held = append(d.held, held{b: b, due: due, seq: d.seq, afterNext: afterNext})
}

// send hands one frame to the inner device and reports whether it took it.
func (d *Device) send(b *pbuf.Buf) bool {
	d.one[0] = b
	ok := d.inner.Transmit(d.one[:]) == 1
	d.one[0] = nil
	if ok {
		d.stats.Passed++
	} else {
		d.stats.InnerRefused++
	}
	return ok
}

// releaseAt returns when h leaves without further events.
func (d *Device) releaseAt(h *held) clock.Time {
	if h.afterNext {
		return h.due.Add(d.cfg.ReorderTimeout)
	}
	return h.due
}

// release sends the held frames that are due at now, earliest first (ties in
// arrival order), until none is due or the inner device is full.
func (d *Device) release(now clock.Time) {
	for len(d.held) > 0 {
		best := -1
		var bestAt clock.Time
		for i := range d.held {
			if at := d.releaseAt(&d.held[i]); !at.After(now) && (best < 0 || at.Before(bestAt)) {
				best, bestAt = i, at
			}
		}
		if best < 0 {
			return
		}
		h := d.held[best]
		if !d.send(h.b) {
			return
		}
		d.remove(best)
		if !h.afterNext {
			d.nTimed--
			d.releaseAfterNext(h.seq)
		}
	}
}

// releaseAfterNext sends the reordered frames that entered before the frame
// seq, which has just gone out. Those the inner device refuses become
// ordinary held frames, due at once.
func (d *Device) releaseAfterNext(seq uint64) {
	j := 0
	for _, h := range d.held {
		if h.afterNext && h.seq < seq {
			if d.send(h.b) {
				continue
			}
			h.afterNext = false
			d.nTimed++
		}
		d.held[j] = h
		j++
	}
	clear(d.held[j:])
	d.held = d.held[:j]
}

func (d *Device) remove(i int) {
	copy(d.held[i:], d.held[i+1:])
	d.held[len(d.held)-1] = held{}
	d.held = d.held[:len(d.held)-1]
}

// Receive sends the held frames that are due, then receives from the inner
// device (unimpaired).
func (d *Device) Receive(pool *pbuf.Pool, dst []*pbuf.Buf) int {
	if len(d.held) > 0 {
		d.release(d.now())
	}
	return d.inner.Receive(pool, dst)
}

// NextDeadline returns the earliest time a held frame is due to leave, or
// the inner device's NextDeadline if earlier, or clock.Never. Poll the
// wrapper (Receive or Transmit) no later than that.
func (d *Device) NextDeadline() clock.Time {
	t := clock.Never
	for i := range d.held {
		t = clock.Min(t, d.releaseAt(&d.held[i]))
	}
	if in, ok := d.inner.(interface{ NextDeadline() clock.Time }); ok {
		t = clock.Min(t, in.NextDeadline())
	}
	return t
}

// Flush sends every held frame now, in due order, ignoring due times, and
// returns how many are still held because the inner device refused them.
func (d *Device) Flush() int {
	d.release(clock.Never)
	return len(d.held)
}

// Discard frees every held frame (for teardown) and counts them.
func (d *Device) Discard() {
	for i := range d.held {
		d.held[i].b.Free()
	}
	d.stats.Discarded += uint64(len(d.held))
	clear(d.held)
	d.held = d.held[:0]
	d.nTimed = 0
}

// Held returns the number of frames the wrapper holds.
func (d *Device) Held() int { return len(d.held) }

// Stats returns the wrapper's counters.
func (d *Device) Stats() Stats { return d.stats }

// Inner returns the wrapped device.
func (d *Device) Inner() netif.Device { return d.inner }

// HardwareAddr returns the inner device's address.
func (d *Device) HardwareAddr() wire.MAC { return d.inner.HardwareAddr() }

// MTU returns the inner device's MTU (MTUClamp does not change it).
func (d *Device) MTU() int { return d.inner.MTU() }

// Caps returns the inner device's capabilities less its transmit offloads:
// faults act on frames as they would be on the wire, so the stack must hand
// over finished, MTU-sized ones.
func (d *Device) Caps() netif.Caps {
	c := d.inner.Caps()
	c.TxChecksumOffload, c.TSOMax = false, 0
	return c
}

// LinkUp returns the inner device's link state.
func (d *Device) LinkUp() bool { return d.inner.LinkUp() }
