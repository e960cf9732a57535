//go:build !linux

package appflags

import (
	"errors"

	"github.com/lwgo/lwgo/netif"
	"github.com/lwgo/lwgo/rawapi"
)

// openE1000: the userspace e1000 driver needs Linux's sysfs and pagemap.
func (n *Net) openE1000(addr string, cfg *rawapi.Config) (netif.Device, error) {
	return nil, errors.New("-e1000: supported on Linux only")
}
