package core

import (
	"net/netip"
	"strconv"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/tcp"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
)

// Stack is one instance of the TCP/IP stack. See the package documentation
// for the concurrency and memory contract.
type Stack struct {
	cfg       Config
	pool      *pbuf.Pool // packet buffers
	reassPool *pbuf.Pool // one slot per datagram under reassembly

	netifs []netif.Netif // len = number added; cap = MaxNetifs; never reallocated
	tso    *pbuf.Pool    // TSO super-segment buffers (Config.TSOBufs); nil until a TSO device is added
	txq    [][]*pbuf.Buf // per netif: frames gathered for one Transmit
	rx     []*pbuf.Buf   // receive scratch, RxBatch long

	tcp   *tcp.Layer
	arp   arpTable
	reass reassTable
	udp   []udpPCB
	ping  []pingPCB
	loopq pbuf.Queue // datagrams to our own addresses, delivered next Poll

	pollers []Poller   // registered protocol clients; nil slots are free; len = MaxPollers
	probes  []arpProbe // per netif: RFC 5227 duplicate-address watch (ARPProbe)

	rng      rng
	ipID     uint16
	icmpTok  int        // ICMP error tokens
	icmpFill clock.Time // last token refill
	now      clock.Time // time of the current or last Poll
	nextTick clock.Time // next ARP and reassembly timer run
	inPoll   bool

	stats Stats
}

// New allocates a stack and every pool and table it will ever use.
func New(cfg Config) *Stack {
	cfg = cfg.withDefaults()
	pool := cfg.Pool
	if pool == nil {
		pool = pbuf.NewPool(cfg.PoolBufs, cfg.PoolBufSize)
	}
	s := &Stack{
		cfg:       cfg,
		pool:      pool,
		reassPool: pbuf.NewPool(cfg.ReassMaxDatagrams, cfg.ReassMaxSize+pbuf.LayerTransport.Headroom()+wire.IPv4MaxHeaderLen),
		netifs:    make([]netif.Netif, 0, cfg.MaxNetifs),
		txq:       make([][]*pbuf.Buf, cfg.MaxNetifs),
		rx:        make([]*pbuf.Buf, cfg.RxBatch),
		udp:       make([]udpPCB, cfg.MaxUDPPCBs),
		ping:      make([]pingPCB, cfg.MaxPingPCBs),
		pollers:   make([]Poller, cfg.MaxPollers),
		probes:    make([]arpProbe, cfg.MaxNetifs),
		rng:       newRNG(cfg.Seed),
		icmpTok:   cfg.ICMPErrorRate,
	}
	for i := range s.txq {
		s.txq[i] = make([]*pbuf.Buf, 0, cfg.TxBatch)
	}
	s.tcp = tcp.New(cfg.TCP, (*tcpOut)(s), s.pool)
	s.arp.init(cfg)
	s.reass.init(cfg)
	s.ipID = uint16(s.rng.next())
	return s
}

// Config returns the configuration in force, defaults filled in.
func (s *Stack) Config() Config { return s.cfg }

// Pool returns the stack's packet-buffer pool. Applications allocate the
// buffers they hand to the stack from it.
func (s *Stack) Pool() *pbuf.Pool { return s.pool }

// ReassPool returns the pool of reassembly buffers: the buffers of
// reassembled datagrams handed to applications come from it, so tests can
// check that they all come back.
func (s *Stack) ReassPool() *pbuf.Pool { return s.reassPool }

// Stats returns a copy of the counters.
func (s *Stack) Stats() Stats {
	st := s.stats
	st.PoolOut = s.pool.AllocFails
	return st
}

// Now returns the time of the current or last Poll.
func (s *Stack) Now() clock.Time { return s.now }

// NetifConfig configures an interface as it is added.
type NetifConfig struct {
	// Name is a short name ("en0"); empty picks "if<index>".
	Name string
	// Addr is the address and prefix length; the zero Prefix leaves the
	// interface without an address (for DHCP).
	Addr netip.Prefix
	// Gateway is the default gateway through this interface, if any.
	Gateway netip.Addr
	// MTU overrides the device's MTU when smaller; 0 uses the device's.
	MTU int
}

