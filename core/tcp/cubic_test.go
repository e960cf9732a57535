package tcp

// RFC 9438 CUBIC: the window curve against the RFC's formulas, the
// decrease, fast convergence, timeouts, and CUBIC on the sender's paths.

import (
	"math"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/wire"
)

// cubicRef is W_cubic(t) = C·(t−K)³ + W_max in segments (§4.2 Figure 1),
// K = ∛((W_max − cwnd_epoch)/C) (Figure 2), t in seconds.
func cubicRef(wMax, cwndEpoch, t float64) float64 {
	k := math.Cbrt((wMax - cwndEpoch) / 0.4)
	return 0.4*math.Pow(t-k, 3) + wMax
}

// cubicAfterLoss returns a CUBIC state after a fast-retransmit loss at a
// window of wMax segments with the window in flight, cwnd set to ssthresh
// as SACK recovery does, and congestion avoidance begun at now.
func cubicAfterLoss(t *testing.T, wMax uint32, now clock.Time) *CCState {
	t.Helper()
	s := &CCState{MSS: smss}
	cc := NewCubic()
	cc.Init(s)
	s.Cwnd = wMax * smss
	cc.OnLoss(s, s.Cwnd, CCInput{Now: now})
	s.Cwnd = s.Ssthresh
	cc.OnAck(s, 0, CCInput{Now: now}) // begins the epoch
	return s
}

// segs returns a byte window in segments.
func segs(b uint32) float64 { return float64(b) / smss }

// §4.1 constants: α_cubic = 3·(1−β)/(1+β) with β = 0.7.
func TestRFC9438_4_1_Constants(t *testing.T) {
	if a := 3 * (1 - 0.7) / (1 + 0.7); math.Abs(a-float64(cubicAlphaNum)/cubicAlphaDen) > 1e-15 {
		t.Fatalf("α_cubic %v, want %v", float64(cubicAlphaNum)/cubicAlphaDen, a)
	}
	if float64(cubicBetaNum)/cubicBetaDen != 0.7 || float64(cubicFCNum)/cubicFCDen != (1+0.7)/2 || cubicC != 0.4 {
		t.Fatal("β_cubic, (1+β)/2 or C")
	}
}

// §4.2: W_cubic(0) = cwnd_epoch, W_cubic(K) = W_max, concave before K and
// convex after, at every point equal to Figure 1.
func TestRFC9438_4_2_WindowCurve(t *testing.T) {
	const wMax = 100
	s := cubicAfterLoss(t, wMax, testStart)
	cs := &s.cubic
	if segs(s.Ssthresh) != 70 || segs(cs.wMax) != wMax || segs(cs.wEst) != 70 {
		t.Fatalf("ssthresh %v W_max %v W_est %v segments", segs(s.Ssthresh), segs(cs.wMax), segs(cs.wEst))
	}
	k := math.Cbrt(wMax * (1 - 0.7) / 0.4) // 4.217 s
	if got := float64(cs.kAt.Sub(testStart)) / float64(clock.Second); math.Abs(got-k) > 1e-6 {
		t.Fatalf("K %v s, want %v", got, k)
	}
	at := func(sec float64) float64 {
		return cs.w(smss, testStart.Add(clock.Duration(sec*float64(clock.Second))).Sub(cs.kAt)) / smss
	}
	if w := at(0); math.Abs(w-70) > 1e-6 {
		t.Fatalf("W_cubic(0) = %v, want cwnd_epoch 70", w)
	}
	if w := at(k); math.Abs(w-wMax) > 1e-6 {
		t.Fatalf("W_cubic(K) = %v, want W_max", w)
	}
	prevInc := math.Inf(1)
	for ms := 100; ms <= 8000; ms += 100 {
		x := float64(ms) / 1000
		w, want := at(x), cubicRef(wMax, 70, x)
		if math.Abs(w-want) > 1e-6 {
			t.Fatalf("W_cubic(%v s) = %v, want %v", x, w, want)
		}
		inc := w - at(x-0.1)
		if x < k && inc >= prevInc || x > k+0.1 && inc <= prevInc {
			t.Fatalf("at %v s the increase %v after %v: not concave before K, convex after", x, inc, prevInc)
		}
		prevInc = inc
	}
}

