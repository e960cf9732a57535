package dhcp

import (
	"net/netip"

	"github.com/lwgo/lwgo/core"
	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
)

// State is the client's state (RFC 2131 §4.4, Figure 5; lwIP's
// DHCP_STATE_*).
type State uint8

// Client states.
const (
	Off        State = iota // stopped: no socket, no timers
	Selecting               // DHCPDISCOVER sent, waiting for a DHCPOFFER
	Requesting              // DHCPREQUEST sent for an offer, waiting for DHCPACK
	Checking                // ACK received, probing the address with ARP (RFC 5227)
	Bound                   // address configured, waiting for T1
	Renewing                // T1 passed: DHCPREQUEST unicast to the server
	Rebinding               // T2 passed: DHCPREQUEST broadcast to any server
	Rebooting               // INIT-REBOOT: DHCPREQUEST for a remembered address
	BackingOff              // DHCPDECLINE sent; waiting before INIT (RFC 2131 §3.1 step 5)
	Releasing               // DHCPRELEASE waiting for ARP to resolve the server; then Off
)

// String returns the RFC's name of s ("SELECTING").
func (s State) String() string {
	switch s {
	case Off:
		return "OFF"
	case Selecting:
		return "SELECTING"
	case Requesting:
		return "REQUESTING"
	case Checking:
		return "CHECKING"
	case Bound:
		return "BOUND"
	case Renewing:
		return "RENEWING"
	case Rebinding:
		return "REBINDING"
	case Rebooting:
		return "REBOOTING"
	case BackingOff:
		return "BACKING-OFF"
	case Releasing:
		return "RELEASING"
	}
	return "?"
}

// Event is what the client reports through Config.OnEvent.
type Event uint8

// Events.
const (
	EventBound    Event = iota + 1 // an address was configured on the interface (see Lease)
	EventRenewed                   // the lease was extended; the address is unchanged
	EventLost                      // the address was removed: lease expired, DHCPNAK, Stop or Release
	EventDeclined                  // the acknowledged address was in use (ARP); DHCPDECLINE sent
)

// String returns the event's name.
func (e Event) String() string {
	switch e {
	case EventBound:
		return "bound"
	case EventRenewed:
		return "renewed"
	case EventLost:
		return "lost"
	case EventDeclined:
		return "declined"
	}
	return "?"
}

// EventFunc receives a client's events. It runs inside Stack.Poll or inside
// the client call that caused the event, and may call the client's methods.
type EventFunc func(c *Client, ev Event)

// DNSSetter receives the DNS servers of a lease (dns.Resolver implements it;
// lwIP: dns_setserver called from dhcp.c).
type DNSSetter interface {
	SetServer(i int, addr netip.Addr) error
}

// RFC 2131 timing.
const (
	// RFC 2131 §4.1: "the delay before the first retransmission SHOULD be 4
	// seconds randomized by the value of a uniform random number chosen from
	// the range -1 to +1 ... The delay before the next retransmission SHOULD
	// be 8 seconds randomized by the value of a uniform number chosen from the
	// range -1 to +1. The retransmission delay SHOULD be doubled with
	// subsequent retransmissions up to a maximum of 64 seconds."
	rexmitFirst = 4 * clock.Second
	rexmitMax   = 64 * clock.Second
	rexmitJit   = clock.Second
	// RFC 2131 §4.4.5: in RENEWING and REBINDING the client waits half the
	// remaining time, "down to a minimum of 60 seconds, before
	// retransmitting the DHCPREQUEST message".
	renewRexmitMin = 60 * clock.Second
	// RFC 2131 §3.1 step 5: after a DHCPDECLINE, "the client SHOULD wait a
	// minimum of ten seconds before restarting the configuration process".
	declineWait = 10 * clock.Second
	// sendRetry is the wait after a transmission the stack refused (no
	// buffer, link down): the try is not counted.
	sendRetry = clock.Second
	// releaseWait bounds how long Release keeps the address for ARP to
	// resolve the server, so that the unicast DHCPRELEASE leaves.
	releaseWait = clock.Second
)

