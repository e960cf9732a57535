package bench

import (
	"net"
	"testing"
)

// newLinuxPair is the kernel's TCP over loopback through Go's net package:
// 127.0.0.1 only, an ephemeral port, MTU 65536 with TSO (so not an MTU-1500
// comparison; see docs/PERFORMANCE.md).
func newLinuxPair(tb testing.TB) *netPair {
	tb.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		tb.Skipf("linux-lo: cannot listen on 127.0.0.1: %v", err)
	}
	addr := ln.Addr().String()
	return &netPair{
		ln:    ln,
		dial:  func() (net.Conn, error) { return net.Dial("tcp4", addr) },
		close: func() { ln.Close() },
	}
}
