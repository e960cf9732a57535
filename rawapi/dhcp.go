package rawapi

import (
	"github.com/lwgo/lwgo/core"
	"github.com/lwgo/lwgo/core/dhcp"
)

// DHCP: lwIP's dhcp_* API. See core/dhcp for the protocol details.
type (
	// DHCP is a DHCP client for one interface (lwIP struct dhcp).
	DHCP = dhcp.Client
	// DHCPConfig configures a client: hostname, broadcast flag, ARP check,
	// INIT-REBOOT address, event callback, DNS hand-over.
	DHCPConfig = dhcp.Config
	// DHCPState is a client state (DHCP_STATE_*).
	DHCPState = dhcp.State
	// DHCPEvent is what DHCPConfig.OnEvent receives.
	DHCPEvent = dhcp.Event
	// DHCPEventFunc receives a client's events.
	DHCPEventFunc = dhcp.EventFunc
	// DHCPLease is the configuration a server granted.
	DHCPLease = dhcp.Lease
	// DHCPStats are a client's counters.
	DHCPStats = dhcp.Stats
	// DNSSetter receives the DNS servers of a lease; a *DNS is one.
	DNSSetter = dhcp.DNSSetter
	// Poller is a protocol client run from Stack.Poll (Stack.AddPoller).
	Poller = core.Poller
)

// DHCP client states.
const (
	DHCPOff        = dhcp.Off
	DHCPSelecting  = dhcp.Selecting
	DHCPRequesting = dhcp.Requesting
	DHCPChecking   = dhcp.Checking
	DHCPBound      = dhcp.Bound
	DHCPRenewing   = dhcp.Renewing
	DHCPRebinding  = dhcp.Rebinding
	DHCPRebooting  = dhcp.Rebooting
	DHCPBackingOff = dhcp.BackingOff
	DHCPReleasing  = dhcp.Releasing
)

// DHCP events.
const (
	DHCPEventBound    = dhcp.EventBound
	DHCPEventRenewed  = dhcp.EventRenewed
	DHCPEventLost     = dhcp.EventLost
	DHCPEventDeclined = dhcp.EventDeclined
)

// NewDHCP allocates a DHCP client for interface n and registers it with
// the stack; Start begins acquisition. lwIP: dhcp_set_struct + dhcp_start.
func NewDHCP(s *Stack, n *Netif, cfg DHCPConfig) (*DHCP, error) { return dhcp.New(s, n, cfg) }
