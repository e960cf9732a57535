//go:build !linux

package appflags

import (
	"errors"

	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/netif"
)

// openE1000: the userspace e1000 driver needs Linux's sysfs and pagemap.
func (n *Net) openE1000(addr string, poolBufs int) (netif.Device, *pbuf.Pool, error) {
	return nil, nil, errors.New("-e1000: supported on Linux only")
}
