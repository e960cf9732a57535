package admin

import (
	"errors"
	"net/netip"
	"strings"

	"github.com/lwgo/lwgo/netif"
	"github.com/lwgo/lwgo/rawapi"
)

// Status is what the page and GET /api/status show.
type Status struct {
	Hostname   string          `json:"hostname"`
	Uptime     float64         `json:"uptime_seconds"`
	Interfaces []IfStatus      `json:"interfaces"`
	DHCP       *DHCPStatus     `json:"dhcp,omitempty"`
	DNS        []netip.Addr    `json:"dns"`
	Services   []ServiceStatus `json:"services"`
	// Connections are the TCP connections of this server and of the
	// services that list theirs.
	Connections []ConnStatus     `json:"connections"`
	Stack       rawapi.Stats     `json:"stack"`
	TCP         rawapi.TCPStats  `json:"tcp"`
	Pool        PoolStatus       `json:"pool"`
	Server      ServerStats      `json:"server"`
	Config      ConfigFileStatus `json:"config_file"`
	LastApply   string           `json:"last_apply_error,omitempty"`
}

// IfStatus is one interface.
type IfStatus struct {
	Name     string         `json:"name"`
	MAC      string         `json:"mac"`
	MTU      int            `json:"mtu"`
	Up       bool           `json:"up"`
	LinkUp   bool           `json:"link_up"`
	Address  netip.Prefix   `json:"address"`
	Gateway  netip.Addr     `json:"gateway"`
	Counters netif.Counters `json:"counters"`
}

// DHCPStatus is the DHCP client's state and lease.
type DHCPStatus struct {
	State      string       `json:"state"`
	Address    netip.Prefix `json:"address"`
	Gateway    netip.Addr   `json:"gateway"`
	DNS        []netip.Addr `json:"dns"`
	Server     netip.Addr   `json:"server"`
	LeaseSecs  float64      `json:"lease_seconds"`
	RenewSecs  float64      `json:"renew_in_seconds"`  // until T1
	RebindSecs float64      `json:"rebind_in_seconds"` // until T2
	LeftSecs   float64      `json:"expires_in_seconds"`
}