// Config configures a client. The zero value is valid.
type Config struct {
	// Hostname is sent as option 12 when not empty (LWIP_NETIF_HOSTNAME); at
	// most 255 bytes.
	Hostname string
	// BroadcastFlag sets the BROADCAST bit in DHCPDISCOVER and DHCPREQUEST,
	// asking servers to broadcast their replies (RFC 2131 §4.1). The client
	// takes unicast replies to the offered address without it.
	BroadcastFlag bool
	// NoARPCheck skips probing the acknowledged address with ARP before using
	// it (lwIP DHCP_DOES_ARP_CHECK = 0, as BitVisor builds).
	NoARPCheck bool
	// ARPProbes is the number of ARP probes sent for the acknowledged address
	// (RFC 5227 PROBE_NUM is 3; lwIP sends 2). Default 2.
	ARPProbes int
	// ARPProbeWait is the wait after each probe for a conflicting reply.
	// Default 1 s (RFC 5227 PROBE_MIN).
	ARPProbeWait clock.Duration
	// RequestTries is how many DHCPREQUESTs are sent for an offer before the
	// client gives up on it and starts over (lwIP: 5 tries). Default 4.
	RequestTries int
	// RebootTries is how many DHCPREQUESTs INIT-REBOOT sends before falling
	// back to DHCPDISCOVER (lwIP: 2). Default 2.
	RebootTries int
	// RequestedAddr, when valid, makes Start begin in INIT-REBOOT asking for
	// this previously leased address (RFC 2131 §3.2).
	RequestedAddr netip.Addr
	// OnEvent, if set, receives the client's events.
	OnEvent EventFunc
	// DNS, if set, receives the lease's DNS servers on every ACK.
	DNS DNSSetter
}

func (c Config) withDefaults() Config {
	if c.ARPProbes <= 0 {
		c.ARPProbes = 2
	}
	if c.ARPProbeWait <= 0 {
		c.ARPProbeWait = clock.Second
	}
	if c.RequestTries <= 0 {
		c.RequestTries = 4
	}
	if c.RebootTries <= 0 {
		c.RebootTries = 2
	}
	return c
}

// Stats are a client's counters.
type Stats struct {
	Xmit       uint64 // messages sent
	SendErr    uint64 // messages the stack refused (no route, no buffer)
	Discovers  uint64 // DHCPDISCOVER sent
	Requests   uint64 // DHCPREQUEST sent
	Declines   uint64 // DHCPDECLINE sent
	Releases   uint64 // DHCPRELEASE sent
	Rexmits    uint64 // retransmissions (included in the above)
	Recv       uint64 // datagrams received on port 68
	Offers     uint64 // DHCPOFFER accepted
	Acks       uint64 // DHCPACK accepted
	Naks       uint64 // DHCPNAK accepted
	Drop       uint64 // datagrams dropped, for any reason below
	BadPort    uint64 // not from port 67
	Truncated  uint64 // shorter than a DHCP header
	Malformed  uint64 // bad cookie, op, htype or hlen, or malformed options
	BadXID     uint64 // transaction ID not the current one (spoofed, stale)
	BadCHAddr  uint64 // chaddr not our MAC
	BadContent uint64 // unusable: no or wrong server ID, bad yiaddr, no lease time
	Unexpected uint64 // a valid reply the current state does not expect
	Conflicts  uint64 // acknowledged addresses found in use by ARP
	Expired    uint64 // leases that ran out
}

// Client is a DHCP client for one interface. lwIP: struct dhcp (dhcp.c).
// All memory is allocated by New; Start, replies and timers allocate
// nothing. A Client must be used only from the stack's goroutine.
type Client struct {
	s    *core.Stack
	n    *netif.Netif
	cfg  Config
	recv core.UDPRecvFunc // c.input, bound once
	u    core.UDP         // open while the client runs

	state State
	gen   uint32 // bumped by Stop, so a transition can tell whether an event handler restarted the client
	xid   uint32
	tries int        // transmissions of the current message
	secs  uint16     // secs of the DHCPDISCOVER, repeated by the DHCPREQUEST
	begin clock.Time // first transmission of the current exchange
	timer clock.Time // next retransmission or state timeout
	probe int        // ARP probes left (Checking)

	offered wire.IPv4Addr // address of the offer being requested or checked
	server  wire.IPv4Addr // server identifier of the offer or lease

	// The lease in force (Bound, Renewing, Rebinding) or being checked.
	lease      leaseInfo
	configured bool // the client set n's address

	buf   [MaxLen]byte
	stats Stats
}