// §4.4–4.5 per ACK: with a window of ACKs spread over each RTT, cwnd
// follows the curve one RTT ahead, W_cubic(t + RTT) (§4.2 Figure 3):
// concave up to W_max, then convex beyond it.
func TestRFC9438_4_4_ConcaveThenConvexGrowth(t *testing.T) {
	// At 200 ms the Reno estimate (§4.3) stays below the curve.
	const wMax, rtt = 100, 200 * clock.Millisecond
	now := testStart
	s := cubicAfterLoss(t, wMax, now)
	cc := NewCubic()
	k := math.Cbrt(wMax * (1 - 0.7) / 0.4)
	prev, prevInc := segs(s.Cwnd), math.Inf(1)
	for round := 1; round <= 40; round++ {
		n := s.Cwnd / smss
		for i := range n {
			at := now.Add(rtt * clock.Duration(i) / clock.Duration(n))
			cc.OnAck(s, smss, CCInput{Now: at, SRTT: rtt})
		}
		now = now.Add(rtt)
		x := float64(now.Sub(testStart)) / float64(clock.Second)
		w := segs(s.Cwnd)
		if lo, hi := cubicRef(wMax, 70, x)-1, cubicRef(wMax, 70, x+0.2)+1; round > 1 && (w < lo || w > hi) {
			t.Fatalf("round %d (t %.1f s): cwnd %.2f segments, want within [W_cubic(t), W_cubic(t+RTT)] = [%.2f, %.2f]",
				round, x, w, lo+1, hi-1)
		}
		inc := w - prev
		switch {
		case round > 2 && x < k-0.2 && inc > prevInc+0.05:
			t.Fatalf("round %d: increase %.3f after %.3f before K: not concave", round, inc, prevInc)
		case x > k+0.3 && inc < prevInc-0.05:
			t.Fatalf("round %d: increase %.3f after %.3f beyond K: not convex", round, inc, prevInc)
		}
		prev, prevInc = w, inc
	}
	if w := segs(s.Cwnd); w < wMax+20 || s.cubic.wEst > 95*smss {
		t.Fatalf("cwnd %.1f segments, W_est %.1f 8 s after the loss: not probing beyond W_max", w, segs(s.cubic.wEst))
	}
}

// §4.3: at a small BDP (1 ms RTT) the Reno estimate W_est grows faster than
// the curve and sets cwnd: α_cubic = 9/17 SMSS per RTT until W_est reaches
// cwnd_prior, then 1 SMSS per RTT as Reno.
func TestRFC9438_4_3_RenoFriendlyRegion(t *testing.T) {
	const wMax, rtt = 100, clock.Millisecond
	now := testStart
	s := cubicAfterLoss(t, wMax, now)
	cc := NewCubic()
	west := 70.0
	for round := 1; round <= 100; round++ {
		cwnd := s.Cwnd
		for sum := uint32(0); sum < cwnd; sum += smss {
			alpha := 9.0 / 17
			if west >= wMax {
				alpha = 1
			}
			west += alpha * 1 / segs(s.Cwnd) // Figure 4, one segment acked
			cc.OnAck(s, smss, CCInput{Now: now, SRTT: rtt})
		}
		now = now.Add(rtt)
		wc := cubicRef(wMax, 70, float64(now.Sub(testStart))/float64(clock.Second))
		if wc >= west {
			t.Fatalf("round %d: W_cubic %.2f above W_est %.2f: not the Reno-friendly region", round, wc, west)
		}
		if w := segs(s.Cwnd); math.Abs(w-west) > 0.05 {
			t.Fatalf("round %d: cwnd %.3f segments, W_est %.3f", round, w, west)
		}
	}
	// ~57 rounds at α = 9/17 to reach cwnd_prior, then one SMSS per round.
	if w := segs(s.Cwnd); w < 140 || w > 145 {
		t.Fatalf("cwnd %.1f segments after 100 rounds, want ~143", w)
	}
}

