package rawapi_test

// Regression tests for two core/tcp bugs the sequential API ran into, fixed
// in core/tcp by 47095c7 and ccb8dab.

import (
	"net/netip"
	"testing"

	"github.com/lwgo/lwgo/rawapi"
)

// TestCoreTimeWaitKeepsRefusedDataAndFIN: an application half-closes
// (CloseWrite), refuses data for a while (returns ErrMem from Recv, lwIP's
// refused data), and the peer sends data and its FIN. Entering TIME-WAIT must
// not throw the refused data away: the data and then end of stream must
// still be delivered (or at least Handler.Err must run). core/tcp's
// afterInput used to call twEnter after a deliver that stopped at refused
// data, releasing the connection silently: the data and the FIN were lost
// and the handle went stale without any callback.
func TestCoreTimeWaitKeepsRefusedDataAndFIN(t *testing.T) {
	w := newSeqWorld(t, seqWorldConfig{})
	data := pattern(3000)
	listenB(t, w.b, 19, func() rawapi.TCPHandler { return &sourceB{data: data} })
	refuse := true
	var got int
	var eof bool
	var errSeen error
	h := &rawapi.Funcs{
		OnRecv: func(c rawapi.TCP, p *rawapi.Buf, err error) error {
			if p == nil {
				eof = true
				return nil
			}
			if refuse {
				return rawapi.ErrMem
			}
			got += p.Len()
			c.Recved(p.Len())
			p.Free()
			return nil
		},
		OnErr: func(c rawapi.TCP, err error) { errSeen = err },
	}
	c, err := w.a.NewTCP()
	if err != nil {
		t.Fatal(err)
	}
	c.SetHandler(h)
	if err := c.Connect(netip.AddrPortFrom(seqAddrB, 19)); err != nil {
		t.Fatal(err)
	}
	run := func(d rawapi.Duration) {
		for end := w.clk.Now().Add(d); w.clk.Now() < end; w.clk.Advance(rawapi.Millisecond) {
			w.a.Poll(w.clk.Now())
			w.b.Poll(w.clk.Now())
		}
	}
	run(100 * rawapi.Millisecond)
	c.Write([]byte{0}, 0) // start the source
	c.CloseWrite()        // and half-close: our FIN goes with it
	run(2 * rawapi.Second)
	refuse = false
	run(2 * rawapi.Second)
	if got != len(data) || (!eof && errSeen == nil) {
		t.Fatalf("after TIME-WAIT: %d of %d bytes delivered, EOF %v, Err %v; handle valid %v",
			got, len(data), eof, errSeen, c.IsValid())
	}
}

// TestCoreAbortDuringZeroWindowResetsThePeer: a sender whose peer has closed
// its window (it reads nothing) probes the window (persist) and then aborts.
// Its RST must be acceptable to the peer (RFC 5961 §3.2: SEG.SEQ = RCV.NXT,
// or within the window): Linux sends it at min(SND.NXT, SND.UNA+SND.WND)
// (tcp_acceptable_seq). core/tcp used to send it at SND.NXT, which after a
// window probe is one past the peer's RCV.NXT with a zero window, so the
// peer (lwgo or Linux) dropped it and kept the dead connection forever.
func TestCoreAbortDuringZeroWindowResetsThePeer(t *testing.T) {
	w := newSeqWorld(t, seqWorldConfig{tcp: rawapi.TCPConfig{RcvBuf: 16 << 10, SndBuf: 64 << 10}})
	var server rawapi.TCP
	listenB(t, w.b, 80, func() rawapi.TCPHandler {
		return &rawapi.Funcs{
			OnRecv: func(c rawapi.TCP, p *rawapi.Buf, err error) error {
				if p != nil {
					c.Recved(p.Len())
					p.Free()
				}
				server = c
				return nil
			},
		}
	})
	var clientErr error
	client, _ := w.a.NewTCP()
	client.SetHandler(&rawapi.Funcs{
		OnRecv: func(c rawapi.TCP, p *rawapi.Buf, err error) error { return rawapi.ErrMem }, // reads nothing
		OnErr:  func(c rawapi.TCP, err error) { clientErr = err },
	})
	client.Connect(netip.AddrPortFrom(seqAddrB, 80))
	run := func(d rawapi.Duration) {
		for end := w.clk.Now().Add(d); w.clk.Now() < end; w.clk.Advance(rawapi.Millisecond) {
			w.a.Poll(w.clk.Now())
			w.b.Poll(w.clk.Now())
		}
	}
	run(100 * rawapi.Millisecond)
	client.Write([]byte("go"), 0)
	client.Output()
	run(100 * rawapi.Millisecond)
	if !server.IsValid() {
		t.Fatal("no server connection")
	}
	data := pattern(64 << 10)
	for i := 0; i < 50; i++ { // fill the peer's window and our buffer
		if n := min(server.SendBuffer(), len(data)); n > 0 {
			server.Write(data[:n], 0)
			server.Output()
		}
		run(100 * rawapi.Millisecond)
	}
	run(5 * rawapi.Second) // persist probes
	server.Abort()
	run(rawapi.Second)
	if clientErr != rawapi.ErrReset {
		t.Fatalf("the peer's connection after our abort: err %v, state %v; want ErrReset", clientErr, client.State())
	}
}