// leaseInfo is the configuration from a DHCPACK.
type leaseInfo struct {
	addr, mask, gw wire.IPv4Addr
	dns            [MaxDNSServers]wire.IPv4Addr
	numDNS         int
	server         wire.IPv4Addr
	secs           uint32     // lease time; Infinite for ever
	t1s, t2s       uint32     // T1 and T2 in seconds
	start          clock.Time // when the DHCPREQUEST that got it was first sent
	t1, t2, expire clock.Time
}

// New allocates a client for interface n of stack s and registers it to run
// from s.Poll. It returns ErrMem when the stack has no room for another
// poller, ErrVal for a hostname over 255 bytes or a non-IPv4 requested
// address. The client starts Off. lwIP: dhcp_set_struct.
func New(s *core.Stack, n *netif.Netif, cfg Config) (*Client, error) {
	if len(cfg.Hostname) > 255 || cfg.RequestedAddr.IsValid() && !cfg.RequestedAddr.Is4() {
		return nil, errs.ErrVal
	}
	c := &Client{s: s, n: n, cfg: cfg.withDefaults(), timer: clock.Never}
	c.recv = c.input
	if err := s.AddPoller(c); err != nil {
		return nil, err
	}
	return c, nil
}

// Close stops the client (as Stop) and unregisters it from the stack.
// lwIP: dhcp_cleanup.
func (c *Client) Close() {
	c.Stop()
	c.s.RemovePoller(c)
}

// State returns the current state.
func (c *Client) State() State { return c.state }

// Stats returns a copy of the counters.
func (c *Client) Stats() Stats { return c.stats }

// Netif returns the interface the client configures.
func (c *Client) Netif() *netif.Netif { return c.n }

// Lease is the configuration a server granted.
type Lease struct {
	Addr     netip.Prefix // address and prefix length (mask option, or the class default)
	Gateway  netip.Addr   // first router of option 3; invalid if none
	DNS      [MaxDNSServers]netip.Addr
	Server   netip.Addr     // server identifier
	Duration clock.Duration // lease time; Never-like (1<<63-1) for an infinite lease
	T1, T2   clock.Duration // renewal and rebinding times, from Start
	Start    clock.Time     // when the lease began (the DHCPREQUEST was sent)
}

// Lease returns the lease in force and true while Bound, Renewing or
// Rebinding.
func (c *Client) Lease() (Lease, bool) {
	switch c.state {
	case Bound, Renewing, Rebinding:
	default:
		return Lease{}, false
	}
	l := &c.lease
	out := Lease{
		Addr:   netip.PrefixFrom(netip.AddrFrom4(l.addr), maskBits(l.mask)),
		Server: netip.AddrFrom4(l.server),
		Start:  l.start,
	}
	if !l.gw.IsUnspecified() {
		out.Gateway = netip.AddrFrom4(l.gw)
	}
	for i := range l.numDNS {
		out.DNS[i] = netip.AddrFrom4(l.dns[i])
	}
	out.Duration, out.T1, out.T2 = secsDur(l.secs), secsDur(l.t1s), secsDur(l.t2s)
	return out, true
}

func secsDur(s uint32) clock.Duration {
	if s == Infinite {
		return clock.Duration(clock.Never)
	}
	return clock.Duration(s) * clock.Second
}

// maskBits returns the prefix length of a contiguous mask (the length of
// its leading ones otherwise).
func maskBits(m wire.IPv4Addr) int {
	v, n := m.Uint32(), 0
	for v&0x80000000 != 0 {
		v <<= 1
		n++
	}
	return n
}

// Start starts (or restarts) address acquisition: DHCPDISCOVER, or
// DHCPREQUEST for Config.RequestedAddr (INIT-REBOOT). A running client is
// stopped first, losing its address. It returns ErrMem when no UDP endpoint
// is free and ErrInUse when port 68 is taken on this interface. lwIP:
// dhcp_start.
func (c *Client) Start() error {
	c.Stop()
	u, err := c.s.NewUDP()
	if err != nil {
		return err
	}
	if err = u.BindNetif(c.n); err == nil {
		if err = u.Bind(netip.IPv4Unspecified(), ClientPort); err == nil {
			err = u.SetRecv(c.recv)
		}
	}
	if err != nil {
		u.Close()
		return err
	}
	c.u = u
	now := c.s.Now()
	if a := c.cfg.RequestedAddr; a.IsValid() {
		c.offered, c.server = a.As4(), wire.IPv4Addr{}
		c.newExchange(Rebooting, now)
		c.sendRequest(now)
		return nil
	}
	c.discover(now)
	return nil
}

