package e1000_test

import (
	"bytes"
	"crypto/sha256"
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/drivers/e1000"
	"github.com/lwgo/lwgo/drivers/e1000/e1000model"
	"github.com/lwgo/lwgo/platform/dma/dmatest"
	"github.com/lwgo/lwgo/rawapi"
)

// node is one lwgo stack on one e1000 driver on one model NIC.
type node struct {
	model *e1000model.Model
	mem   *dmatest.Memory
	dev   *e1000.Device
	st    *rawapi.Stack
	nif   *rawapi.Netif
}

func newNode(t *testing.T, clk *clock.Manual, mac wire.MAC, addr string, seed uint64) *node {
	t.Helper()
	n := &node{mem: dmatest.New(4096, dmatest.Options{})}
	n.model = e1000model.New(n.mem, mac)
	dev, err := e1000.New(e1000.Config{Regs: n.model, PCI: n.model.Config(), DMA: n.mem, Clock: clk,
		RxRing: 128, TxRing: 128})
	if err != nil {
		t.Fatal(err)
	}
	n.dev = dev
	n.st = rawapi.New(rawapi.Config{Seed: seed})
	n.nif, err = n.st.AddNetif(dev, rawapi.NetifConfig{Addr: netip.MustParsePrefix(addr)})
	if err != nil {
		t.Fatal(err)
	}
	n.st.SetUp(n.nif)
	return n
}

// TestBackToBackStacks joins two model NICs with a virtual cable and runs
// two lwgo stacks over the e1000 driver: ping both ways, then 4 MiB over TCP
// with a SHA-256 check, in virtual time.
func TestBackToBackStacks(t *testing.T) {
	clk := &clock.Manual{}
	a := newNode(t, clk, wire.MAC{0x52, 0x54, 0, 0, 0, 0xa}, "192.0.2.1/24", 1)
	b := newNode(t, clk, wire.MAC{0x52, 0x54, 0, 0, 0, 0xb}, "192.0.2.2/24", 2)
	a.model.OnTransmit = func(f []byte) { b.model.Inject(f) }
	b.model.OnTransmit = func(f []byte) { a.model.Inject(f) }
	step := func() {
		clk.Advance(50 * clock.Microsecond)
		a.st.Poll(clk.Now())
		b.st.Poll(clk.Now())
	}
	run := func(d clock.Duration, done func() bool) {
		end := clk.Now().Add(d)
		for clk.Now() < end && !done() {
			step()
		}
	}

	// Ping A → B.
	replies := 0
	p, err := a.st.NewPing(func(rawapi.Ping, netip.Addr, uint16, uint8, []byte) { replies++ })
	if err != nil {
		t.Fatal(err)
	}
	for seq := range 3 {
		if err := p.Send(netip.MustParseAddr("192.0.2.2"), uint16(seq), bytes.Repeat([]byte{byte(seq)}, 1000)); err != nil {
			t.Fatal(err)
		}
		run(clock.Second, func() bool { return replies > seq })
	}
	if replies != 3 {
		t.Fatalf("%d echo replies of 3", replies)
	}
	p.Close()

	// TCP: B sends size bytes to A.
	const size = 4 << 20
	src := make([]byte, size)
	for i := range src {
		src[i] = byte(i*7 + i>>11)
	}
	want := sha256.Sum256(src)
	rxHash := sha256.New()
	var rcvd int
	eof := false
	lc, err := a.st.NewTCP()
	if err != nil {
		t.Fatal(err)
	}
	if err := lc.Bind(netip.Addr{}, 5001); err != nil {
		t.Fatal(err)
	}
	ln, err := lc.Listen(4)
	if err != nil {
		t.Fatal(err)
	}
	ln.SetAcceptor(rawapi.AcceptFunc(func(l rawapi.TCPListener, c rawapi.TCP, err error) error {
		if err != nil {
			return err
		}
		return c.SetHandler(&rawapi.Funcs{
			OnRecv: func(c rawapi.TCP, p *rawapi.Buf, err error) error {
				if p == nil {
					eof = true
					c.Close()
					return nil
				}
				rxHash.Write(p.Bytes())
				rcvd += p.Len()
				c.Recved(p.Len())
				p.Free()
				return nil
			},
		})
	}))
	c, err := b.st.NewTCP()
	if err != nil {
		t.Fatal(err)
	}
	sent := 0
	pump := func(c rawapi.TCP) {
		for sent < size {
			n := min(c.SendBuffer(), size-sent, 16384)
			if n <= 0 {
				break
			}
			if err := c.Write(src[sent:sent+n], 0); err != nil {
				t.Fatalf("Write: %v", err)
			}
			sent += n
		}
		if sent == size {
			c.CloseWrite()
		}
		c.Output()
	}
	closedB := false
	if err := c.SetHandler(&rawapi.Funcs{
		OnConnected: func(c rawapi.TCP, err error) error { pump(c); return nil },
		OnSent:      func(c rawapi.TCP, n int) error { pump(c); return nil },
		OnRecv: func(c rawapi.TCP, p *rawapi.Buf, err error) error {
			if p == nil {
				closedB = true
				c.Close()
				return nil
			}
			p.Free()
			return nil
		},
	}); err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(netip.MustParseAddrPort("192.0.2.1:5001")); err != nil {
		t.Fatal(err)
	}
	start := clk.Now()
	run(120*clock.Second, func() bool { return eof && closedB })
	if !eof || rcvd != size {
		t.Fatalf("received %d of %d bytes, eof=%v; A %+v; B %+v", rcvd, size, eof, a.dev.Stats(), b.dev.Stats())
	}
	if got := rxHash.Sum(nil); !bytes.Equal(got, want[:]) {
		t.Fatal("SHA-256 mismatch")
	}
	el := clk.Now().Sub(start)
	t.Logf("4 MiB in %d ms virtual (%d polls of each stack); A: rx %d frames, tx %d (copied %d)", el/clock.Millisecond, int64(el/(50*clock.Microsecond)), a.dev.Stats().RxFrames, a.dev.Stats().TxFrames, a.dev.Stats().TxCopied)
	for _, n := range []*node{a, b} {
		s := n.dev.Stats()
		if s.RxBadLength+s.RxBadStatus+s.RxErrors+s.TxStalls != 0 {
			t.Errorf("device errors: %+v", s)
		}
		if n.mem.Faults() != 0 {
			t.Errorf("DMA faults: %d", n.mem.Faults())
		}
		if c := n.model.Counters(); c.ICRReads != 0 {
			t.Errorf("ICR read %d times", c.ICRReads)
		}
	}
}
