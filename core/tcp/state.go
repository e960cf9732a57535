package tcp

// State is a connection state (RFC 9293 §3.3.2).
type State uint8

// Connection states.
const (
	Closed State = iota
	Listen
	SynSent
	SynReceived
	Established
	FinWait1
	FinWait2
	CloseWait
	Closing
	LastAck
	TimeWait
)

// String returns the RFC 9293 name of the state, as "SYN-SENT".
func (s State) String() string {
	switch s {
	case Closed:
		return "CLOSED"
	case Listen:
		return "LISTEN"
	case SynSent:
		return "SYN-SENT"
	case SynReceived:
		return "SYN-RECEIVED"
	case Established:
		return "ESTABLISHED"
	case FinWait1:
		return "FIN-WAIT-1"
	case FinWait2:
		return "FIN-WAIT-2"
	case CloseWait:
		return "CLOSE-WAIT"
	case Closing:
		return "CLOSING"
	case LastAck:
		return "LAST-ACK"
	case TimeWait:
		return "TIME-WAIT"
	}
	return "INVALID"
}

// synchronized reports whether the state is past the handshake (RFC 9293
// §3.10.7.4 "synchronized states").
func (s State) synchronized() bool { return s >= Established }

// canSend reports whether the application may still queue data.
func (s State) canSend() bool {
	return s == Established || s == CloseWait || s == SynSent || s == SynReceived
}
