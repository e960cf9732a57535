package core

// Loopback to our own addresses, the Stats text, and the Poll contract.

import (
	"bytes"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

// Pinging our own address never touches the wire: the request is delivered
// on the next Poll, and the reply on the one after.
func TestLoopbackPingOwnAddress(t *testing.T) {
	r := newRig(t, Config{})
	type reply struct {
		from netip.Addr
		seq  uint16
		data []byte
	}
	var got []reply
	p, err := r.s.NewPing(func(p Ping, from netip.Addr, seq uint16, ttl uint8, data []byte) {
		got = append(got, reply{from, seq, bytes.Clone(data)})
	})
	if err != nil {
		t.Fatal(err)
	}
	own := netip.AddrFrom4(rigIP)
	if err := p.Send(own, 5, []byte("self")); err != nil {
		t.Fatal(err)
	}
	r.expectNone()
	if len(got) != 0 {
		t.Fatalf("delivered inside Send")
	}
	if next := r.poll(); next != r.now() {
		t.Fatalf("Poll with the reply queued returned %v, want now (%v)", next, r.now())
	}
	if len(got) != 0 {
		t.Fatalf("reply after one Poll: the request should take one Poll and the reply another")
	}
	r.poll()
	if len(got) != 1 || got[0].from != own || got[0].seq != 5 || string(got[0].data) != "self" {
		t.Fatalf("replies %+v", got)
	}
	if st := r.s.Stats(); st.ICMPEx.EchoReplies != 1 {
		t.Fatalf("echoreplies=%d", st.ICMPEx.EchoReplies)
	}
	r.expectNone()

	// A payload larger than a buffer is fragmented through the loop and
	// reassembled.
	big := pattern(5000, 9)
	if err := p.Send(own, 6, big); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		r.poll()
	}
	if len(got) != 2 || !bytes.Equal(got[1].data, big) {
		t.Fatalf("large self-ping: %d replies", len(got))
	}
	r.expectNone()
	r.checkNoLeak()
}

func TestLoopbackUDPOwnAddress(t *testing.T) {
	r := newRig(t, Config{})
	_, got := r.bindRecorder(netip.Addr{}, 7)
	u, _ := r.bindRecorder(netip.Addr{}, 0)
	if err := u.SendTo([]byte("to me"), netip.MustParseAddrPort("10.0.0.1:7")); err != nil {
		t.Fatal(err)
	}
	r.poll()
	if len(*got) != 1 || string((*got)[0].data) != "to me" || (*got)[0].src != netip.AddrPortFrom(netip.AddrFrom4(rigIP), u.LocalAddr().Port()) ||
		(*got)[0].dst != netip.AddrFrom4(rigIP) {
		t.Fatalf("loop UDP: %+v (sender %v)", *got, u.LocalAddr())
	}
	// To a closed own port: the port unreachable loops back too, to SetErr.
	var nerr int
	u.SetErr(func(UDP, netip.AddrPort, wire.ICMPv4Type, uint8) { nerr++ })
	u.SendTo([]byte("nobody"), netip.MustParseAddrPort("10.0.0.1:9"))
	r.poll()
	r.poll()
	if nerr != 1 {
		t.Fatalf("own port unreachable: %d errors", nerr)
	}
	r.expectNone()
	r.checkNoLeak()
	// The loop queue is bounded.
	for range r.s.cfg.LoopQueueLen {
		if err := u.SendTo([]byte("x"), netip.MustParseAddrPort("10.0.0.1:7")); err != nil {
			t.Fatal(err)
		}
	}
	if err := u.SendTo([]byte("x"), netip.MustParseAddrPort("10.0.0.1:7")); err == nil {
		t.Fatalf("loop queue beyond LoopQueueLen accepted")
	}
	r.poll()
	if len(*got) != 1+r.s.cfg.LoopQueueLen {
		t.Fatalf("delivered %d", len(*got))
	}
	r.checkNoLeak()
}

// Every counter appears in Stats.String: each uint64 field gets a distinct
// value that must show up as "=value".
func TestStatsStringHasEveryCounter(t *testing.T) {
	var st Stats
	var names []string
	next := uint64(1000)
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.Struct:
			for i := range v.NumField() {
				walk(v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		case reflect.Uint64:
			v.SetUint(next)
			names = append(names, path)
			next++
		default:
			t.Fatalf("%s: unexpected kind %v", path, v.Kind())
		}
	}
	walk(reflect.ValueOf(&st).Elem(), "Stats")
	out := st.String()
	for i, name := range names {
		if !strings.Contains(out, "="+strconv.Itoa(1000+i)) {
			t.Errorf("%s missing from Stats.String()", name)
		}
	}
	for _, sect := range []string{"link:", "etharp:", "ip_frag:", "ip:", "icmp:", "udp:", "ip_drop:", "arp_ex:", "icmp_ex:", "pool:"} {
		if !strings.Contains(out, sect) {
			t.Errorf("section %q missing", sect)
		}
	}
	if len(names) < 60 {
		t.Fatalf("only %d counters found: the walk is broken", len(names))
	}
	// AppendTo into a large enough buffer does not allocate.
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { buf = st.AppendTo(buf[:0]) }); n != 0 {
		t.Fatalf("AppendTo allocates %v times", n)
	}
}

// Stack.Stats reports pool exhaustion.
func TestStatsPoolOut(t *testing.T) {
	r := newRig(t, Config{PoolBufs: 4})
	r.learn(peerMAC, peerIP)
	var held []*pbuf.Buf
	for {
		b, err := r.s.Pool().Alloc(pbuf.LayerTransport, 10)
		if err != nil {
			break
		}
		held = append(held, b)
	}
	u, _ := r.bindRecorder(netip.Addr{}, 1000)
	if err := u.SendTo([]byte("x"), peerPort9); err == nil {
		t.Fatalf("SendTo with an empty pool succeeded")
	}
	r.inject(echoFrame(rigIP, 1, 1, nil)) // the device cannot even receive it
	if st := r.s.Stats(); st.PoolOut < 2 {
		t.Fatalf("poolout=%d", st.PoolOut)
	}
	for _, b := range held {
		b.Free()
	}
	r.dev.sent = nil
	r.checkNoLeak()
}

func TestPollFromCallbackPanics(t *testing.T) {
	r := newRig(t, Config{})
	u, _ := r.s.NewUDP()
	u.Bind(netip.Addr{}, 7)
	var recovered any
	u.SetRecv(func(u UDP, p *pbuf.Buf, src netip.AddrPort, dst netip.Addr) {
		p.Free()
		defer func() { recovered = recover() }()
		r.s.Poll(r.now())
	})
	r.inject(udpFrame(rigIP, 1, 7, []byte("x")))
	if recovered == nil {
		t.Fatalf("Poll inside a callback did not panic")
	}
	// The stack still works afterwards.
	r.inject(udpFrame(rigIP, 1, 7, []byte("y")))
}

// Poll's deadline: Never when idle, the next tick while a timer has work.
func TestPollDeadline(t *testing.T) {
	r := newRig(t, Config{})
	if d := r.poll(); d != clock.Never {
		t.Fatalf("idle deadline %v", d)
	}
	u, _ := r.bindRecorder(netip.Addr{}, 1000)
	u.SendTo([]byte("x"), peerPort9) // pending ARP
	if d := r.poll(); d == clock.Never || d <= r.now() || d > r.now().Add(clock.Second) {
		t.Fatalf("deadline %v with an ARP resolution pending at %v", d, r.now())
	}
}
