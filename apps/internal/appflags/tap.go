package appflags

import (
	"errors"
	"net/netip"

	"github.com/lwgo/lwgo/netif"
)

// ErrNoTAP: this build has no TAP support.
var ErrNoTAP = errors.New("-tap: not available in this build (platform/tap is not in the tree yet)")

// openTAP would create the TAP interface; platform/tap is not part of this
// build yet.
func (n *Net) openTAP(name string, host netip.Prefix) (netif.Device, error) {
	return nil, ErrNoTAP
}
