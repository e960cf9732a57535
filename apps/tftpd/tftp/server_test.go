package tftp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lwgo/lwgo/apps/internal/apptest"
	"github.com/lwgo/lwgo/netif/fault"
	"github.com/lwgo/lwgo/rawapi"
)

// rig is a tftpd on stack A and TFTP clients on stack B.
type rig struct {
	w   *apptest.World
	srv *Server
	dir string
	log bytes.Buffer
}

func newRig(t *testing.T, cfg Config, o apptest.Options) *rig {
	t.Helper()
	r := &rig{w: apptest.New(t, o), dir: t.TempDir()}
	cfg.Root = filepath.Join(r.dir, "root")
	if err := os.Mkdir(cfg.Root, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg.Log = &r.log
	var err error
	if r.srv, err = NewServer(r.w.A, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.srv.Close)
	return r
}

func (r *rig) file(t *testing.T, name string, data []byte) {
	t.Helper()
	p := filepath.Join(r.srv.cfg.Root, name)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) pollA(now rawapi.Time) {
	r.srv.Poll(now)
	r.w.A.Poll(now)
}

// run runs until every client is done, failing after limit.
func (r *rig) run(t *testing.T, limit rawapi.Duration, cs ...*client) {
	t.Helper()
	ok := r.w.Run(limit, r.pollA, func() bool {
		for _, c := range cs {
			if !c.done {
				return false
			}
		}
		return true
	})
	if !ok {
		for i, c := range cs {
			if !c.done {
				t.Fatalf("client %d (%s) not done after %d s: block %d, %d bytes\nlog:\n%s", i, c.name, limit.Seconds(), c.block, len(c.got), r.log.String())
			}
		}
	}
}

// settle lets transfers finish dallying and checks that nothing is left.
func (r *rig) settle(t *testing.T) {
	t.Helper()
	r.w.Run(30*rawapi.Second, r.pollA, func() bool { return r.srv.Active() == 0 })
	if n := r.srv.Active(); n != 0 {
		t.Fatalf("%d transfers still active", n)
	}
	r.w.Run(rawapi.Second, r.pollA, nil)
	r.w.CheckPools(t)
}

func pattern(n, seed int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*13 + seed + i>>9)
	}
	return b
}

// client is a TFTP client on stack B (raw UDP), retransmitting on timeout.
type client struct {
	t      *testing.T
	u      rawapi.UDP
	srv    netip.AddrPort // the request port, then the server's TID
	tid    bool           // srv is the TID
	name   string
	write  bool
	mode   string
	opts   []string // name, value, ...
	data   []byte   // WRQ: what to send, in wire form
	dupAck bool     // send every ACK twice

	blk      int
	block    uint16 // RRQ: last block received; WRQ: last block sent
	off      int    // WRQ: bytes of data sent
	got      []byte // RRQ: payloads, in wire form
	oack     map[string]string
	dataSeen map[uint16]int // DATA packets received per block number
	errCode  int            // -1: none
	errMsg   string
	done     bool
	last     []byte // last packet sent
	due      rawapi.Time
	tries    int
	now      func() rawapi.Time
}

func (r *rig) start(t *testing.T, c *client) *client {
	t.Helper()
	c.t, c.errCode, c.blk = t, -1, 512
	c.dataSeen = map[uint16]int{}
	c.now = r.w.Clk.Now
	if c.mode == "" {
		c.mode = "octet"
	}
	u, err := r.w.B.NewUDP()
	if err != nil {
		t.Fatal(err)
	}
	u.Bind(netip.Addr{}, 0)
	u.SetRecv(c.input)
	c.u = u
	c.srv = netip.AddrPortFrom(apptest.AddrA, r.srv.cfg.Port)
	op := uint16(opRRQ)
	if c.write {
		op = opWRQ
	}
	p := binary.BigEndian.AppendUint16(nil, op)
	p = append(append(p, c.name...), 0)
	p = append(append(p, c.mode...), 0)
	for _, o := range c.opts {
		p = append(append(p, o...), 0)
	}
	c.send(p)
	r.w.OnIdle = append(r.w.OnIdle, c.timer)
	return c
}

func (c *client) send(p []byte) {
	c.last = append(c.last[:0], p...)
	c.u.SendTo(c.last, c.srv)
	c.due = c.now().Add(500 * rawapi.Millisecond)
	c.tries = 0
}

