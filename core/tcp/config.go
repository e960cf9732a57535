package tcp

import "github.com/lwgo/lwgo/core/clock"

// BacklogPolicy says what a listener does with a SYN when its backlog is full.
type BacklogPolicy uint8

// Backlog policies.
const (
	// BacklogSYNCookies answers with a SYN cookie (RFC 4987 §3.6): the
	// connection is created only when the handshake's ACK comes back.
	BacklogSYNCookies BacklogPolicy = iota
	// BacklogDrop drops the SYN silently (lwIP); the peer retransmits.
	BacklogDrop
	// BacklogReset answers with a RST.
	BacklogReset
)

// Config is the TCP part of the stack configuration. Zero fields take the
// defaults documented on each, which name the lwIP option they mirror.
type Config struct {
	// MaxPCBs is the number of connections, in any state but LISTEN and
	// TIME-WAIT (MEMP_NUM_TCP_PCB). Default 128.
	MaxPCBs int
	// MaxListeners is the number of listening endpoints
	// (MEMP_NUM_TCP_PCB_LISTEN). Default 16.
	MaxListeners int
	// MaxTimeWait is the number of compact TIME-WAIT records. When full, the
	// oldest is reused. Default MaxPCBs.
	MaxTimeWait int

	// MSS caps the MSS we announce (TCP_MSS); the interface MTU caps it too.
	// Default 1460.
	MSS int
	// SndBuf is each connection's send budget in bytes: queued plus
	// unacknowledged (TCP_SND_BUF). Default 256 KiB.
	SndBuf int
	// RcvBuf is each connection's receive window in bytes (TCP_WND), at most
	// 1 GiB; the window scale follows from it. Default 256 KiB.
	RcvBuf int

	// NoWindowScale, NoTimestamps, NoSACK turn off RFC 7323 window scaling,
	// RFC 7323 timestamps and RFC 2018 SACK (all on by default).
	NoWindowScale, NoTimestamps, NoSACK bool

	// DelayedACK is the longest an ACK is delayed (RFC 9293 §3.8.6.3 asks for
	// less than 0.5 s; every second full segment is acknowledged at once).
	// Default 40 ms (Linux's minimum); a negative value turns delays off.
	DelayedACK clock.Duration

	// InitialRTO, MinRTO and MaxRTO bound the retransmission timeout
	// (RFC 6298 §2). Defaults 1 s, 200 ms (Linux's; RFC 6298 suggests 1 s)
	// and 60 s.
	InitialRTO, MinRTO, MaxRTO clock.Duration
	// SynRetries is the number of SYN or SYN-ACK retransmissions before the
	// attempt fails (TCP_SYNMAXRTX). Default 6.
	SynRetries int
	// MaxRetries is the number of retransmissions of one segment before the
	// connection is dropped (TCP_MAXRTX). Default 12.
	MaxRetries int
	// TimeWait is how long TIME-WAIT lasts, 2×MSL (RFC 9293 §3.4.2).
	// Default 60 s.
	TimeWait clock.Duration
	// FinWait2Timeout drops a connection that the application closed and the
	// peer never finished (lwIP TCP_FIN_WAIT_TIMEOUT). Default 60 s.
	FinWait2Timeout clock.Duration

	// KeepIdle, KeepInterval and KeepCount are the keepalive defaults for
	// connections that turn keepalive on (TCP_KEEPIDLE_DEFAULT,
	// TCP_KEEPINTVL_DEFAULT, TCP_KEEPCNT_DEFAULT). Defaults 2 h, 75 s, 9.
	KeepIdle, KeepInterval clock.Duration
	KeepCount              int

	// SynBacklog is the backlog of a listener whose Listen asks for 0
	// (TCP_DEFAULT_LISTEN_BACKLOG). Default 128.
	SynBacklog int
	// Backlog says what to do when a backlog is full. Default SYN cookies.
	Backlog BacklogPolicy

	// OOSeqMaxBufs bounds the out-of-order buffers one connection holds
	// (TCP_OOSEQ_MAX_PBUFS). Default 64.
	OOSeqMaxBufs int
	// OOSeqGlobal bounds the out-of-order buffers all connections hold
	// together, so out-of-order data cannot starve reception. Default half
	// of ReserveBufs; out-of-order data is also refused while the pool is
	// below half its reserve.
	OOSeqGlobal int
	// ReserveBufs is the number of packet buffers that writes never take,
	// kept for reception, ACKs and control segments. Default an eighth of
	// the pool, at least 8.
	ReserveBufs int

	// ChallengeACKRate bounds RFC 5961 challenge ACKs per second (Linux
	// tcp_challenge_ack_limit). Default 1000.
	ChallengeACKRate int

	// ISNSecret keys initial sequence numbers and SYN cookies (RFC 6528).
	// Fill it from real entropy; tests fix it.
	ISNSecret [16]byte

	// NewCC creates a connection's congestion control: NewReno (RFC 5681,
	// the default when nil) or NewCubic (RFC 9438, Linux's default).
	// Conn.SetCongestionControl changes one connection's.
	NewCC func() CongestionControl
}

func def[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// WithDefaults returns c with zero fields replaced by defaults; poolBufs is
// the size of the packet pool the layer draws from.
func (c Config) WithDefaults(poolBufs int) Config {
	def(&c.MaxPCBs, 128)
	def(&c.MaxListeners, 16)
	def(&c.MaxTimeWait, c.MaxPCBs)
	def(&c.MSS, 1460)
	def(&c.SndBuf, 256<<10)
	def(&c.RcvBuf, 256<<10)
	c.RcvBuf = min(c.RcvBuf, 1<<30)
	def(&c.DelayedACK, 40*clock.Millisecond)
	def(&c.InitialRTO, clock.Second)
	def(&c.MinRTO, 200*clock.Millisecond)
	def(&c.MaxRTO, 60*clock.Second)
	def(&c.SynRetries, 6)
	def(&c.MaxRetries, 12)
	def(&c.TimeWait, 60*clock.Second)
	def(&c.FinWait2Timeout, 60*clock.Second)
	def(&c.KeepIdle, 2*60*clock.Minute)
	def(&c.KeepInterval, 75*clock.Second)
	def(&c.KeepCount, 9)
	def(&c.SynBacklog, 128)
	def(&c.OOSeqMaxBufs, 64)
	def(&c.ReserveBufs, max(poolBufs/8, 8))
	def(&c.OOSeqGlobal, max(c.ReserveBufs/2, 1))
	def(&c.ChallengeACKRate, 1000)
	if c.NewCC == nil {
		c.NewCC = NewReno
	}
	return c
}
