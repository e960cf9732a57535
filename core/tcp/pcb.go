package tcp

import (
	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

// Output is how segments leave the engine. core.Stack implements it.
type Output interface {
	// OutputTCP sends the segment in b (TCP header and payload, checksum
	// filled in, pbuf.LayerIP headroom) from src to dst. It takes ownership of b.
	OutputTCP(b *pbuf.Buf, src, dst wire.IPv4Addr, tos, ttl uint8) error
	// RouteTCP returns the route to dst.
	RouteTCP(dst wire.IPv4Addr) (Route, error)
	// IsLocalAddr reports whether a is one of the stack's addresses.
	IsLocalAddr(a wire.IPv4Addr) bool
}

// Route is what the engine needs of the path to a peer.
type Route struct {
	Src wire.IPv4Addr // source address
	MTU int           // IP MTU of the interface
	// TSOMax, when not 0, is the largest IPv4 datagram the interface's
	// device segments itself (netif.Caps.TSOMax); the engine then sends
	// super-segments of several MSS, with GSOSize set, from the GSO pool.
	TSOMax int
	// TxCsum: the device completes TCP checksums
	// (pbuf.TxL4ChecksumPartial).
	TxCsum bool
}

// pcbFlags are per-connection flags (lwIP TF_*).
type pcbFlags uint32

const (
	fAckNow        pcbFlags = 1 << iota // send an ACK at the next output (TF_ACK_NOW)
	fAckDelay                           // an ACK is owed, delayed (TF_ACK_DELAY)
	fNoDelay                            // Nagle off (TF_NODELAY)
	fFinQueued                          // the application closed its side: FIN after queued data
	fFinSent                            // our FIN has been sent at least once
	fRxClosed                           // the application will read no more (TF_RXCLOSED)
	fFinRcvd                            // the peer's FIN is in sequence (rcv.NXT covers it)
	fFinDelivered                       // end of stream given to the application
	fWScale                             // window scaling negotiated
	fTimestamps                         // timestamps negotiated
	fSACK                               // SACK permitted by both
	fInRecovery                         // NewReno fast recovery (TF_INFR)
	fKeepAlive                          // keepalive on
	fPersist                            // zero-window probing (rtoAt is the persist timer)
	fPush                               // the last write asked for PSH (no WriteMore)
	fDetached                           // the application closed: no handler, handle stale
	fActiveOpen                         // connect, not accept: Connected is owed
	fConnectedOwed                      // Connected callback to deliver
	fAcceptOwed                         // Accept callback to deliver
	fRTTiming                           // timing rtt.seq (no timestamps)
	fRexmit                             // a retransmission happened since snd.UNA last moved (Karn)
	fNewConn                            // fresh from NewConn, not yet connected or listening
	fForce                              // output ignores sender SWS avoidance once (override timeout)
	fTxCsum                             // the route's device completes our checksums
	fDeferred                           // in Layer.deferred: output at EndBatch
	fSACKRecovery                       // the recovery under way is RFC 6675's (with fInRecovery)
	fPTO                                // rtoAt is the tail loss probe's timeout (RFC 8985 §7)
	fTLPOut                             // a probe went out; no other until snd.UNA moves
	fDSACK                              // rcv.dsack is to be reported (RFC 2883)
	fUrgent                             // rcv.UP is valid: the peer sent urgent data
	fUrgentOwed                         // the Urgent callback is owed
	fSndUrgent                          // snd.UP is valid: our urgent data is unacknowledged
)

// seg is a queue node: a chunk of the send queue (a buffer, or the caller's
// memory for WriteNoCopy), or an out-of-order or undelivered received
// segment. Nodes live in Layer.nodes and link by index.
type seg struct {
	buf  *pbuf.Buf
	ext  []byte   // WriteNoCopy data, when buf is nil
	seq  wire.Seq // received segments: sequence number of the first byte
	fin  bool     // received segments: a FIN follows the data
	next int32
}

// segList is a FIFO of nodes.
type segList struct{ head, tail int32 }

func (q *segList) empty() bool { return q.head < 0 }

// pcb is one connection. lwIP: struct tcp_pcb. Fields follow RFC 9293's
// names inside small structs.
type pcb struct {
	state     State
	used      bool
	gen       uint16
	slot      int32 // index in Layer.pcbs
	activePos int32 // index in Layer.active while used
	flags     pcbFlags
	id        tuple
	listener  int16 // listener that created it (passive open), else -1
	tos, ttl  uint8

	snd struct {
		UNA, NXT wire.Seq // oldest unacknowledged, next to send
		MAX      wire.Seq // highest sequence number sent (snd.NXT may go back on RTO)
		WND      uint32   // peer's window, scaled
		WL1, WL2 wire.Seq // segment seq and ack of the last window update
		ISS      wire.Seq
		scale    uint8    // peer's window shift
		maxWnd   uint32   // largest window the peer offered (sender SWS, RFC 9293 §3.8.6.2.1)
		bufSeq   wire.Seq // sequence number of q's first byte
		queued   int      // bytes in q: unacknowledged and unsent
		q        segList  // send queue
		cur      int32    // node holding the byte at curOff, for sequential sends
		curOff   int      // offset of node cur's first byte in q
		nocopy   int      // WriteNoCopy nodes in q
		mss      uint32   // effective send MSS: payload bytes per segment
		tsoMax   uint16   // largest datagram the route's device segments (0: no TSO)
		UP       wire.Seq // urgent pointer of our urgent data (fSndUrgent)
		recover  wire.Seq // NewReno: snd.MAX when recovery began (RFC 6582)
		dupAcks  uint8
		lastAck  wire.Seq // acknowledgment of the last duplicate-ACK candidate
	}
	rcv struct {
		NXT      wire.Seq // next expected
		IRS      wire.Seq
		wnd      uint32   // window available: RcvBuf less undelivered and unconsumed data
		adv      wire.Seq // right edge announced (never moved left)
		scale    uint8    // our window shift
		mss      uint32   // MSS we announced
		unrecved int      // bytes given to the application, not yet Recved
		ooseq    segList  // out-of-order segments, sorted
		ooCount  int
		ready    segList // in-order data not yet taken by the application
		readyLen int
		segs     uint8          // full segments received since the last ACK (delayed ACK)
		lastOOO  wire.Seq       // start of the most recent out-of-order arrival (first SACK block)
		dsack    wire.SACKBlock // duplicate data to report (fDSACK)
		UP       wire.Seq       // urgent pointer: the octet after the urgent data (fUrgent)
	}
	ts struct {
		recent      uint32 // TS.Recent (RFC 7323 §4.3)
		recentAt    clock.Time
		offset      uint32   // added to our clock in TSval (RFC 7323 §5.4)
		lastAckSent wire.Seq // Last.ACK.sent
	}
	rtt struct {
		srtt, rttvar clock.Duration
		rto          clock.Duration
		seq          wire.Seq // sequence timed when not using timestamps
		at           clock.Time
		backoff      uint8
	}
	cc   CCState
	ccAl CongestionControl
	sack scoreboard // SACKed ranges above snd.UNA (RFC 6675); empty without SACK

	rtoAt   clock.Time // retransmission, SYN or persist timer
	ackAt   clock.Time // delayed ACK
	keepAt  clock.Time // keepalive, or the FIN-WAIT-2 or user timeout deadline
	pollAt  clock.Time // application poll callback
	offerAt clock.Time // refused data to offer again
	oowNext clock.Time // earliest ACK for a bare unacceptable segment (oowAck)
	retries uint8      // retransmissions of the current oldest segment (or probes)
	probes  uint8      // keepalive probes without answer

	firstRexmit  clock.Time     // when the current run of retransmissions began
	userTimeout  clock.Duration // RFC 9293 USER TIMEOUT (0: MaxRetries decides)
	keepIdle     clock.Duration
	keepIntvl    clock.Duration
	keepCnt      uint8
	pollInterval clock.Duration
	lastRecv     clock.Time // last segment from the peer (keepalive idle)
	lastSend     clock.Time // last data sent (RFC 5681 idle restart)

	sentPending int     // bytes newly acknowledged, for the Sent callback
	errPending  error   // the error to report when the connection dies in input
	handler     Handler // the application's callbacks
}

func (c *pcb) nextTimer() clock.Time {
	return min(c.rtoAt, c.ackAt, c.keepAt, c.pollAt, c.offerAt)
}

// flight returns the bytes in flight: sent and not acknowledged (FlightSize).
func (c *pcb) flight() uint32 { return uint32(c.snd.NXT.Sub(c.snd.UNA)) }

// hasSYN reports whether our SYN is still unacknowledged (it occupies ISS).
func (c *pcb) synUnacked() bool { return c.snd.UNA == c.snd.ISS }

// Stats are TCP counters beyond the per-protocol ones.
type Stats struct {
	Xmit, Recv, Drop                 uint64 // segments
	ChkErr, LenErr, MemErr, ProtErr  uint64
	ActiveOpens, PassiveOpens        uint64 // connections begun
	Established                      uint64 // handshakes completed
	AttemptFails                     uint64 // handshakes that failed
	Resets                           uint64 // connections reset by the peer
	RSTsSent                         uint64
	Retransmits, FastRetransmits     uint64 // segments retransmitted, fast retransmit episodes
	Timeouts                         uint64 // RTO expiries
	DupAcks                          uint64
	OOSeq, OOSeqDrops                uint64 // segments queued out of order, and dropped for lack of room
	ChallengeACKs, ChallengeLimited  uint64 // RFC 5961
	PAWSDrops                        uint64 // RFC 7323 §5
	SYNCookiesSent, SYNCookiesOK     uint64
	SYNCookiesBad                    uint64
	BacklogDrops                     uint64 // SYNs refused by a full backlog (not cookied)
	ListenDrops                      uint64 // SYNs with no PCB free
	TimeWaitReused, TimeWaitRecycled uint64 // reused by a new SYN; oldest record recycled
	KeepAliveProbes, KeepAliveDrops  uint64
	ZeroWindowProbes                 uint64
	WindowScaleMismatch              uint64
	NoPort                           uint64 // segments for no connection and no listener (RST sent)
	BadAck                           uint64 // unacceptable ACKs
	OutOfWindow                      uint64 // unacceptable segments
	UserTimeouts                     uint64
	TSOSegs                          uint64 // super-segments handed to a TSO device (each counts once in Xmit)
	ICMPErrors, ICMPIgnored          uint64 // ICMP errors taken by a connection; for none, or quoting no segment in flight (RFC 5927)
	PMTUUpdates                      uint64 // MSS lowered by Fragmentation Needed (RFC 1191)
	TLPProbes                        uint64 // tail loss probes sent (RFC 8985 §7)
	SpuriousRecoveries               uint64 // fast recoveries undone: the original arrived (RFC 3522, RFC 4015)
	UrgentIn                         uint64 // advances of the peer's urgent pointer
}