// ServiceStatus is one service of the appliance.
type ServiceStatus struct {
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
	Running bool   `json:"running"`
	Port    uint16 `json:"port,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// ConnStatus is one TCP connection (rawapi.TCPInfo, flattened).
type ConnStatus struct {
	Service     string  `json:"service"`
	Local       string  `json:"local"`
	Remote      string  `json:"remote"`
	State       string  `json:"state"`
	SRTTms      float64 `json:"srtt_ms"`
	RTOms       float64 `json:"rto_ms"`
	Cwnd        uint32  `json:"cwnd"`
	SndWnd      uint32  `json:"snd_wnd"`
	InFlight    uint32  `json:"in_flight"`
	Queued      int     `json:"queued"`
	Retransmits int     `json:"retransmits"`
}

// PoolStatus is the packet-buffer pool's use.
type PoolStatus struct {
	Free int `json:"free"`
	Cap  int `json:"cap"`
}

// ConfigFileStatus says where settings persist.
type ConfigFileStatus struct {
	Path  string `json:"path,omitempty"` // "" without -config
	Saved bool   `json:"saved"`          // the last change reached the file
	Error string `json:"error,omitempty"`
}

// ConnInfo makes a ConnStatus from a connection.
func ConnInfo(service string, c rawapi.TCP) ConnStatus {
	in := c.Info()
	ms := func(d rawapi.Duration) float64 { return float64(d) / float64(rawapi.Millisecond) }
	return ConnStatus{Service: service, Local: c.LocalAddr().String(), Remote: c.RemoteAddr().String(),
		State: in.State.String(), SRTTms: ms(in.SRTT), RTOms: ms(in.RTO), Cwnd: in.Cwnd, SndWnd: in.SndWnd,
		InFlight: in.InFlight, Queued: in.Queued, Retransmits: in.Retransmits}
}

// System is what the configuration server configures: it reports status
// and applies validated settings. Its methods run on the stack's goroutine.
type System interface {
	// Status adds what the system knows to st.
	Status(st *Status)
	// Check judges what only the system can (a service's resources);
	// it adds problems to fe.
	Check(s *Settings, fe FieldErrors)
	// Apply puts s into effect, except the network settings.
	Apply(old, s Settings) error
	// ApplyNetwork changes the address, DHCP and DNS. The server calls it
	// once the response to the change has left, since the change may cut
	// the client off.
	ApplyNetwork(old, s Settings) error
}

// AppService is a service of the appliance that the settings turn on and
// off (tftpd, iperf, …), run on the same stack.
type AppService interface {
	// Name is the service's name in the status ("tftpd").
	Name() string
	// Apply starts, stops or reconfigures the service for s.
	Apply(s Settings) error
	// Status reports the service, and its connections into conns.
	Status(conns []ConnStatus) (ServiceStatus, []ConnStatus)
}

// ServiceChecker is an AppService that judges settings before they are
// applied (a missing directory, a feature not built in): it adds its
// problems to fe.
type ServiceChecker interface {
	Check(s *Settings, fe FieldErrors)
}

// StackService is an AppService that runs on the stack: Start hands it
// the stack and its interface before the first Apply.
type StackService interface {
	Attach(s *rawapi.Stack, n *rawapi.Netif)
}

// StackSystem is the System of an lwgo stack with one interface: it
// applies the network settings with Stack.SetAddr, a DHCP client and a
// DNS resolver, and the rest through its AppServices.
type StackSystem struct {
	Stack    *rawapi.Stack
	Netif    *rawapi.Netif
	DHCP     *rawapi.DHCP // nil until DHCP is first wanted
	DNS      *rawapi.DNS  // nil: DNS settings are only recorded
	Services []AppService
	hostname string
}

// Status implements System.
func (y *StackSystem) Status(st *Status) {
	s := y.Stack
	for _, n := range s.Netifs() {
		st.Interfaces = append(st.Interfaces, IfStatus{
			Name: n.Name, MAC: n.MAC.String(), MTU: n.MTU, Up: n.Flags&netif.FlagUp != 0,
			LinkUp: n.Flags&netif.FlagLinkUp != 0, Address: prefixOf(&n), Gateway: addrOrZero(n.Gateway),
			Counters: n.Stats,
		})
	}
	if d := y.DHCP; d != nil && d.State() != rawapi.DHCPOff {
		ds := &DHCPStatus{State: d.State().String()}
		if l, ok := d.Lease(); ok {
			now := s.Now()
			secs := func(d rawapi.Duration) float64 { return float64(d) / float64(rawapi.Second) }
			ds.Address, ds.Gateway, ds.Server = l.Addr, l.Gateway, l.Server
			for _, a := range l.DNS {
				if a.IsValid() {
					ds.DNS = append(ds.DNS, a)
				}
			}
			ds.LeaseSecs = secs(l.Duration)
			ds.RenewSecs = max(secs(l.Start.Add(l.T1).Sub(now)), 0)
			ds.RebindSecs = max(secs(l.Start.Add(l.T2).Sub(now)), 0)
			ds.LeftSecs = max(secs(l.Start.Add(l.Duration).Sub(now)), 0)
		}
		st.DHCP = ds
	}
	if y.DNS != nil {
		for i := range MaxDNS {
			if a := y.DNS.Server(i); a.IsValid() {
				st.DNS = append(st.DNS, a)
			}
		}
	}
	st.Stack, st.TCP = s.Stats(), s.TCPStats()
	st.Pool = PoolStatus{Free: s.Pool().Available(), Cap: s.Pool().Cap()}
	for _, sv := range y.Services {
		var ss ServiceStatus
		ss, st.Connections = sv.Status(st.Connections)
		st.Services = append(st.Services, ss)
	}
}

func prefixOf(n *netif.Netif) netip.Prefix {
	if n.Addr == ([4]byte{}) {
		return netip.Prefix{}
	}
	ones := 0
	for _, b := range n.Mask {
		for ; b&0x80 != 0; b <<= 1 {
			ones++
		}
	}
	return netip.PrefixFrom(netip.AddrFrom4([4]byte(n.Addr)), ones)
}

func addrOrZero(a [4]byte) netip.Addr {
	if a == ([4]byte{}) {
		return netip.Addr{}
	}
	return netip.AddrFrom4(a)
}

// Check implements System: the services that judge settings do.
func (y *StackSystem) Check(s *Settings, fe FieldErrors) {
	for _, sv := range y.Services {
		if c, ok := sv.(ServiceChecker); ok {
			c.Check(s, fe)
		}
	}
}

// Apply implements System.
func (y *StackSystem) Apply(old, s Settings) error {
	y.hostname = s.Hostname
	var errs []string
	for _, sv := range y.Services {
		if err := sv.Apply(s); err != nil {
			errs = append(errs, sv.Name()+": "+err.Error())
		}
	}
	if errs != nil {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// ApplyNetwork implements System: DHCP on (a client starts, the static
// address goes), DHCP off (the lease is released, the static address
// set), a new static address or gateway, new DNS servers.
func (y *StackSystem) ApplyNetwork(old, s Settings) error {
	n := &s.Network
	switch {
	case n.DHCP && (!old.Network.DHCP || y.DHCP == nil || y.DHCP.State() == rawapi.DHCPOff):
		if y.DHCP != nil {
			y.DHCP.Close()
		}
		y.Stack.SetAddr(y.Netif, netip.Prefix{}, netip.Addr{})
		cfg := rawapi.DHCPConfig{Hostname: s.Hostname}
		if y.DNS != nil && len(n.DNS) == 0 {
			cfg.DNS = y.DNS
		}
		d, err := rawapi.NewDHCP(y.Stack, y.Netif, cfg)
		if err != nil {
			return err
		}
		y.DHCP = d
		if err := d.Start(); err != nil {
			return err
		}
	case !n.DHCP:
		if y.DHCP != nil && y.DHCP.State() != rawapi.DHCPOff {
			y.DHCP.Release()
		}
		if err := y.Stack.SetAddr(y.Netif, n.Address, n.Gateway); err != nil {
			return err
		}
	}
	if y.DNS != nil {
		lease := n.DHCP && len(n.DNS) == 0
		for i := range MaxDNS {
			var a netip.Addr
			if i < len(n.DNS) {
				a = n.DNS[i]
			} else if lease && y.DHCP != nil {
				if l, ok := y.DHCP.Lease(); ok {
					a = l.DNS[i]
				}
			}
			y.DNS.SetServer(i, a)
		}
	}
	return nil
}