// Stop stops the client without telling the server: the socket closes, the
// timers stop, and an address the client configured is removed (EventLost).
// lwIP: dhcp_stop.
func (c *Client) Stop() {
	if c.state == Off {
		return
	}
	c.u.Close()
	c.u = core.UDP{}
	c.s.ARPProbeStop(c.n)
	c.state, c.timer = Off, clock.Never
	c.gen++
	c.unconfigure()
}

// Release gives the lease back with DHCPRELEASE (unicast to the server,
// RFC 2131 §4.4.6) and stops the client. If the server's MAC address is not
// in the ARP cache, the client waits in RELEASING, keeping the address, until
// ARP resolves it or a second passes, so that the message is not dropped
// with the address; Stop or Start end the wait. lwIP: dhcp_release_and_stop.
func (c *Client) Release() error {
	var err error
	switch c.state {
	case Bound, Renewing, Rebinding:
		if c.lease.server.IsUnspecified() {
			break // no server to tell
		}
		c.xid = uint32(c.s.Rand())
		err = c.send(Release, c.lease.server, c.lease.addr, wire.IPv4Addr{}, c.lease.server, 0)
		if err == nil {
			c.stats.Releases++
			if _, ok := c.s.LookupARP(c.n, netip.AddrFrom4(c.arpTarget())); !ok {
				c.state, c.timer = Releasing, c.s.Now().Add(releaseWait)
				return nil
			}
		}
	}
	c.Stop()
	return err
}

// arpTarget is the next hop of unicasts to the server: the server, or the
// gateway when the server is off-link (behind a relay).
func (c *Client) arpTarget() wire.IPv4Addr {
	if c.lease.server.SameSubnet(c.lease.addr, c.lease.mask) || c.lease.gw.IsUnspecified() {
		return c.lease.server
	}
	return c.lease.gw
}

// Renew starts renewing the lease now, as if T1 had passed: DHCPREQUEST
// unicast to the server. It returns ErrVal when the client holds no lease.
// lwIP: dhcp_renew.
func (c *Client) Renew() error {
	switch c.state {
	case Bound, Renewing:
	default:
		return errs.ErrVal
	}
	now := c.s.Now()
	c.newExchange(Renewing, now)
	c.sendRequest(now)
	return nil
}

// newExchange enters state st with a fresh transaction ID (RFC 2131 §4.1:
// "xid ... chosen by the client"; RFC 5452-style unpredictability comes
// from the stack's seeded generator).
func (c *Client) newExchange(st State, now clock.Time) {
	c.state = st
	c.xid = uint32(c.s.Rand())
	c.tries = 0
	c.begin = now
}

// discover enters SELECTING and sends DHCPDISCOVER (RFC 2131 §4.4.1).
// lwIP: dhcp_discover.
func (c *Client) discover(now clock.Time) {
	c.s.ARPProbeStop(c.n)
	c.offered, c.server = wire.IPv4Addr{}, wire.IPv4Addr{}
	c.newExchange(Selecting, now)
	c.sendDiscover(now)
}

func (c *Client) sendDiscover(now clock.Time) {
	c.secs = elapsed(c.begin, now)
	if c.send(Discover, wire.IPv4Broadcast, wire.IPv4Addr{}, wire.IPv4Addr{}, wire.IPv4Addr{}, c.secs) != nil {
		c.timer = now.Add(sendRetry)
		return
	}
	c.stats.Discovers++
	c.tries++
	c.timer = now.Add(c.backoff())
}

