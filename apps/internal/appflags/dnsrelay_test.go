package appflags

import (
	"net/netip"
	"testing"
)

type recordSetter map[int]netip.Addr

func (r recordSetter) SetServer(i int, a netip.Addr) error { r[i] = a; return nil }

// A renewed lease's DNS servers reach the resolver attached after Open; before
// one is attached they go nowhere, without error.
func TestDNSRelayForwardsLeaseServersToTheAttachedResolver(t *testing.T) {
	var n Net
	if err := n.dns.SetServer(0, netip.MustParseAddr("198.18.0.1")); err != nil {
		t.Fatal(err)
	}
	got := recordSetter{}
	n.AttachDNS(got) // no DHCP client: nothing to copy yet
	if len(got) != 0 {
		t.Fatalf("servers before any lease: %v", got)
	}
	n.dns.SetServer(1, netip.MustParseAddr("198.18.0.53")) // what the DHCP client does on renewal
	if got[1] != netip.MustParseAddr("198.18.0.53") {
		t.Fatalf("renewal did not reach the resolver: %v", got)
	}
}
