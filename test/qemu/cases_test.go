//go:build qemu

package qemu

import (
	"testing"
	"time"
)

// TestPingGateway: lwgo on QEMU's hermetic user network pings the gateway.
// core/dhcp is not committed yet, so the guest takes slirp's usual lease,
// 10.0.2.15/24 via 10.0.2.2, statically. DMA memory: 4 KiB pages, each
// translated through pagemap.
func TestPingGateway(t *testing.T) {
	setup(t)
	r := Boot{
		Name:    "ping",
		Append:  "lwgo.case=ping lwgo.ip=10.0.2.15/24 lwgo.gw=10.0.2.2 lwgo.timeout=30",
		Netdev:  "user,id=n0,restrict=on",
		Timeout: 90 * time.Second,
		Pcap:    true,
	}.Run(t)
	if !r.Pass {
		t.Fatalf("guest verdict: FAIL (QEMU exit %d)", r.RC)
	}
	for _, want := range []string{"kernel driver \"\"", "echo reply from 10.0.2.2 seq=3"} {
		if r.Find(want) == "" {
			t.Errorf("console lacks %q", want)
		}
	}
}
