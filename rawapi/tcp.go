package rawapi

import "github.com/lwgo/lwgo/core/tcp"

// TCP: lwIP's tcp_* raw API. See the package documentation for the rules.
type (
	// TCP is a handle to a connection (lwIP struct tcp_pcb *).
	TCP = tcp.Conn
	// TCPListener is a handle to a listening endpoint (struct tcp_pcb_listen *).
	TCPListener = tcp.Listener
	// TCPHandler receives a connection's events (tcp_recv, tcp_sent,
	// tcp_poll, tcp_err, and the connected callback).
	TCPHandler = tcp.Handler
	// Acceptor receives a listener's connections (tcp_accept).
	Acceptor = tcp.Acceptor
	// AcceptFunc adapts a function to an Acceptor.
	AcceptFunc = tcp.AcceptFunc
	// DefaultHandler implements lwIP's default callbacks; embed it.
	DefaultHandler = tcp.DefaultHandler
	// Funcs adapts plain functions to a TCPHandler.
	Funcs = tcp.Funcs
	// WriteFlags modify Write (TCP_WRITE_FLAG_*).
	WriteFlags = tcp.WriteFlags
	// TCPState is a connection state.
	TCPState = tcp.State
	// TCPInfo is a connection's state and counters (TCP_INFO).
	TCPInfo = tcp.Info
	// TCPConfig configures the TCP engine (Config.TCP).
	TCPConfig = tcp.Config
	// TCPStats are the TCP engine's counters.
	TCPStats = tcp.Stats
	// CongestionControl is a congestion-control algorithm.
	CongestionControl = tcp.CongestionControl
	// UrgentHandler is a TCPHandler that also wants urgent-data signals.
	UrgentHandler = tcp.UrgentHandler
	// CCState is the congestion state an algorithm works on.
	CCState = tcp.CCState
	// CCInput is what the sender tells an algorithm beside the state.
	CCInput = tcp.CCInput
)

// NewReno returns RFC 5681 congestion control, the default
// (TCPConfig.NewCC nil).
func NewReno() CongestionControl { return tcp.NewReno() }

// NewCubic returns CUBIC congestion control (RFC 9438): set TCPConfig.NewCC
// to NewCubic, or call TCP.SetCongestionControl(NewCubic()).
func NewCubic() CongestionControl { return tcp.NewCubic() }

// Write flags.
const (
	WriteCopy   = tcp.WriteCopy
	WriteMore   = tcp.WriteMore
	WriteNoCopy = tcp.WriteNoCopy
	WriteUrgent = tcp.WriteUrgent
)

// Backlog policies for TCPConfig.Backlog.
const (
	BacklogSYNCookies = tcp.BacklogSYNCookies
	BacklogDrop       = tcp.BacklogDrop
	BacklogReset      = tcp.BacklogReset
)