func (c *client) timer() {
	if c.done || c.now() < c.due {
		return
	}
	if c.tries++; c.tries > 20 {
		c.finish()
		c.errMsg = "client gave up"
		return
	}
	c.u.SendTo(c.last, c.srv)
	c.due = c.now().Add(500 * rawapi.Millisecond)
}

func (c *client) finish() {
	c.done = true
	c.u.Close()
}

func (c *client) ack(block uint16) {
	p := appendACK(nil, block)
	c.send(p)
	if c.dupAck {
		c.u.SendTo(p, c.srv)
	}
}

func (c *client) sendData() {
	n := min(c.blk, len(c.data)-c.off)
	c.block++
	p := binary.BigEndian.AppendUint16(nil, opDATA)
	p = binary.BigEndian.AppendUint16(p, c.block)
	c.send(append(p, c.data[c.off:c.off+n]...))
	c.off += n
}

func (c *client) input(u rawapi.UDP, p *rawapi.Buf, src netip.AddrPort, _ netip.Addr) {
	defer p.Free()
	b := p.Bytes()
	if c.done || len(b) < 2 {
		return
	}
	if !c.tid {
		if src.Addr() != c.srv.Addr() || src.Port() == c.srv.Port() && binary.BigEndian.Uint16(b) != opERROR {
			return
		}
		c.srv, c.tid = src, true
	} else if src != c.srv {
		return
	}
	switch op := binary.BigEndian.Uint16(b); op {
	case opERROR:
		c.errCode = int(binary.BigEndian.Uint16(b[2:]))
		c.errMsg = string(bytes.TrimRight(b[4:], "\x00"))
		c.finish()
	case opOACK:
		c.oack = map[string]string{}
		f := bytes.Split(bytes.TrimSuffix(b[2:], []byte{0}), []byte{0})
		for i := 0; i+1 < len(f); i += 2 {
			c.oack[string(f[i])] = string(f[i+1])
		}
		if v, ok := c.oack["blksize"]; ok {
			fmt.Sscan(v, &c.blk)
		}
		if c.write {
			c.sendData()
		} else {
			c.ack(0)
		}
	case opDATA:
		block := binary.BigEndian.Uint16(b[2:])
		c.dataSeen[block]++
		switch block {
		case c.block + 1:
			c.block = block
			c.got = append(c.got, b[4:]...)
			c.ack(block)
			if len(b)-4 < c.blk {
				c.finish() // a lost last ACK makes the server time out; fine
			}
		case c.block:
			c.ack(block) // a retransmission: our ACK was lost
		}
	case opACK:
		block := binary.BigEndian.Uint16(b[2:])
		if !c.write || block != c.block {
			return // duplicate: never answer (no Sorcerer's Apprentice here either)
		}
		if c.off == len(c.data) && (c.block > 0 || len(c.data) == 0) && (c.off%c.blk != 0 || c.lastSentShort()) {
			c.finish()
			return
		}
		c.sendData()
	}
}

// lastSentShort reports whether the last DATA sent was shorter than a block
// (the end of the transfer).
func (c *client) lastSentShort() bool { return len(c.last)-4 < c.blk }

func TestReadOctet(t *testing.T) {
	r := newRig(t, Config{}, apptest.Options{})
	small, exact := pattern(2000, 1), pattern(1024, 2)
	r.file(t, "small.bin", small)
	r.file(t, "sub/exact.bin", exact)
	r.file(t, "empty", nil)
	c1 := r.start(t, &client{name: "small.bin"})
	c2 := r.start(t, &client{name: "sub/exact.bin"})
	c3 := r.start(t, &client{name: "empty"})
	r.run(t, 30*rawapi.Second, c1, c2, c3)
	for _, c := range []*client{c1, c2, c3} {
		if c.errCode >= 0 || c.oack != nil {
			t.Fatalf("%s: error %d %q, oack %v", c.name, c.errCode, c.errMsg, c.oack)
		}
	}
	if !bytes.Equal(c1.got, small) || c1.block != 4 {
		t.Fatalf("small: %d bytes in %d blocks", len(c1.got), c1.block)
	}
	// A multiple of the block size ends with an empty block (RFC 1350 §6).
	if !bytes.Equal(c2.got, exact) || c2.block != 3 {
		t.Fatalf("exact: %d bytes in %d blocks, want 1024 in 3", len(c2.got), c2.block)
	}
	if len(c3.got) != 0 || c3.block != 1 {
		t.Fatalf("empty: %d bytes in %d blocks", len(c3.got), c3.block)
	}
	r.settle(t)
	if r.srv.Stats.Completed != 3 || r.srv.Stats.BytesRead != 3024 {
		t.Fatalf("stats %+v", r.srv.Stats)
	}
}

