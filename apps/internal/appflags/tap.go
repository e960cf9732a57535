//go:build linux

package appflags

import (
	"fmt"
	"net/netip"
	"os/exec"

	"github.com/lwgo/lwgo/netif"
	"github.com/lwgo/lwgo/platform/tap"
)

// openTAP creates the TAP interface name (with offload, in virtio-header
// mode with every offload), has it wake the loop and Idle, and with host
// valid gives the kernel's side that address and brings it up.
func (n *Net) openTAP(name string, host netip.Prefix, offload bool) (netif.Device, error) {
	cfg := tap.Config{Name: name}
	if offload {
		cfg.VnetHdr = true
		cfg.Offload = tap.OffloadCsum | tap.OffloadTSO4 | tap.OffloadTxTSO4
		cfg.GRO = true
	}
	d, err := tap.Open(cfg)
	if err != nil {
		return nil, err
	}
	n.closers = append(n.closers, d.Close)
	if err := d.Notify(fanWaker{n}); err != nil {
		return nil, err
	}
	n.notified = true
	if host.IsValid() {
		for _, args := range [][]string{
			{"addr", "add", host.String(), "dev", name},
			{"link", "set", name, "up"},
		} {
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				return nil, fmt.Errorf("ip %v: %v: %s", args, err, out)
			}
		}
	}
	return d, nil
}