// sendRequest sends the DHCPREQUEST of the current state (RFC 2131
// §4.3.2 and Table 5) and arms the retransmission timer.
func (c *Client) sendRequest(now clock.Time) {
	var err error
	switch c.state {
	case Requesting:
		// SELECTING: broadcast, ciaddr 0, requested IP and server ID, the
		// DISCOVER's secs.
		err = c.send(Request, wire.IPv4Broadcast, wire.IPv4Addr{}, c.offered, c.server, c.secs)
	case Rebooting:
		// INIT-REBOOT: broadcast, ciaddr 0, requested IP, no server ID.
		err = c.send(Request, wire.IPv4Broadcast, wire.IPv4Addr{}, c.offered, wire.IPv4Addr{}, elapsed(c.begin, now))
	case Renewing:
		// RENEWING: unicast to the server, ciaddr set, no requested IP or
		// server ID (broadcast if the server never named itself).
		dst := c.lease.server
		if dst.IsUnspecified() {
			dst = wire.IPv4Broadcast
		}
		err = c.send(Request, dst, c.lease.addr, wire.IPv4Addr{}, wire.IPv4Addr{}, elapsed(c.begin, now))
	case Rebinding:
		// REBINDING: as RENEWING but broadcast.
		err = c.send(Request, wire.IPv4Broadcast, c.lease.addr, wire.IPv4Addr{}, wire.IPv4Addr{}, elapsed(c.begin, now))
	}
	if err != nil {
		c.timer = now.Add(sendRetry)
		return
	}
	if c.tries == 0 {
		c.begin = now // the lease starts when the request is first sent (§4.4.1)
	}
	c.stats.Requests++
	c.tries++
	switch c.state {
	case Renewing:
		c.timer = now.Add(max(c.lease.t2.Sub(now)/2, renewRexmitMin))
	case Rebinding:
		c.timer = now.Add(max(c.lease.expire.Sub(now)/2, renewRexmitMin))
	default:
		c.timer = now.Add(c.backoff())
	}
}

// backoff returns the wait after transmission number c.tries (1-based):
// 4, 8, 16, 32, 64, 64, … seconds, each ±1 s uniformly (RFC 2131 §4.1).
func (c *Client) backoff() clock.Duration {
	d := rexmitMax
	if c.tries <= 5 {
		d = min(rexmitFirst<<(c.tries-1), rexmitMax)
	}
	jit := clock.Duration(c.s.Rand()%uint64(2*rexmitJit/clock.Millisecond+1))*clock.Millisecond - rexmitJit
	return d + jit
}

// elapsed returns the secs field: whole seconds since begin, saturated.
func elapsed(begin, now clock.Time) uint16 {
	return uint16(min(now.Sub(begin).Seconds(), 0xffff))
}

// send builds and sends one message to dst:67. reqIP and srvID are sent as
// options 50 and 54 when specified.
func (c *Client) send(typ MsgType, dst, ciaddr, reqIP, srvID wire.IPv4Addr, secs uint16) error {
	h := Header{Op: OpRequest, XID: c.xid, Secs: secs, CIAddr: ciaddr, CHAddr: c.n.MAC}
	if c.cfg.BroadcastFlag && ciaddr.IsUnspecified() && (typ == Discover || typ == Request) {
		h.Flags = FlagBroadcast
	}
	b := h.Encode(c.buf[:])
	b = AppendOptionByte(b, OptMsgType, uint8(typ))
	if !reqIP.IsUnspecified() {
		b = AppendOptionAddr(b, OptRequestedIP, reqIP)
	}
	if !srvID.IsUnspecified() {
		b = AppendOptionAddr(b, OptServerID, srvID)
	}
	if typ == Discover || typ == Request {
		b = AppendOptionUint16(b, OptMaxMsgSize, uint16(max(min(c.n.MTU, 1500), 576)))
		b = append(b, OptParamRequest, 5, OptSubnetMask, OptRouter, OptDNS, OptT1, OptT2)
		if h := c.cfg.Hostname; h != "" {
			b = append(b, OptHostname, uint8(len(h)))
			b = append(b, h...)
		}
	}
	b = AppendEnd(b, MinLen)
	err := c.u.SendTo(b, netip.AddrPortFrom(netip.AddrFrom4(dst), ServerPort))
	if err != nil {
		c.stats.SendErr++
		return err
	}
	c.stats.Xmit++
	if c.tries > 0 && (typ == Discover || typ == Request) {
		c.stats.Rexmits++
	}
	return nil
}