func TestReadOptions(t *testing.T) {
	data := pattern(10_000, 3)
	for _, tc := range []struct {
		name  string
		opts  []string
		oack  map[string]string // nil: no OACK
		blk   int
		check func(t *testing.T, r *rig)
	}{
		{"blksize", []string{"blksize", "1024"}, map[string]string{"blksize": "1024"}, 1024, nil},
		{"blksize-capped-by-mtu", []string{"BLKSIZE", "65464"}, map[string]string{"blksize": "1468"}, 1468, nil},
		{"blksize-min", []string{"blksize", "8"}, map[string]string{"blksize": "8"}, 8, nil},
		{"blksize-too-small-ignored", []string{"blksize", "7"}, nil, 512, nil},
		{"blksize-garbage-ignored", []string{"blksize", "x"}, nil, 512, nil},
		{"tsize", []string{"tsize", "0"}, map[string]string{"tsize": "10000"}, 512, nil},
		{"timeout", []string{"timeout", "3"}, map[string]string{"timeout": "3"}, 512, nil},
		{"timeout-out-of-range-ignored", []string{"timeout", "256"}, nil, 512, nil},
		{"unknown-ignored", []string{"foo", "1", "tsize", "0"}, map[string]string{"tsize": "10000"}, 512, nil},
		{"all", []string{"blksize", "1400", "tsize", "0", "timeout", "2"},
			map[string]string{"blksize": "1400", "tsize": "10000", "timeout": "2"}, 1400, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, Config{}, apptest.Options{})
			r.file(t, "f", data)
			c := r.start(t, &client{name: "f", opts: tc.opts})
			r.run(t, 30*rawapi.Second, c)
			if c.errCode >= 0 {
				t.Fatalf("error %d %q", c.errCode, c.errMsg)
			}
			if fmt.Sprint(c.oack) != fmt.Sprint(tc.oack) {
				t.Fatalf("OACK %v, want %v", c.oack, tc.oack)
			}
			if !bytes.Equal(c.got, data) {
				t.Fatalf("got %d bytes", len(c.got))
			}
			if want := len(data)/tc.blk + 1; int(c.block) != want {
				t.Fatalf("%d blocks, want %d of %d bytes", c.block, want, tc.blk)
			}
			r.settle(t)
		})
	}
}

func TestTimeoutOptionSetsTheRetransmissionInterval(t *testing.T) {
	r := newRig(t, Config{}, apptest.Options{})
	r.file(t, "f", pattern(100, 1))
	c := r.start(t, &client{name: "f", opts: []string{"timeout", "3"}})
	// Let the OACK arrive, then make the client mute: the server must
	// retransmit the OACK every 3 s, Retries times, then give up.
	r.w.Run(rawapi.Second, r.pollA, func() bool { return c.oack != nil })
	if c.oack == nil {
		t.Fatal("no OACK")
	}
	c.finish()
	start := r.w.Clk.Now()
	r.w.Run(60*rawapi.Second, r.pollA, func() bool { return r.srv.Active() == 0 })
	d := r.w.Clk.Now().Sub(start)
	if r.srv.Stats.Retransmits != 5 || r.srv.Stats.Failed != 1 || d < 17*rawapi.Second || d > 19*rawapi.Second {
		t.Fatalf("after %d ms: %+v; want 5 retransmits 3 s apart, then failure at 18 s", d.Milliseconds(), r.srv.Stats)
	}
	r.settle(t)
}

