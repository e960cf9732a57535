package tcp

import (
	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
)

// CCState is the congestion state a sender shares with its congestion
// control: windows in bytes. It is embedded in every connection, so
// algorithms keep their per-connection state here rather than on the heap.
type CCState struct {
	Cwnd     uint32 // congestion window
	Ssthresh uint32 // slow-start threshold
	MSS      uint32 // sender maximum segment size (SMSS)
	Acc      uint32 // bytes acknowledged toward the next congestion-avoidance increase

	cubic cubicState // CUBIC's epoch (RFC 9438); zero for other algorithms
}

// CCInput is what the sender knows besides CCState when it calls its
// congestion control: CUBIC's window is a function of time and looks one
// round trip ahead (RFC 9438 §4.2).
type CCInput struct {
	Now  clock.Time     // the layer's clock
	SRTT clock.Duration // smoothed RTT (RFC 6298); 0 before the first sample
	// Timeout is set for OnLoss when the retransmission timer expired,
	// clear for fast retransmit and SACK recovery.
	Timeout bool
}

// CongestionControl is a congestion-control algorithm. The sender runs loss
// detection and NewReno fast recovery itself (RFC 6582); the algorithm
// decides how the window grows and how far it falls. Algorithms are shared
// by connections: per-connection state lives in CCState.
type CongestionControl interface {
	// Init sets the initial window and threshold.
	Init(s *CCState)
	// OnAck grows the window when acked new bytes arrive outside recovery.
	OnAck(s *CCState, acked uint32, in CCInput)
	// OnLoss sets Ssthresh when loss is detected with flight bytes
	// outstanding; the sender then sets Cwnd for recovery or after a timeout.
	OnLoss(s *CCState, flight uint32, in CCInput)
	// OnIdle restarts the window after an idle period longer than the RTO
	// (RFC 5681 §4.1).
	OnIdle(s *CCState)
}

// ccIn returns the inputs of a congestion-control call for c.
func (l *Layer) ccIn(c *pcb) CCInput { return CCInput{Now: l.now, SRTT: c.rtt.srtt} }

// SetCongestionControl switches the connection's algorithm (Linux
// TCP_CONGESTION); nil selects Config.NewCC's. A connection that already
// has a window keeps its window and threshold and starts the new
// algorithm's state afresh.
func (h Conn) SetCongestionControl(cc CongestionControl) error {
	c := h.pcb()
	if c == nil {
		return errs.ErrClosed
	}
	if cc == nil {
		cc = h.l.cfg.NewCC()
	}
	c.ccAl = cc
	c.cc.Acc = 0
	c.cc.cubic = cubicState{}
	return nil
}

// Reno is RFC 5681 congestion control: slow start and congestion avoidance
// with appropriate byte counting (RFC 3465, L = 2·SMSS), and the initial
// window of RFC 6928.
type Reno struct{}

var reno Reno

// NewReno returns the Reno algorithm; it has no per-connection state.
func NewReno() CongestionControl { return &reno }

// initialWindow is RFC 6928's IW10 bounded in bytes: min(10·MSS, max(2·MSS, 14600)).
func initialWindow(mss uint32) uint32 { return min(10*mss, max(2*mss, 14600)) }

// maxCwnd bounds windows: "arbitrarily high" (RFC 5681 §3.1), and room to
// add to without overflow.
const maxCwnd = ^uint32(0) >> 2

// Init implements CongestionControl.
func (*Reno) Init(s *CCState) {
	s.Cwnd = initialWindow(s.MSS)
	s.Ssthresh = maxCwnd
	s.Acc = 0
}

// OnAck implements CongestionControl.
func (*Reno) OnAck(s *CCState, acked uint32, _ CCInput) {
	if s.Cwnd < s.Ssthresh {
		slowStart(s, acked)
		return
	}
	// Congestion avoidance: one SMSS per window of acknowledged bytes.
	s.Acc += acked
	if s.Acc >= s.Cwnd {
		s.Acc -= s.Cwnd
		s.Cwnd += s.MSS
	}
}

// slowStart is RFC 5681 §3.1 eq. 2, with RFC 3465's limit L = 2·SMSS per ACK.
func slowStart(s *CCState, acked uint32) {
	s.Cwnd += min(acked, 2*s.MSS)
}

// OnLoss implements CongestionControl: ssthresh = max(FlightSize/2, 2·SMSS)
// (RFC 5681 eq. 4).
func (*Reno) OnLoss(s *CCState, flight uint32, _ CCInput) {
	s.Ssthresh = max(flight/2, 2*s.MSS)
	s.Acc = 0
}

// OnIdle implements CongestionControl: cwnd = min(IW, cwnd) (RFC 5681 §4.1).
func (*Reno) OnIdle(s *CCState) {
	s.Cwnd = min(s.Cwnd, initialWindow(s.MSS))
}
