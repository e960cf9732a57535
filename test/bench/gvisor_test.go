package bench

import (
	"context"
	"net"
	"sync"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// The gVisor pair: two stacks, each with one IP-only link/channel NIC
// (queue of 4096 packets), joined by one pump goroutine per direction that
// reads a packet from one channel and injects it into the other stack, like
// a NIC or TAP driver loop (anchors.md P1a "chan"). No Ethernet, no ARP.
const (
	gvNIC     = tcpip.NICID(1)
	gvQueue   = 4096
	gvPort    = 5001
	gvSndMax  = 4 << 20 // send buffer max, as runsc
	gvRcvMax  = 6 << 20 // receive buffer max, as runsc
	gvPrefix  = 24
	gvVersion = "gvisor.dev/gvisor v0.0.0-20260905035102-160fafc42237"
)

var (
	gvAddrA = tcpip.AddrFrom4([4]byte{198, 18, 0, 1})
	gvAddrB = tcpip.AddrFrom4([4]byte{198, 18, 0, 2})
)

// newGvisorStack builds one stack with runsc's TCP options: SACK on,
// receive-buffer moderation on, buffers up to 4 MiB (send) and 6 MiB
// (receive) from gVisor's 1 MiB defaults. Nagle is off (gVisor's default).
func newGvisorStack(tb testing.TB, addr tcpip.Address, mtu int) (*stack.Stack, *channel.Endpoint) {
	tb.Helper()
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol},
	})
	sack := tcpip.TCPSACKEnabled(true)
	moderate := tcpip.TCPModerateReceiveBufferOption(true)
	snd := tcpip.TCPSendBufferSizeRangeOption{Min: tcp.MinBufferSize, Default: tcp.DefaultSendBufferSize, Max: gvSndMax}
	rcv := tcpip.TCPReceiveBufferSizeRangeOption{Min: tcp.MinBufferSize, Default: tcp.DefaultReceiveBufferSize, Max: gvRcvMax}
	for _, o := range []tcpip.SettableTransportProtocolOption{&sack, &moderate, &snd, &rcv} {
		if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, o); err != nil {
			tb.Fatalf("gVisor SetTransportProtocolOption(%T): %v", o, err)
		}
	}
	ch := channel.New(gvQueue, uint32(mtu), "")
	if err := s.CreateNIC(gvNIC, ch); err != nil {
		tb.Fatalf("gVisor CreateNIC: %v", err)
	}
	pa := tcpip.ProtocolAddress{
		Protocol:          ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: addr, PrefixLen: gvPrefix},
	}
	if err := s.AddProtocolAddress(gvNIC, pa, stack.AddressProperties{}); err != nil {
		tb.Fatalf("gVisor AddProtocolAddress: %v", err)
	}
	s.SetRouteTable([]tcpip.Route{{Destination: pa.AddressWithPrefix.Subnet(), NIC: gvNIC}})
	return s, ch
}

// pump moves packets written to from into to's stack until ctx ends.
func pump(ctx context.Context, from, to *channel.Endpoint) {
	for {
		pkt := from.ReadContext(ctx)
		if pkt == nil {
			return
		}
		np := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: pkt.ToBuffer()})
		pkt.DecRef()
		to.InjectInbound(ipv4.ProtocolNumber, np)
		np.DecRef()
	}
}

// newGvisorPair builds two stacks joined by pumps, with a listener on B.
func newGvisorPair(tb testing.TB, mtu int) *netPair {
	tb.Helper()
	sa, cha := newGvisorStack(tb, gvAddrA, mtu)
	sb, chb := newGvisorStack(tb, gvAddrB, mtu)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { pump(ctx, cha, chb) })
	wg.Go(func() { pump(ctx, chb, cha) })
	ln, err := gonet.ListenTCP(sb, tcpip.FullAddress{NIC: gvNIC, Addr: gvAddrB, Port: gvPort}, ipv4.ProtocolNumber)
	if err != nil {
		tb.Fatalf("gVisor ListenTCP: %v", err)
	}
	var once sync.Once
	return &netPair{
		ln: ln,
		dial: func() (net.Conn, error) {
			return gonet.DialTCP(sa, tcpip.FullAddress{NIC: gvNIC, Addr: gvAddrB, Port: gvPort}, ipv4.ProtocolNumber)
		},
		close: func() {
			once.Do(func() {
				ln.Close()
				cancel()
				wg.Wait()
				for _, x := range []struct {
					s  *stack.Stack
					ch *channel.Endpoint
				}{{sa, cha}, {sb, chb}} {
					x.ch.Close()
					x.s.Close()
					x.s.Wait()
				}
			})
		},
	}
}
