package tcp

// CUBIC congestion control (RFC 9438), as Linux and gVisor run it by
// default. The sender's loss detection and recovery are unchanged; CUBIC
// decides the threshold on loss and the growth in congestion avoidance.
//
// Not implemented: HyStart++ (slow start is RFC 5681's, with the byte
// counting Reno uses, which §4.10 allows), undoing spurious congestion
// events (§4.9: the sender detects none), ECN (§4.6's 1-SMSS floor on ECE),
// and excluding application-limited periods from t (§5.8): only an idle
// restart (RFC 5681 §4.1) starts a new epoch.

import (
	"math"

	"github.com/lwgo/lwgo/core/clock"
)

// RFC 9438 constants.
const (
	cubicC = 0.4 // C (§4.1), in segments per second³
	// β_cubic = 0.7 (§4.6) and (1+β_cubic)/2 = 0.85 for fast convergence
	// (§4.7), as integer ratios for byte windows.
	cubicBetaNum, cubicBetaDen = 7, 10
	cubicFCNum, cubicFCDen     = 17, 20
	// α_cubic = 3·(1−β_cubic)/(1+β_cubic) = 0.9/1.7 = 9/17 (§4.3).
	cubicAlphaNum, cubicAlphaDen = 9, 17
)

// cubicState is CUBIC's per-connection state, in CCState (24 bytes). An
// epoch is one congestion-avoidance stage (§4.2); wEst == 0 means none has
// begun since the last congestion event.
type cubicState struct {
	kAt    clock.Time // epoch start + K: when W_cubic reaches W_max
	wMax   uint32     // W_max in bytes; 0 after a timeout: cwnd at the epoch's start (§4.8)
	prior  uint32     // cwnd_prior: cwnd before the last reduction (§4.6)
	wEst   uint32     // W_est in bytes (§4.3)
	estAcc uint32     // acked·SMSS carried toward W_est's next byte, below cwnd
}

// Cubic is RFC 9438 CUBIC congestion control. Windows are bytes; the
// curve's C is per segment, so W_cubic(t) = C·SMSS·(t−K)³ + W_max.
type Cubic struct{}

var cubic Cubic

// NewCubic returns the CUBIC algorithm; its per-connection state lives in
// CCState.
func NewCubic() CongestionControl { return &cubic }

// Init implements CongestionControl: the initial window and threshold are
// Reno's (§4.10).
func (*Cubic) Init(s *CCState) {
	reno.Init(s)
	s.cubic = cubicState{}
}

// OnAck implements CongestionControl.
func (*Cubic) OnAck(s *CCState, acked uint32, in CCInput) {
	if s.Cwnd < s.Ssthresh {
		slowStart(s, acked) // §4.10
		return
	}
	cs := &s.cubic
	if cs.wEst == 0 {
		cs.startEpoch(s, in.Now)
	}
	cwnd := uint64(s.Cwnd)
	// §4.3 Figure 4: W_est += α_cubic·segments_acked/cwnd, in bytes
	// α·acked·SMSS/cwnd; α_cubic becomes 1 once W_est reaches cwnd_prior.
	inc := uint64(acked) * uint64(s.MSS)
	if cs.wEst < cs.prior {
		inc = inc * cubicAlphaNum / cubicAlphaDen
	}
	inc += uint64(cs.estAcc)
	cs.wEst = uint32(min(uint64(cs.wEst)+inc/cwnd, uint64(maxCwnd)))
	cs.estAcc = uint32(inc % cwnd)

	t := in.Now.Sub(cs.kAt) // t − K
	if cs.w(s.MSS, t) < float64(cs.wEst) {
		// §4.3 Reno-friendly region: "cwnd SHOULD be set to W_est";
		// never lowered (W_est may trail a cwnd the curve raised).
		s.Cwnd = max(s.Cwnd, cs.wEst)
		return
	}
	// §4.4 concave (cwnd < W_max) and §4.5 convex regions: per acked
	// SMSS, cwnd grows by (target − cwnd)/cwnd segments, with target =
	// W_cubic(t + RTT) kept within [cwnd, 1.5·cwnd] (§4.2 Figure 3).
	target := min(cs.w(s.MSS, t+in.SRTT), 1.5*float64(cwnd))
	if target <= float64(cwnd) {
		return
	}
	inc = (uint64(target)-cwnd)*uint64(acked) + uint64(s.Acc)
	s.Cwnd = uint32(min(cwnd+inc/cwnd, uint64(maxCwnd)))
	s.Acc = uint32(inc % cwnd)
}

// w is W_cubic (§4.2 Figure 1) in bytes, at d = t − K.
func (cs *cubicState) w(mss uint32, d clock.Duration) float64 {
	x := float64(d) / float64(clock.Second)
	return cubicC*float64(mss)*x*x*x + float64(cs.wMax)
}

// startEpoch begins a congestion-avoidance stage at now with cwnd_epoch =
// cwnd: K = ∛((W_max − cwnd_epoch)/C) (§4.2 Figure 2), W_est = cwnd_epoch
// (§4.3). After a timeout (§4.8), or with cwnd above W_max, K is 0 and
// W_max is cwnd_epoch.
func (cs *cubicState) startEpoch(s *CCState, now clock.Time) {
	cs.wEst = max(s.Cwnd, 1)
	cs.estAcc = 0
	s.Acc = 0
	if cs.wMax <= s.Cwnd {
		cs.wMax = s.Cwnd
		cs.kAt = now
		return
	}
	k := math.Cbrt(float64(cs.wMax-s.Cwnd) / (cubicC * float64(s.MSS)))
	cs.kAt = now.Add(clock.Duration(k * float64(clock.Second)))
}

// OnLoss implements CongestionControl: multiplicative decrease (§4.6)
// ssthresh = max(flight_size·β_cubic, 2·SMSS), with fast convergence
// (§4.7); after a timeout the next epoch starts with K = 0 (§4.8). The
// sender then sets cwnd (ssthresh in recovery, 1 SMSS after a timeout).
func (*Cubic) OnLoss(s *CCState, flight uint32, in CCInput) {
	cs := &s.cubic
	if s.Cwnd < cs.wMax {
		// Fast convergence: a flow whose window shrank since the last
		// event releases bandwidth to newcomers.
		cs.wMax = uint32(uint64(s.Cwnd) * cubicFCNum / cubicFCDen)
	} else {
		cs.wMax = s.Cwnd
	}
	cs.prior = s.Cwnd
	if in.Timeout {
		cs.wMax = 0
	}
	cs.wEst = 0 // the epoch ends; the next starts in congestion avoidance
	s.Ssthresh = max(uint32(uint64(flight)*cubicBetaNum/cubicBetaDen), 2*s.MSS)
	s.Acc = 0
}

// OnIdle implements CongestionControl: cwnd = min(IW, cwnd) as Reno (RFC
// 5681 §4.1), and the idle time does not count toward t: a new epoch
// starts when congestion avoidance resumes.
func (*Cubic) OnIdle(s *CCState) {
	s.Cwnd = min(s.Cwnd, initialWindow(s.MSS))
	s.cubic.wEst = 0
}
