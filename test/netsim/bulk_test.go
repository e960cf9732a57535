package netsim

import (
	"fmt"
	"testing"
	"time"

	"github.com/lwgo/lwgo/rawapi"
)

// bulkSize is the size of a bulk transfer: 64 MiB, or 4 MiB with -short or
// under the race detector.
func bulkSize() int64 {
	if heavy() {
		return 64 << 20
	}
	return 4 << 20
}

// bulkStack is the stack configuration of the bulk tests: default TCP
// (256 KiB windows and send buffers, window scaling, timestamps, SACK),
// with a pool that holds both directions' windows.
func bulkStack() rawapi.Config { return rawapi.Config{PoolBufs: 1024} }

// bulk runs one connection from A to B that moves up bytes A→B and down
// bytes B→A at once, checks both directions end to end (byte for byte and
// SHA-256 at each end) and the virtual time against bound, and returns the
// two ends and the virtual time the connection took.
func bulk(t *testing.T, s *sim, up, down int64, bound rawapi.Duration) (cli, srv *peer, took rawapi.Duration) {
	t.Helper()
	cli = s.newPeer("client", flow{send: up, recv: down, sendSeed: 1, recvSeed: 2})
	srv = s.newPeer("server", flow{send: down, recv: up, sendSeed: 2, recvSeed: 1})
	s.listen(4, func(c rawapi.TCP) *peer { return srv })
	s.dial(cli)
	s.run("bulk transfer", bound+rawapi.Second, func() bool { return cli.finished() && srv.finished() })
	took = checkPair(t, cli, srv, bound)
	t.Logf("%d B up, %d B down: %v virtual; client %s", up, down, time.Duration(took), infoLine(cli.info))
	return cli, srv, took
}

// infoLine is the negotiated part of a TCPInfo.
func infoLine(in rawapi.TCPInfo) string {
	return fmt.Sprintf("mss=%d wscale=%d/%d ts=%v sack=%v", in.SndMSS, in.SndWScale, in.RcvWScale, in.Timestamps, in.SACK)
}

// checkNegotiated checks that the handshake agreed on the options lwgo
// offers by default on both sides: MSS 1460, window scaling (a 256 KiB
// window needs a shift of 3: 262144>>2 is 65536, one more than the 16-bit
// field holds), timestamps and SACK (RFC 7323, RFC 2018).
func checkNegotiated(t *testing.T, p *peer) {
	t.Helper()
	in := p.info
	if in.SndMSS != 1460 || in.SndWScale != 3 || in.RcvWScale != 3 || !in.Timestamps || !in.SACK {
		t.Errorf("%s negotiated %s (%+v), want mss=1460 wscale=3/3 ts=true sack=true", p.name, infoLine(in), in)
	}
}

// The virtual-time bounds of the clean bulk cases. On the bare wire (10 µs
// one way, no bandwidth limit) a 256 KiB window moves about 25 GB per
// virtual second, so the transfers take milliseconds: 64 MiB took 5 ms up
// or down and 10 ms both ways at once when measured; the bounds leave
// tenfold room and still catch any retransmission timeout (200 ms at least).
const (
	bulkBound     = 100 * rawapi.Millisecond
	bulkBothBound = 150 * rawapi.Millisecond
)

// TestBulkHeavy64MiBUpload: 64 MiB from client to server on a clean wire
// arrive exactly (SHA-256 at both ends) with no retransmission, and both
// stacks get every buffer and connection slot back after TIME-WAIT.
func TestBulkHeavy64MiBUpload(t *testing.T) {
	s := newSim(t, simConfig{stack: bulkStack()})
	cli, srv, _ := bulk(t, s, bulkSize(), 0, bulkBound)
	checkNegotiated(t, cli)
	checkNegotiated(t, srv)
	s.checkClean()
	s.finish()
}

// TestBulkHeavy64MiBDownload: 64 MiB from server to client.
func TestBulkHeavy64MiBDownload(t *testing.T) {
	s := newSim(t, simConfig{stack: bulkStack()})
	bulk(t, s, 0, bulkSize(), bulkBound)
	s.checkClean()
	s.finish()
}

// TestBulkHeavy64MiBBothWaysOneConnection: 64 MiB each way at once on one
// connection; data and ACKs share segments.
func TestBulkHeavy64MiBBothWaysOneConnection(t *testing.T) {
	s := newSim(t, simConfig{stack: bulkStack()})
	n := bulkSize()
	bulk(t, s, n, n, bulkBothBound)
	s.checkClean()
	s.finish()
}