// PollTimers runs the client's due timers; Stack.Poll calls it (core.Poller).
// lwIP: dhcp_coarse_tmr and dhcp_fine_tmr.
func (c *Client) PollTimers(now clock.Time) {
	switch c.state {
	case Checking:
		if c.s.ARPConflict(c.n, netip.AddrFrom4(c.offered)) {
			c.decline(now)
			break
		}
		if now >= c.timer {
			if c.probe > 0 {
				c.sendProbe(now)
			} else {
				c.bind()
			}
		}
	case Selecting:
		if now >= c.timer {
			c.sendDiscover(now)
		}
	case Requesting, Rebooting:
		if now >= c.timer {
			limit := c.cfg.RequestTries
			if c.state == Rebooting {
				limit = c.cfg.RebootTries
			}
			if c.tries >= limit {
				c.discover(now) // RFC 2131 §3.1 step 5 / §3.2 step 5: start over
			} else {
				c.sendRequest(now)
			}
		}
	case BackingOff:
		if now >= c.timer {
			c.discover(now)
		}
	case Releasing:
		if _, ok := c.s.LookupARP(c.n, netip.AddrFrom4(c.arpTarget())); ok || now >= c.timer {
			c.Stop()
		}
	case Bound, Renewing, Rebinding:
		c.leaseTimers(now)
	}
}

// leaseTimers moves a held lease through T1, T2 and expiry (RFC 2131
// §4.4.5).
func (c *Client) leaseTimers(now clock.Time) {
	l := &c.lease
	switch {
	case now >= l.expire:
		// "If the lease expires before the client receives a DHCPACK, the
		// client moves to INIT state, MUST immediately stop any other network
		// processing and requests network initialization parameters".
		c.stats.Expired++
		c.restart(now)
	case now >= l.t2 && c.state != Rebinding:
		c.newExchange(Rebinding, now)
		c.sendRequest(now)
	case now >= l.t1 && c.state == Bound:
		c.newExchange(Renewing, now)
		c.sendRequest(now)
	case c.state != Bound && now >= c.timer:
		c.sendRequest(now)
	}
}

// restart drops the lease (EventLost if the address was configured) and
// starts over with DHCPDISCOVER, unless the event handler stopped or
// restarted the client meanwhile.
func (c *Client) restart(now clock.Time) {
	c.state = Selecting // no lease is held while the event runs
	g := c.gen
	c.unconfigure()
	if c.gen == g {
		c.discover(now)
	}
}

// NextDeadline returns the next time PollTimers has work (core.Poller).
func (c *Client) NextDeadline() clock.Time {
	switch c.state {
	case Off:
		return clock.Never
	case Bound:
		return clock.Min(c.lease.t1, clock.Min(c.lease.t2, c.lease.expire))
	case Renewing:
		return clock.Min(c.timer, clock.Min(c.lease.t2, c.lease.expire))
	case Rebinding:
		return clock.Min(c.timer, c.lease.expire)
	}
	return c.timer
}

// sendProbe sends one ARP probe for the acknowledged address.
func (c *Client) sendProbe(now clock.Time) {
	c.probe--
	if c.s.ARPProbe(c.n, netip.AddrFrom4(c.offered)) != nil {
		c.probe = 0 // the interface cannot probe: take the address
	}
	c.timer = now.Add(c.cfg.ARPProbeWait)
}

// decline refuses an address found in use: DHCPDECLINE (broadcast, RFC
// 2131 §4.4.1 and Table 5), then a wait before starting over.
// lwIP: dhcp_decline.
func (c *Client) decline(now clock.Time) {
	c.stats.Conflicts++
	c.s.ARPProbeStop(c.n)
	if c.send(Decline, wire.IPv4Broadcast, wire.IPv4Addr{}, c.offered, c.server, 0) == nil {
		c.stats.Declines++
	}
	c.state, c.timer = BackingOff, now.Add(declineWait)
	c.event(EventDeclined)
}

// bind configures the interface from c.lease and enters BOUND (RFC 2131
// §4.4.1). lwIP: dhcp_bind.
func (c *Client) bind() {
	c.s.ARPProbeStop(c.n)
	l := &c.lease
	c.state = Bound
	c.configured = true
	c.s.SetAddr(c.n, netip.PrefixFrom(netip.AddrFrom4(l.addr), maskBits(l.mask)), gwAddr(l.gw))
	c.setDNS()
	c.event(EventBound) // timers already due (a zero lease) run on the next Poll
}

