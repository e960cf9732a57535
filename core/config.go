package core

import (
	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/tcp"
)

// Config sizes every pool and table of a Stack and sets its protocol
// parameters. The zero value of each field selects the documented default;
// each field names the lwIP opt.h option it mirrors.
type Config struct {
	// MaxNetifs is the number of interfaces the stack can hold. Default 4.
	MaxNetifs int

	// PoolBufs is the number of packet buffers (PBUF_POOL_SIZE). They serve
	// reception, transmission and queued packets alike. Default 512.
	PoolBufs int
	// PoolBufSize is the size of each buffer (PBUF_POOL_BUFSIZE, plus
	// headroom). It must hold the largest frame of any interface plus
	// pbuf.LayerTransport headroom. Default 2048 (MTU 1500).
	PoolBufSize int
	// Pool, when set, is used as the packet pool instead of one made from
	// PoolBufs and PoolBufSize: a driver's DMA-capable pool, so that frames
	// the stack builds go to the device without a copy. The stack owns it
	// from New on.
	Pool *pbuf.Pool

	// TSOBufs is the number of super-segment buffers (64 KiB each) for TCP
	// segmentation offload, used on interfaces whose device offers it
	// (netif.Caps.TSOMax with TxChecksumOffload). They are allocated when the
	// first such interface is added; without them, or when all are in use,
	// TCP sends MSS-sized segments. Default 16 (about 1 MiB); negative: no
	// TSO.
	TSOBufs int

	// RxBatch is the number of frames asked of a device per Receive call.
	// Default 32.
	RxBatch int
	// RxBudget bounds the frames taken from one interface per Poll, so one
	// busy interface cannot starve timers or others (smoltcp's DoS warning).
	// Default 256.
	RxBudget int
	// TxBatch is the number of frames gathered per interface before they are
	// handed to the device in one Transmit call. Default 32.
	TxBatch int

	// ARPTableSize is the number of ARP cache entries (ARP_TABLE_SIZE).
	// Default 32.
	ARPTableSize int
	// ARPQueueLen is the number of packets queued per unresolved address
	// (ARP_QUEUE_LEN); when full, the oldest is dropped, keeping the latest
	// as RFC 1122 §2.3.2.2 asks. Default 64, so that the fragments of a
	// 64 KiB datagram survive resolution (lwIP's 3 loses all but the last
	// three; Linux queues about 200 KB).
	ARPQueueLen int
	// ARPMaxAge is the lifetime of a resolved entry (ARP_MAXAGE). Default 5 min.
	ARPMaxAge clock.Duration
	// ARPMaxTries is the number of requests sent, one a second
	// (RFC 1122 §2.3.2.1), before an unresolved entry fails (ARP_MAXPENDING).
	// Default 5.
	ARPMaxTries int

	// TTL is the default time-to-live of outgoing datagrams (IP_DEFAULT_TTL).
	// Default 64.
	TTL uint8

	// ReassMaxDatagrams is the number of datagrams reassembled at once
	// (MEMP_NUM_REASSDATA). Default 4.
	ReassMaxDatagrams int
	// ReassMaxSize is the largest datagram reassembled, in bytes, header
	// included; each reassembly slot has this size. Default 65535.
	ReassMaxSize int
	// ReassTimeout is how long a partial datagram waits for its fragments
	// (IP_REASS_MAXAGE). Default 30 s.
	ReassTimeout clock.Duration

	// MaxUDPPCBs is the number of UDP PCBs (MEMP_NUM_UDP_PCB). Default 16.
	MaxUDPPCBs int
	// MaxPingPCBs is the number of ICMP echo PCBs (MEMP_NUM_RAW_PCB). Default 4.
	MaxPingPCBs int

	// ICMPErrorRate is the number of ICMP error messages sent per second at
	// most, with a burst of the same size (Linux icmp_ratelimit). Default 100.
	ICMPErrorRate int

	// MaxPollers is the number of protocol clients (DHCP clients, DNS
	// resolvers) that can register with AddPoller to run from Poll. Default 8.
	MaxPollers int

	// LoopQueueLen bounds datagrams a stack sends to its own addresses and
	// delivers on the next Poll (LWIP_LOOPBACK_MAX_PBUFS). Default 64.
	LoopQueueLen int

	// TCP configures the TCP engine; see tcp.Config for its fields and
	// defaults.
	TCP tcp.Config

	// Seed seeds the stack's pseudo-random generator: ephemeral ports
	// (RFC 6056), IP identification, echo identifiers. Set it from a real
	// entropy source in production; tests fix it. Zero selects a fixed seed.
	Seed uint64
}

const (
	defaultARPMaxAge    = 5 * clock.Minute
	defaultReassTimeout = 30 * clock.Second
	tickInterval        = clock.Second // ARP and reassembly timers (ARP_TMR_INTERVAL, IP_TMR_INTERVAL)
)

func def[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// withDefaults returns c with zero fields replaced by their defaults.
func (c Config) withDefaults() Config {
	def(&c.MaxNetifs, 4)
	if c.Pool != nil {
		c.PoolBufs, c.PoolBufSize = c.Pool.Cap(), c.Pool.SlotSize()
	}
	def(&c.PoolBufs, 512)
	def(&c.PoolBufSize, 2048)
	def(&c.TSOBufs, 16)
	def(&c.RxBatch, 32)
	def(&c.RxBudget, 256)
	def(&c.TxBatch, 32)
	def(&c.ARPTableSize, 32)
	def(&c.ARPQueueLen, 64)
	def(&c.ARPMaxAge, defaultARPMaxAge)
	def(&c.ARPMaxTries, 5)
	def(&c.TTL, 64)
	def(&c.ReassMaxDatagrams, 4)
	def(&c.ReassMaxSize, 65535)
	def(&c.ReassTimeout, defaultReassTimeout)
	def(&c.MaxUDPPCBs, 16)
	def(&c.MaxPingPCBs, 4)
	def(&c.ICMPErrorRate, 100)
	def(&c.LoopQueueLen, 64)
	def(&c.MaxPollers, 8)
	def(&c.Seed, 0x6c77676f2d736565) // "lwgo-see"
	c.ReassMaxSize = min(max(c.ReassMaxSize, 576), 65535)
	return c
}
