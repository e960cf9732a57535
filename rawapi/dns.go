package rawapi

import "github.com/lwgo/lwgo/core/dns"

// DNS: lwIP's dns_* API. See core/dns for the protocol details.
type (
	// DNS is a stub resolver for A records (lwIP dns.c).
	DNS = dns.Resolver
	// DNSConfig sizes a resolver (servers, cache, queries in flight, host
	// table, timeouts).
	DNSConfig = dns.Config
	// DNSFoundFunc receives a lookup's result (dns_found_callback).
	DNSFoundFunc = dns.FoundFunc
	// DNSStats are a resolver's counters.
	DNSStats = dns.Stats
)

// Lookup results besides nil and ErrTimeout; they are Err values.
const (
	// ErrNotFound: NXDOMAIN, no A record, or an unfinished CNAME chain
	// (the value of ErrVal).
	ErrNotFound = dns.ErrNotFound
	// ErrTruncated: the server set TC; there is no TCP fallback (the value
	// of ErrBuf).
	ErrTruncated = dns.ErrTruncated
)

// NewDNS allocates a resolver and registers it with the stack.
// lwIP: dns_init.
func NewDNS(s *Stack, cfg DNSConfig) (*DNS, error) { return dns.New(s, cfg) }