func gwAddr(a wire.IPv4Addr) netip.Addr {
	if a.IsUnspecified() {
		return netip.Addr{}
	}
	return netip.AddrFrom4(a)
}

// unconfigure removes the address the client set, reporting EventLost.
func (c *Client) unconfigure() {
	if !c.configured {
		return
	}
	c.configured = false
	if c.n.Addr == c.lease.addr {
		c.s.SetAddr(c.n, netip.Prefix{}, netip.Addr{})
	}
	c.event(EventLost)
}

func (c *Client) setDNS() {
	if c.cfg.DNS == nil {
		return
	}
	for i := range c.lease.numDNS {
		c.cfg.DNS.SetServer(i, netip.AddrFrom4(c.lease.dns[i]))
	}
}

func (c *Client) event(ev Event) {
	if c.cfg.OnEvent != nil {
		c.cfg.OnEvent(c, ev)
	}
}

// input handles a datagram to port 68 on c's interface. It owns p.
// lwIP: dhcp_recv.
func (c *Client) input(u core.UDP, p *pbuf.Buf, src netip.AddrPort, dst netip.Addr) {
	st := &c.stats
	st.Recv++
	if u != c.u || c.state == Off {
		st.Unexpected++
		st.Drop++
		p.Free()
		return
	}
	if src.Port() != ServerPort {
		st.BadPort++
		st.Drop++
		p.Free()
		return
	}
	m, err := Parse(p.Bytes())
	if err != nil {
		if err == ErrTruncated {
			st.Truncated++
		} else {
			st.Malformed++
		}
		st.Drop++
		p.Free()
		return
	}
	var o Options
	if m.Op() != OpReply || m.HType() != HTypeEthernet || m.HLen() != 6 {
		st.Malformed++
	} else if m.XID() != c.xid {
		st.BadXID++
	} else if m.CHAddrMAC() != c.n.MAC {
		st.BadCHAddr++
	} else if m.ParseOptions(&o) != nil || !o.Has(OptMsgType) {
		st.Malformed++
	} else {
		ok := c.reply(m, &o)
		p.Free()
		if !ok {
			st.Drop++
		}
		return
	}
	st.Drop++
	p.Free()
}

// reply runs the state machine for a well-formed reply with our xid and
// chaddr. It reports false when the reply was unusable or unexpected (and
// counts why).
func (c *Client) reply(m Message, o *Options) bool {
	now := c.s.Now()
	switch o.Type {
	case Offer:
		if c.state != Selecting {
			break
		}
		return c.offer(m, o, now)
	case Ack:
		switch c.state {
		case Requesting, Rebooting, Renewing, Rebinding:
			return c.ack(m, o, now)
		}
	case Nak:
		switch c.state {
		case Requesting, Rebooting, Renewing, Rebinding:
			return c.nak(o, now)
		}
	}
	c.stats.Unexpected++
	return false
}

// usable reports whether a is an address a host may take: not 0, broadcast,
// multicast, loopback or class E.
func usable(a wire.IPv4Addr) bool {
	return !a.IsUnspecified() && !a.IsBroadcast() && !a.IsMulticast() && !a.IsLoopback() && !a.IsClassE()
}

// offer takes the first acceptable DHCPOFFER and requests it (RFC 2131
// §4.4.1: the client "MAY choose to collect several DHCPOFFER messages";
// lwIP takes the first). lwIP: dhcp_handle_offer.
func (c *Client) offer(m Message, o *Options, now clock.Time) bool {
	yi := m.YIAddr()
	// RFC 2131 Table 3: a DHCPOFFER MUST carry the server identifier.
	if !usable(yi) || !o.Has(OptServerID) || !usable(o.ServerID) {
		c.stats.BadContent++
		return false
	}
	c.stats.Offers++
	c.offered, c.server = yi, o.ServerID
	c.state, c.tries = Requesting, 0 // same xid and secs as the DISCOVER
	c.sendRequest(now)
	return true
}

