package tcp

// CCState is the congestion state a sender shares with its congestion
// control: windows in bytes.
type CCState struct {
	Cwnd     uint32 // congestion window
	Ssthresh uint32 // slow-start threshold
	MSS      uint32 // sender maximum segment size (SMSS)
	Acc      uint32 // bytes acknowledged toward the next congestion-avoidance increase
}

// CongestionControl is a congestion-control algorithm. The sender runs loss
// detection and NewReno fast recovery itself (RFC 6582); the algorithm
// decides how the window grows and how far it falls.
type CongestionControl interface {
	// Init sets the initial window and threshold.
	Init(s *CCState)
	// OnAck grows the window when acked new bytes arrive outside recovery.
	OnAck(s *CCState, acked uint32)
	// OnLoss sets Ssthresh when loss is detected with flight bytes
	// outstanding; the sender then sets Cwnd for recovery or after a timeout.
	OnLoss(s *CCState, flight uint32)
	// OnIdle restarts the window after an idle period longer than the RTO
	// (RFC 5681 §4.1).
	OnIdle(s *CCState)
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

// Init implements CongestionControl.
func (*Reno) Init(s *CCState) {
	s.Cwnd = initialWindow(s.MSS)
	s.Ssthresh = ^uint32(0) >> 2 // "arbitrarily high" (RFC 5681 §3.1)
	s.Acc = 0
}

// OnAck implements CongestionControl.
func (*Reno) OnAck(s *CCState, acked uint32) {
	if s.Cwnd < s.Ssthresh {
		// RFC 5681 §3.1 eq. 2, with RFC 3465's limit L = 2·SMSS per ACK.
		s.Cwnd += min(acked, 2*s.MSS)
		return
	}
	// Congestion avoidance: one SMSS per window of acknowledged bytes.
	s.Acc += acked
	if s.Acc >= s.Cwnd {
		s.Acc -= s.Cwnd
		s.Cwnd += s.MSS
	}
}

// OnLoss implements CongestionControl: ssthresh = max(FlightSize/2, 2·SMSS)
// (RFC 5681 eq. 4).
func (*Reno) OnLoss(s *CCState, flight uint32) {
	s.Ssthresh = max(flight/2, 2*s.MSS)
	s.Acc = 0
}

// OnIdle implements CongestionControl: cwnd = min(IW, cwnd) (RFC 5681 §4.1).
func (*Reno) OnIdle(s *CCState) {
	s.Cwnd = min(s.Cwnd, initialWindow(s.MSS))
}