// §4.6: ssthresh = max(flight_size·β_cubic, 2·SMSS); §4.7 fast
// convergence: W_max = cwnd·(1+β)/2 when cwnd fell below the last W_max.
func TestRFC9438_4_6_MultiplicativeDecreaseAndFastConvergence(t *testing.T) {
	cc := NewCubic()
	s := &CCState{MSS: smss}
	cc.Init(s)
	in := CCInput{Now: testStart}
	s.Cwnd = 100 * smss
	cc.OnLoss(s, 80*smss, in)
	if s.Ssthresh != 56*smss || s.cubic.wMax != 100*smss || s.cubic.prior != 100*smss {
		t.Fatalf("ssthresh %v W_max %v cwnd_prior %v", segs(s.Ssthresh), segs(s.cubic.wMax), segs(s.cubic.prior))
	}
	s.Cwnd = 90 * smss // lost again below W_max: release bandwidth
	cc.OnLoss(s, 90*smss, in)
	if s.Ssthresh != 63*smss || s.cubic.wMax != 90*smss*17/20 {
		t.Fatalf("fast convergence: ssthresh %v W_max %v, want 63, 76.5", segs(s.Ssthresh), segs(s.cubic.wMax))
	}
	s.Cwnd = 120 * smss // above W_max: remember it as is
	cc.OnLoss(s, 120*smss, in)
	if s.cubic.wMax != 120*smss || s.cubic.prior != 120*smss {
		t.Fatalf("W_max %v", segs(s.cubic.wMax))
	}
	cc.OnLoss(s, smss, in)
	if s.Ssthresh != 2*smss {
		t.Fatalf("ssthresh %v for a 1-segment flight, want the 2·SMSS floor", segs(s.Ssthresh))
	}
	// The sender's window: β_cubic on the third duplicate ACK, ssthresh+3
	// for NewReno (RFC 6582).
	h, _, _ := bulkCC(t, NewCubic, 20)
	for range 3 {
		h.dupAck()
	}
	h.expect(wire.FlagACK, segAt(h, 0), h.irs+1)
	if c := h.pcbOf(); c.cc.Ssthresh != 7*smss || c.cc.Cwnd != 10*smss {
		t.Fatalf("after fast retransmit: ssthresh %v cwnd %v, want 7, 10", segs(c.cc.Ssthresh), segs(c.cc.Cwnd))
	}
}

// §4.8: a timeout sets ssthresh by β_cubic and cwnd to 1 SMSS; the first
// congestion avoidance after it starts with K = 0 and W_max = W_est =
// cwnd_epoch, so the window grows convexly from there.
func TestRFC9438_4_8_Timeout(t *testing.T) {
	h, _, _ := bulkCC(t, NewCubic, 40)
	c := h.pcbOf()
	h.advance(c.rtt.rto)
	h.drain()
	if c.cc.Cwnd != smss || c.cc.Ssthresh != 7*smss || c.cc.cubic.wMax != 0 {
		t.Fatalf("after RTO: cwnd %v ssthresh %v W_max %v", segs(c.cc.Cwnd), segs(c.cc.Ssthresh), segs(c.cc.cubic.wMax))
	}
	// Slow start to ssthresh, then the epoch.
	k := 1
	for ; c.cc.Cwnd < c.cc.Ssthresh; k++ {
		h.ack(segAt(h, k))
		h.drain()
	}
	epoch := c.cc.Cwnd
	h.ack(segAt(h, k))
	cs := c.cc.cubic
	if cs.kAt != h.now || cs.wMax != epoch || cs.wEst < epoch || cs.wEst > epoch+smss {
		t.Fatalf("epoch after RTO: K at %v (now %v), W_max %v W_est %v, cwnd_epoch %v",
			cs.kAt, h.now, segs(cs.wMax), segs(cs.wEst), segs(epoch))
	}
}

