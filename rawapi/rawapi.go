package rawapi

import (
	"github.com/lwgo/lwgo/core"
	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
)

// The stack and its configuration.
type (
	// Stack is one TCP/IP stack instance.
	Stack = core.Stack
	// Config sizes the stack's pools and tables; zero fields take defaults.
	Config = core.Config
	// NetifConfig configures an interface as it is added.
	NetifConfig = core.NetifConfig
	// Netif is an interface record.
	Netif = netif.Netif
	// Stats are the stack's counters.
	Stats = core.Stats
	// ProtoStats are one protocol's counters.
	ProtoStats = core.ProtoStats
)

// Endpoints and callbacks.
type (
	// UDP is a handle to a UDP endpoint.
	UDP = core.UDP
	// UDPRecvFunc receives a datagram; it owns the buffer.
	UDPRecvFunc = core.UDPRecvFunc
	// UDPErrFunc receives ICMP errors about sent datagrams.
	UDPErrFunc = core.UDPErrFunc
	// Ping is a handle to an ICMP echo endpoint.
	Ping = core.Ping
	// PingRecvFunc receives echo replies.
	PingRecvFunc = core.PingRecvFunc
)

// Buffers, time and addresses.
type (
	// Buf is a packet buffer.
	Buf = pbuf.Buf
	// Layer selects a buffer's headroom.
	Layer = pbuf.Layer
	// Pool is a fixed pool of packet buffers; devices receive into buffers
	// from the pool the stack hands them.
	Pool = pbuf.Pool
	// Time is a monotonic instant in nanoseconds.
	Time = clock.Time
	// Duration is a span of time in nanoseconds.
	Duration = clock.Duration
	// MAC is a hardware address.
	MAC = wire.MAC
	// ICMPType is an ICMPv4 message type.
	ICMPType = wire.ICMPv4Type
	// Err is an lwIP-style error value.
	Err = errs.Err
)

// Buffer layers (headroom for the headers below).
const (
	LayerRaw       = pbuf.LayerRaw
	LayerLink      = pbuf.LayerLink
	LayerIP        = pbuf.LayerIP
	LayerTransport = pbuf.LayerTransport
)

// Never is the deadline of nothing pending.
const Never = clock.Never

// Errors, as lwIP's err_t.
const (
	ErrMem        = errs.ErrMem
	ErrBuf        = errs.ErrBuf
	ErrTimeout    = errs.ErrTimeout
	ErrRoute      = errs.ErrRoute
	ErrInProgress = errs.ErrInProgress
	ErrVal        = errs.ErrVal
	ErrWouldBlock = errs.ErrWouldBlock
	ErrInUse      = errs.ErrInUse
	ErrAlready    = errs.ErrAlready
	ErrIsConn     = errs.ErrIsConn
	ErrNotConn    = errs.ErrNotConn
	ErrIf         = errs.ErrIf
	ErrAbort      = errs.ErrAbort
	ErrReset      = errs.ErrReset
	ErrClosed     = errs.ErrClosed
	ErrArg        = errs.ErrArg
)

// New allocates a stack and all its memory. lwIP: lwip_init.
func New(cfg Config) *Stack { return core.New(cfg) }

// ManualClock is a clock that moves only when told to: for simulations and
// examples that run two stacks in virtual time.
type ManualClock = clock.Manual

// Time units.
const (
	Microsecond = clock.Microsecond
	Millisecond = clock.Millisecond
	Second      = clock.Second
)