func TestNetascii(t *testing.T) {
	// A LF at the very end of a block (blksize 8) splits its CR LF.
	text := []byte("abcdefg\nline two\r\nbare\rcr\n\n")
	wire := []byte("abcdefg\r\nline two\r\x00\r\nbare\r\x00cr\r\n\r\n")
	r := newRig(t, Config{Write: true}, apptest.Options{})
	r.file(t, "t.txt", text)
	c := r.start(t, &client{name: "t.txt", mode: "NetASCII", opts: []string{"blksize", "8", "tsize", "0"}})
	r.run(t, 30*rawapi.Second, c)
	if !bytes.Equal(c.got, wire) {
		t.Fatalf("netascii read:\n got %q\nwant %q", c.got, wire)
	}
	if c.oack["tsize"] != fmt.Sprint(len(wire)) {
		t.Fatalf("tsize %q, want the netascii size %d", c.oack["tsize"], len(wire))
	}
	// And back: the upload decodes to the original text.
	up := r.start(t, &client{name: "up.txt", write: true, mode: "netascii", data: wire, opts: []string{"blksize", "8"}})
	r.run(t, 30*rawapi.Second, up)
	if up.errCode >= 0 {
		t.Fatalf("upload: error %d %q", up.errCode, up.errMsg)
	}
	r.settle(t)
	got, err := os.ReadFile(filepath.Join(r.srv.cfg.Root, "up.txt"))
	if err != nil || !bytes.Equal(got, text) {
		t.Fatalf("netascii write stored %q (%v), want %q", got, err, text)
	}
}

func TestWrite(t *testing.T) {
	r := newRig(t, Config{Write: true}, apptest.Options{})
	d1, d2, d3 := pattern(5000, 4), pattern(3*1400, 5), pattern(700, 6)
	c1 := r.start(t, &client{name: "a.bin", write: true, data: d1})
	c2 := r.start(t, &client{name: "b.bin", write: true, data: d2, opts: []string{"blksize", "1400", "tsize", "4200"}})
	c3 := r.start(t, &client{name: "c.bin", write: true, data: d3, opts: []string{"timeout", "2"}})
	r.run(t, 30*rawapi.Second, c1, c2, c3)
	if fmt.Sprint(c2.oack) != "map[blksize:1400 tsize:4200]" || fmt.Sprint(c3.oack) != "map[timeout:2]" || c1.oack != nil {
		t.Fatalf("OACKs %v %v %v", c1.oack, c2.oack, c3.oack)
	}
	r.settle(t)
	for _, f := range []struct {
		name string
		data []byte
	}{{"a.bin", d1}, {"b.bin", d2}, {"c.bin", d3}} {
		got, err := os.ReadFile(filepath.Join(r.srv.cfg.Root, f.name))
		if err != nil || !bytes.Equal(got, f.data) {
			t.Fatalf("%s: %d bytes stored (%v), want %d", f.name, len(got), err, len(f.data))
		}
	}
	// An existing file is not overwritten.
	c4 := r.start(t, &client{name: "a.bin", write: true, data: []byte("x")})
	r.run(t, 10*rawapi.Second, c4)
	if c4.errCode != errExists {
		t.Fatalf("overwrite: error %d %q, want 6", c4.errCode, c4.errMsg)
	}
	r.settle(t)
}

func TestWriteDisabled(t *testing.T) {
	r := newRig(t, Config{}, apptest.Options{})
	c := r.start(t, &client{name: "new", write: true, data: []byte("x")})
	r.run(t, 10*rawapi.Second, c)
	if c.errCode != errAccess {
		t.Fatalf("error %d %q, want 2", c.errCode, c.errMsg)
	}
	if _, err := os.Stat(filepath.Join(r.srv.cfg.Root, "new")); err == nil {
		t.Fatal("the file was created")
	}
	r.settle(t)
}