// bulkCC is bulk with the congestion control cc.
func bulkCC(t *testing.T, cc func() CongestionControl, n int) (*harness, *rec, []outSeg) {
	t.Helper()
	h, r := established(t, func(c *Config) { c.MinRTO = clock.Second; c.NewCC = cc }, plainPeer)
	r.c.SetNoDelay(true)
	if err := r.c.Write(pattern(0, n*smss), 0); err != nil {
		t.Fatal(err)
	}
	r.c.Output()
	return h, r, h.drain()
}

// Switching a live connection keeps its window and starts CUBIC's state.
func TestSetCongestionControl(t *testing.T) {
	h, r, _ := bulkCC(t, nil, 20)
	c := h.pcbOf()
	h.ack(segAt(h, 2))
	cw := c.cc.Cwnd
	if err := r.c.SetCongestionControl(NewCubic()); err != nil {
		t.Fatal(err)
	}
	if c.ccAl != NewCubic() || c.cc.Cwnd != cw || c.cc.cubic != (cubicState{}) {
		t.Fatalf("after the switch: %T cwnd %d %+v", c.ccAl, c.cc.Cwnd, c.cc.cubic)
	}
	want := c.flight() * 7 / 10
	for range 3 {
		h.inject(pkt{seq: h.pnxt, ack: segAt(h, 2), flags: wire.FlagACK})
	}
	if c.cc.Ssthresh != want {
		t.Fatalf("ssthresh %d after the switch, want CUBIC's %d", c.cc.Ssthresh, want)
	}
	r.c.SetCongestionControl(nil)
	if c.ccAl != NewReno() {
		t.Fatalf("nil selects %T", c.ccAl)
	}
	r.c.Abort()
	if err := r.c.SetCongestionControl(NewCubic()); err == nil {
		t.Fatal("stale handle accepted")
	}
}

// CUBIC allocates nothing: its state is in CCState.
func TestRFC9438_NoAllocs(t *testing.T) {
	var cc CongestionControl = NewCubic()
	s := &CCState{MSS: smss}
	cc.Init(s)
	now := testStart
	n := 0
	noAllocs(t, func() {
		in := CCInput{Now: now, SRTT: 20 * ms}
		cc.OnAck(s, smss, in)
		if n++; n%200 == 0 {
			cc.OnLoss(s, s.Cwnd, in)
			s.Cwnd = s.Ssthresh
		}
		if n%500 == 0 {
			in.Timeout = true
			cc.OnLoss(s, s.Cwnd, in)
			s.Cwnd = s.MSS
			cc.OnIdle(s)
		}
		now = now.Add(ms)
	})
	if s.Cwnd == 0 || s.Cwnd > maxCwnd {
		t.Fatalf("cwnd %d", s.Cwnd)
	}
}

// 1 MiB each way between two CUBIC Layers over a lossy link (the
// transfer_test.go exchange): complete, intact, in bounded virtual time.
func TestRFC9438_TransferOverLossyLink(t *testing.T) {
	for _, tc := range []struct {
		name string
		loss int // per mille
		mod  func(*Config)
	}{
		{"clean", 0, nil},
		{"1% loss", 10, nil},
		{"5% loss", 50, nil},
		{"5% loss, NewReno recovery", 50, func(c *Config) { c.NoTimestamps, c.NoSACK, c.NoWindowScale = true, true, true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, alg := range []struct {
				name string
				cc   func() CongestionControl
			}{{"reno", NewReno}, {"cubic", NewCubic}} {
				mod := func(c *Config) {
					c.NewCC = alg.cc
					if tc.mod != nil {
						tc.mod(c)
					}
				}
				el, p := lossyTransfer(t, mod, tc.loss, 1<<20)
				t.Logf("%s: %d ms virtual; A retransmits %d timeouts %d fast %d", alg.name, el.Milliseconds(),
					p.a.l.stats.Retransmits, p.a.l.stats.Timeouts, p.a.l.stats.FastRetransmits)
				if p.a.l.cfg.NewCC() != alg.cc() {
					t.Fatalf("%T, want %s", p.a.l.cfg.NewCC(), alg.name)
				}
			}
		})
	}
}