// AddNetif attaches dev as a new interface, administratively down. It
// returns ErrMem when Config.MaxNetifs are in use, ErrVal when the device's
// frames cannot fit a packet buffer or the address is not IPv4. lwIP: netif_add.
func (s *Stack) AddNetif(dev netif.Device, c NetifConfig) (*netif.Netif, error) {
	if len(s.netifs) == cap(s.netifs) {
		return nil, errs.ErrMem
	}
	mtu := dev.MTU()
	if c.MTU > 0 && c.MTU < mtu {
		mtu = c.MTU
	}
	if mtu < wire.IPv4MinMTU || mtu+wire.EthernetHeaderLen+pbuf.LayerLink.Headroom() > s.cfg.PoolBufSize {
		return nil, errs.ErrVal
	}
	idx := len(s.netifs)
	s.netifs = append(s.netifs, netif.Netif{
		Name:  c.Name,
		Index: idx,
		Dev:   dev,
		MAC:   dev.HardwareAddr(),
		MTU:   mtu,
		Flags: netif.FlagBroadcast,
	})
	n := &s.netifs[idx]
	if n.Name == "" {
		n.Name = "if" + strconv.Itoa(idx)
	}
	caps := dev.Caps()
	n.Caps = caps
	if !caps.NoARP {
		n.Flags |= netif.FlagARP
	}
	if err := s.SetAddr(n, c.Addr, c.Gateway); err != nil {
		s.netifs = s.netifs[:idx]
		return nil, err
	}
	if caps.TSOMax > mtu && caps.TxChecksumOffload && s.cfg.TSOBufs > 0 && s.tso == nil {
		s.tso = pbuf.NewPool(s.cfg.TSOBufs, tsoBufSize)
		s.tcp.SetGSOPool(s.tso)
	}
	return n, nil
}

// tsoBufSize is the size of a super-segment buffer: the largest IPv4
// datagram behind pbuf.LayerLink headroom, rounded up.
const tsoBufSize = 64<<10 + 128

// tsoMax returns the largest datagram n's device segments, 0 for none.
func (s *Stack) tsoMax(n *netif.Netif) int {
	if s.tso == nil || !n.Caps.TxChecksumOffload || n.Caps.TSOMax <= n.MTU {
		return 0
	}
	return min(n.Caps.TSOMax, wire.IPv4MaxTotalLen)
}

// Netifs returns the interfaces. The slice and its elements belong to the stack.
func (s *Stack) Netifs() []netif.Netif { return s.netifs }

// SetAddr sets an interface's address, prefix and gateway; the zero Prefix
// removes the address. lwIP: netif_set_addr.
func (s *Stack) SetAddr(n *netif.Netif, p netip.Prefix, gw netip.Addr) error {
	var addr, mask, gwa wire.IPv4Addr
	if p.IsValid() {
		if !p.Addr().Is4() {
			return errs.ErrVal
		}
		addr, mask = p.Addr().As4(), wire.PrefixMask(p.Bits())
	}
	if gw.IsValid() {
		if !gw.Is4() {
			return errs.ErrVal
		}
		gwa = gw.As4()
	}
	changed := n.Addr != addr
	n.Addr, n.Mask, n.Gateway = addr, mask, gwa
	if changed {
		s.arp.flushNetif(s, n.Index)
		if n.IsUp() {
			s.announce(n)
			s.flush()
		}
	}
	return nil
}

// SetUp brings an interface administratively up and announces its address
// with a gratuitous ARP when the link is up. lwIP: netif_set_up.
func (s *Stack) SetUp(n *netif.Netif) {
	if n.Flags&netif.FlagUp != 0 {
		return
	}
	n.Flags |= netif.FlagUp
	s.pollLink(n)
	if n.IsUp() {
		s.announce(n)
		s.flush()
	}
}

// SetDown takes an interface down and forgets its neighbours. lwIP: netif_set_down.
func (s *Stack) SetDown(n *netif.Netif) {
	n.Flags &^= netif.FlagUp
	s.arp.flushNetif(s, n.Index)
}

// pollLink updates the link flag from the device and reports a rising edge.
func (s *Stack) pollLink(n *netif.Netif) bool {
	up := n.Dev.LinkUp()
	was := n.Flags&netif.FlagLinkUp != 0
	if up {
		n.Flags |= netif.FlagLinkUp
	} else {
		n.Flags &^= netif.FlagLinkUp
		if was {
			s.arp.flushNetif(s, n.Index)
		}
	}
	return up && !was
}

// Poll processes received frames and due timers and returns the next
// deadline: the time by which Poll must run again even if no frame arrives.
// It returns now when work is left over (a receive budget ran out). Poll must
// not be called from a callback that Poll invoked. lwIP: sys_check_timeouts
// plus the driver poll.
func (s *Stack) Poll(now clock.Time) clock.Time {
	if s.inPoll {
		panic("core: Poll called from a callback")
	}
	s.inPoll = true
	defer func() { s.inPoll = false }()
	if now > s.now {
		s.now = now
	}
	next := clock.Never
	for i := range s.netifs {
		n := &s.netifs[i]
		if s.pollLink(n) && n.Flags&netif.FlagUp != 0 {
			s.announce(n)
		}
		if s.receive(n) {
			next = s.now
		}
		if d, ok := n.Dev.(netif.Deadliner); ok {
			next = clock.Min(next, d.NextDeadline())
		}
	}
	s.drainLoop()
	s.tcp.SetNow(s.now)
	s.tcp.Timer()
	s.runPollers()
	if s.now >= s.nextTick {
		s.arp.tick(s)
		s.reass.tick(s)
		s.nextTick += clock.Time(tickInterval)
		if s.nextTick <= s.now { // idle for a while: no catch-up storm
			s.nextTick = s.now.Add(tickInterval)
		}
	}
	s.flush()
	if s.loopq.Len() > 0 {
		next = s.now
	}
	return clock.Min(next, s.nextDeadline())
}