func TestErrors(t *testing.T) {
	r := newRig(t, Config{}, apptest.Options{})
	outside := filepath.Join(r.dir, "secret")
	os.WriteFile(outside, []byte("secret"), 0o644)
	r.file(t, "sub/ok", []byte("ok"))
	os.Symlink(outside, filepath.Join(r.srv.cfg.Root, "escape"))
	os.Symlink("../../secret", filepath.Join(r.srv.cfg.Root, "sub", "escape2"))
	os.Symlink("ok", filepath.Join(r.srv.cfg.Root, "sub", "inside")) // allowed
	for _, tc := range []struct {
		name, mode string
		code       int // -1: success
	}{
		{"nosuchfile", "octet", errNotFound},
		{"sub/nosuchfile", "octet", errNotFound},
		{"../secret", "octet", errAccess},
		{"sub/../../secret", "octet", errAccess},
		{"/etc/passwd", "octet", errAccess},
		{outside, "octet", errAccess},
		{"escape", "octet", errAccess},
		{"sub/escape2", "octet", errAccess},
		{"sub\\..\\..\\secret", "octet", errAccess},
		{"sub", "octet", errAccess}, // a directory
		{".", "octet", errAccess},
		{"sub/ok", "mail", errIllegal},
		{"sub/ok", "binary", errIllegal},
		{"sub/./ok", "octet", -1},
		{"sub//inside", "octet", -1},
	} {
		t.Run(strings.ReplaceAll(tc.name, "/", "_"), func(t *testing.T) {
			c := r.start(t, &client{name: tc.name, mode: tc.mode})
			r.run(t, 10*rawapi.Second, c)
			if c.errCode != tc.code {
				t.Fatalf("error %d %q, want %d", c.errCode, c.errMsg, tc.code)
			}
			if tc.code < 0 && string(c.got) != "ok" {
				t.Fatalf("got %q", c.got)
			}
			if bytes.Contains(c.got, []byte("secret")) {
				t.Fatal("served a file outside the root")
			}
		})
	}
	// Malformed requests on the request port.
	u, _ := r.w.B.NewUDP()
	u.Bind(netip.Addr{}, 0)
	var replies [][]byte
	u.SetRecv(func(u rawapi.UDP, p *rawapi.Buf, src netip.AddrPort, dst netip.Addr) {
		replies = append(replies, append([]byte(nil), p.Bytes()...))
		p.Free()
	})
	dst := netip.AddrPortFrom(apptest.AddrA, 69)
	for _, p := range [][]byte{
		{0, 1, 'f', 0, 'o', 'c', 't', 'e', 't'},            // not NUL-terminated
		{0, 1, 0, 'o', 'c', 't', 'e', 't', 0},              // empty name
		{0, 1, 'f', 0, 'o', 'c', 't', 'e', 't', 0, 'x', 0}, // option without value
		{0, 9, 'f', 0}, // not a request: unknown opcode
		{0},            // runt
	} {
		u.SendTo(p, dst)
		r.w.Run(100*rawapi.Millisecond, r.pollA, nil)
	}
	if len(replies) != 4 {
		t.Fatalf("%d replies to 5 malformed requests, want 4 errors (none for the runt)", len(replies))
	}
	for _, p := range replies {
		if binary.BigEndian.Uint16(p) != opERROR {
			t.Fatalf("reply %x is not an error", p)
		}
	}
	u.Close()
	r.settle(t)
}

func TestLossyWire(t *testing.T) {
	lossy := fault.Config{DropRate: 0.15, DuplicateRate: 0.05, ReorderRate: 0.05}
	ab, ba := lossy, lossy
	ab.Seed, ba.Seed = 7, 8
	r := newRig(t, Config{Write: true, Retries: 10}, apptest.Options{FaultAB: ab, FaultBA: ba})
	down, up := pattern(150_000, 7), pattern(60_000, 8)
	r.file(t, "down", down)
	c1 := r.start(t, &client{name: "down", opts: []string{"blksize", "1024"}})
	c2 := r.start(t, &client{name: "up", write: true, data: up})
	r.run(t, 600*rawapi.Second, c1, c2)
	if c1.errCode >= 0 || c2.errCode >= 0 || !bytes.Equal(c1.got, down) {
		t.Fatalf("errors %d %q, %d %q; got %d bytes", c1.errCode, c1.errMsg, c2.errCode, c2.errMsg, len(c1.got))
	}
	r.settle(t)
	got, _ := os.ReadFile(filepath.Join(r.srv.cfg.Root, "up"))
	if !bytes.Equal(got, up) {
		t.Fatalf("upload stored %d bytes, want %d", len(got), len(up))
	}
	if r.srv.Stats.Retransmits == 0 || r.srv.Stats.Failed != 0 {
		t.Fatalf("stats %+v: want retransmissions and no failure", r.srv.Stats)
	}
}

