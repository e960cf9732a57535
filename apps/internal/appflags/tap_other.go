//go:build !linux

package appflags

import (
	"errors"
	"net/netip"

	"github.com/lwgo/lwgo/netif"
)

// openTAP: TAP devices are Linux only.
func (n *Net) openTAP(name string, host netip.Prefix, offload bool) (netif.Device, error) {
	return nil, errors.New("-tap: TAP devices are supported on Linux only")
}