// ack takes a DHCPACK (RFC 2131 §4.4.1, §4.4.5). lwIP: dhcp_handle_ack.
func (c *Client) ack(m Message, o *Options, now clock.Time) bool {
	yi := m.YIAddr()
	want := c.offered
	if c.state == Renewing || c.state == Rebinding {
		want = c.lease.addr
	}
	// The server must grant what was asked (a different address while
	// renewing would need a fresh probe), name itself (RFC 2131 Table 3:
	// "MUST" for DHCPACK) consistently with the offer we took, and give a
	// lease time (MUST in reply to DHCPREQUEST).
	switch {
	case yi != want,
		!o.Has(OptLeaseTime),
		o.Has(OptServerID) && !usable(o.ServerID),
		c.state == Requesting && o.Has(OptServerID) && o.ServerID != c.server,
		c.state == Renewing && o.Has(OptServerID) && o.ServerID != c.lease.server:
		c.stats.BadContent++
		return false
	}
	c.stats.Acks++
	l := leaseInfo{addr: yi, mask: o.SubnetMask, gw: o.Router, dns: o.DNS, numDNS: o.NumDNS, server: o.ServerID}
	if !o.Has(OptServerID) {
		l.server = c.server // RENEWING: the server we unicast to
		if l.server.IsUnspecified() {
			l.server = m.SIAddr()
		}
	}
	if !o.Has(OptSubnetMask) {
		l.mask = classMask(yi) // lwIP: the class default when the server sends none
	}
	l.setTimes(o, c.begin)
	renew := c.state == Renewing || c.state == Rebinding
	c.lease = l
	c.server = l.server
	if renew {
		// Same address: refresh the configuration in place.
		c.state = Bound
		if c.n.Addr == l.addr {
			c.s.SetAddr(c.n, netip.PrefixFrom(netip.AddrFrom4(l.addr), maskBits(l.mask)), gwAddr(l.gw))
		}
		c.setDNS()
		c.event(EventRenewed)
		return true
	}
	if c.cfg.NoARPCheck || c.n.Flags&netif.FlagARP == 0 {
		c.bind()
		return true
	}
	// RFC 2131 §4.4.1: "The client SHOULD perform a check on the suggested
	// address to ensure that the address is not already in use", with ARP
	// probes (RFC 5227 §2.1.1).
	c.offered = yi
	c.state, c.probe = Checking, c.cfg.ARPProbes
	c.sendProbe(now)
	return true
}

// setTimes computes T1, T2 and expiry from the options, relative to start.
// RFC 2131 §4.4.5: T1 defaults to 0.5 × lease and T2 to 0.875 × lease;
// values from the server are used when 0 < T1 < T2 < lease.
func (l *leaseInfo) setTimes(o *Options, start clock.Time) {
	l.start = start
	l.secs = o.LeaseTime
	if l.secs == Infinite {
		l.t1s, l.t2s = Infinite, Infinite
		l.t1, l.t2, l.expire = clock.Never, clock.Never, clock.Never
		return
	}
	t2 := uint32(uint64(l.secs) * 7 / 8)
	if o.Has(OptT2) && o.T2 <= l.secs {
		t2 = o.T2
	}
	t1 := l.secs / 2
	if o.Has(OptT1) && o.T1 <= t2 {
		t1 = o.T1
	}
	t1 = min(t1, t2)
	l.t1s, l.t2s = t1, t2
	l.t1 = start.Add(clock.Duration(t1) * clock.Second)
	l.t2 = start.Add(clock.Duration(t2) * clock.Second)
	l.expire = start.Add(clock.Duration(l.secs) * clock.Second)
}

// classMask returns the classful mask of a (RFC 791 classes).
func classMask(a wire.IPv4Addr) wire.IPv4Addr {
	switch {
	case a[0] < 128:
		return wire.IPv4Addr{255, 0, 0, 0}
	case a[0] < 192:
		return wire.IPv4Addr{255, 255, 0, 0}
	}
	return wire.IPv4Addr{255, 255, 255, 0}
}

// nak restarts configuration after a DHCPNAK (RFC 2131 §3.1 step 5, §3.2
// step 4, §4.4.5). lwIP: dhcp_handle_nak.
func (c *Client) nak(o *Options, now clock.Time) bool {
	// A NAK for an offer must come from the server we asked (RFC 2131
	// §4.3.2: servers not selected do not answer).
	if c.state == Requesting && o.Has(OptServerID) && o.ServerID != c.server {
		c.stats.BadContent++
		return false
	}
	c.stats.Naks++
	c.restart(now)
	return true
}

// Compile-time check that a Client is a core.Poller.
var _ core.Poller = (*Client)(nil)