// TestDuplicateACKsDoNotDuplicateData: the Sorcerer's Apprentice. A client
// that acknowledges every block twice must still get every block once.
func TestDuplicateACKsDoNotDuplicateData(t *testing.T) {
	r := newRig(t, Config{}, apptest.Options{})
	data := pattern(50_000, 9)
	r.file(t, "f", data)
	c := r.start(t, &client{name: "f", dupAck: true})
	r.run(t, 30*rawapi.Second, c)
	if !bytes.Equal(c.got, data) {
		t.Fatalf("got %d bytes", len(c.got))
	}
	for block, n := range c.dataSeen {
		if n != 1 {
			t.Fatalf("block %d sent %d times", block, n)
		}
	}
	if r.srv.Stats.DupAcks < uint64(c.block)-1 || r.srv.Stats.Retransmits != 0 {
		t.Fatalf("stats %+v", r.srv.Stats)
	}
	r.settle(t)
}

func TestUnknownTIDGetsAnErrorAndTheTransferGoesOn(t *testing.T) {
	r := newRig(t, Config{}, apptest.Options{})
	data := pattern(20_000, 10)
	r.file(t, "f", data)
	c := r.start(t, &client{name: "f"})
	r.w.Run(rawapi.Second, r.pollA, func() bool { return c.tid })
	intruder, _ := r.w.B.NewUDP()
	intruder.Bind(netip.Addr{}, 0)
	var reply []byte
	intruder.SetRecv(func(u rawapi.UDP, p *rawapi.Buf, src netip.AddrPort, dst netip.Addr) {
		reply = append([]byte(nil), p.Bytes()...)
		p.Free()
	})
	intruder.SendTo(appendACK(nil, 1), c.srv)
	r.run(t, 30*rawapi.Second, c)
	if len(reply) < 4 || binary.BigEndian.Uint16(reply) != opERROR || binary.BigEndian.Uint16(reply[2:]) != errUnknownTID {
		t.Fatalf("intruder got %x, want ERROR 5", reply)
	}
	if !bytes.Equal(c.got, data) || r.srv.Stats.UnknownTID != 1 {
		t.Fatalf("transfer: %d bytes; stats %+v", len(c.got), r.srv.Stats)
	}
	intruder.Close()
	r.settle(t)
}

func TestTransferLimitAndConcurrency(t *testing.T) {
	r := newRig(t, Config{MaxTransfers: 6}, apptest.Options{})
	var cs []*client
	for i := range 7 {
		name := fmt.Sprintf("f%d", i)
		r.file(t, name, pattern(30_000+i*1000, i))
		cs = append(cs, r.start(t, &client{name: name}))
	}
	r.run(t, 60*rawapi.Second, cs...)
	busy := 0
	for i, c := range cs {
		switch {
		case c.errCode == errUndef && strings.Contains(c.errMsg, "busy"):
			busy++
		case c.errCode >= 0:
			t.Fatalf("client %d: error %d %q", i, c.errCode, c.errMsg)
		case !bytes.Equal(c.got, pattern(30_000+i*1000, i)):
			t.Fatalf("client %d: %d bytes", i, len(c.got))
		}
	}
	r.settle(t)
	if busy != 1 || r.srv.Stats.Busy != 1 || r.srv.Stats.Completed != 6 {
		t.Fatalf("%d busy; stats %+v", busy, r.srv.Stats)
	}
}

func TestDuplicateRequestDoesNotStartASecondTransfer(t *testing.T) {
	r := newRig(t, Config{}, apptest.Options{})
	r.file(t, "f", pattern(5000, 1))
	c := r.start(t, &client{name: "f"})
	c.u.SendTo(c.last, c.srv) // the RRQ again, at once
	r.run(t, 30*rawapi.Second, c)
	r.settle(t)
	if r.srv.Stats.DupRequests != 1 || r.srv.Stats.Completed != 1 || c.errCode >= 0 {
		t.Fatalf("stats %+v, client error %d", r.srv.Stats, c.errCode)
	}
}

func TestBlockNumberWraps(t *testing.T) {
	if testing.Short() {
		t.Skip("70000 round trips")
	}
	r := newRig(t, Config{}, apptest.Options{})
	data := pattern(65536*16+40, 11) // 65538 blocks of 16 bytes: the counter wraps
	r.file(t, "f", data)
	c := r.start(t, &client{name: "f", opts: []string{"blksize", "16"}})
	r.w.Step = rawapi.Microsecond * 100
	r.run(t, 600*rawapi.Second, c)
	if !bytes.Equal(c.got, data) {
		t.Fatalf("got %d bytes of %d", len(c.got), len(data))
	}
	r.settle(t)
}