// Poller is a protocol client driven by the stack's clock: a DHCP client, a
// DNS resolver. Once registered with AddPoller, its PollTimers runs on every
// Poll, after input and the TCP timers, and runs what is due at now, sending
// through the stack's usual APIs; it must not call Poll. NextDeadline
// returns when PollTimers next has work (clock.Never: none); Poll asks for
// it last, so work that callbacks started during Poll counts. lwIP: the
// sys_timeout entries of dhcp.c and dns.c.
type Poller interface {
	PollTimers(now clock.Time)
	NextDeadline() clock.Time
}

// AddPoller registers p to run from Poll. It returns ErrMem when
// Config.MaxPollers are registered and ErrInUse if p already is.
func (s *Stack) AddPoller(p Poller) error {
	if p == nil {
		return errs.ErrArg
	}
	free := -1
	for i, q := range s.pollers {
		if q == p {
			return errs.ErrInUse
		}
		if q == nil && free < 0 {
			free = i
		}
	}
	if free < 0 {
		return errs.ErrMem
	}
	s.pollers[free] = p
	return nil
}

// RemovePoller unregisters p; it is safe inside a Poller's own PollTimers.
func (s *Stack) RemovePoller(p Poller) {
	for i, q := range s.pollers {
		if q == p {
			s.pollers[i] = nil
		}
	}
}

// runPollers runs every registered Poller's timers.
func (s *Stack) runPollers() {
	for i := range s.pollers {
		if p := s.pollers[i]; p != nil {
			p.PollTimers(s.now)
		}
	}
}

// Rand returns a value from the stack's pseudo-random generator (seeded by
// Config.Seed): DHCP transaction IDs and DNS query IDs come from it.
func (s *Stack) Rand() uint64 { return s.rng.next() }

// nextDeadline is the earliest timer deadline: the periodic tick when some
// timer has work, otherwise none.
func (s *Stack) nextDeadline() clock.Time {
	next := s.tcp.NextDeadline()
	for _, p := range s.pollers {
		if p != nil {
			next = clock.Min(next, p.NextDeadline())
		}
	}
	if s.arp.busy() || s.reass.busy() {
		next = clock.Min(next, s.nextTick)
	}
	return next
}

// receive takes up to RxBudget frames from n's device; it reports whether
// the budget ran out with frames possibly left.
func (s *Stack) receive(n *netif.Netif) bool {
	budget := s.cfg.RxBudget
	for budget > 0 {
		k := n.Dev.Receive(s.pool, s.rx[:min(len(s.rx), budget)])
		if k <= 0 {
			return false
		}
		k = min(k, len(s.rx)) // untrusted device
		budget -= k
		s.tcp.BeginBatch()
		for i, b := range s.rx[:k] {
			s.rx[i] = nil
			if b == nil {
				continue
			}
			n.Stats.RxFrames++
			n.Stats.RxBytes += uint64(b.Len())
			s.ethInput(n, b)
		}
		s.tcp.SetNow(s.now)
		s.tcp.EndBatch()
	}
	return true
}

// Flush hands the frames gathered for every interface to its device now,
// without reading input or running timers: for a program that sent outside
// Poll (the sequential API after a send) and wants the frames to leave
// before its next Poll. Inside Poll it does nothing; Poll flushes at its end.
func (s *Stack) Flush() {
	if !s.inPoll {
		s.flush()
	}
}

// flush hands every interface's gathered frames to its device.
func (s *Stack) flush() {
	for i := range s.netifs {
		s.flushNetif(&s.netifs[i])
	}
}

func (s *Stack) flushNetif(n *netif.Netif) {
	q := s.txq[n.Index]
	if len(q) == 0 {
		return
	}
	k := n.Dev.Transmit(q)
	k = max(0, min(k, len(q)))
	for _, b := range q[:k] {
		n.Stats.TxFrames++
		n.Stats.TxBytes += uint64(b.Len())
	}
	for _, b := range q[k:] {
		n.Stats.TxDrops++
		s.stats.Link.Drop++
		b.Free()
	}
	clear(q)
	s.txq[n.Index] = q[:0]
}

// linkSend queues a complete frame for n's device; it takes ownership of b.
func (s *Stack) linkSend(n *netif.Netif, b *pbuf.Buf) {
	s.stats.Link.Xmit++
	q := append(s.txq[n.Index], b)
	s.txq[n.Index] = q
	if len(q) == cap(q) {
		s.flushNetif(n)
	}
}

// alloc takes a buffer from the packet pool, counting failure against p.
func (s *Stack) alloc(l pbuf.Layer, size int, p *ProtoStats) *pbuf.Buf {
	b, err := s.pool.Alloc(l, size)
	if err != nil {
		p.MemErr++
		return nil
	}
	return b
}

// isOurAddr reports whether a is the address of one of our interfaces.
func (s *Stack) isOurAddr(a wire.IPv4Addr) bool {
	for i := range s.netifs {
		if s.netifs[i].HasAddr() && s.netifs[i].Addr == a {
			return true
		}
	}
	return false
}
