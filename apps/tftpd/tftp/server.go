package tftp

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path"
	"strings"

	"github.com/lwgo/lwgo/rawapi"
)

// Config configures the server. Zero fields take the defaults given.
type Config struct {
	// Root is the directory served; nothing outside it is reachable
	// (os.Root: no "..", no absolute paths, no symlinks out of it).
	Root string
	// Port is the request port. Default 69.
	Port uint16
	// Write allows WRQ: new files only, never overwriting (error 6).
	Write bool
	// MaxTransfers bounds the transfers in progress; more requests get an
	// error. Default 16.
	MaxTransfers int
	// MaxBlockSize caps the negotiated blksize; set it to the path MTU
	// minus 32 (IPv4, UDP and TFTP headers) so that no block is fragmented.
	// Default 1468 (MTU 1500).
	MaxBlockSize int
	// Timeout is the retransmission interval unless the client negotiates
	// one (RFC 2349). Default 1 s.
	Timeout rawapi.Duration
	// Retries is the number of retransmissions of one packet before the
	// transfer is abandoned. Default 5.
	Retries int
	// Log, when set, receives one line per transfer.
	Log io.Writer
}

func (c Config) withDefaults() Config {
	if c.Port == 0 {
		c.Port = 69
	}
	if c.MaxTransfers <= 0 {
		c.MaxTransfers = 16
	}
	if c.MaxBlockSize <= 0 {
		c.MaxBlockSize = 1468
	}
	c.MaxBlockSize = min(max(c.MaxBlockSize, minBlockSize), maxBlockSize)
	if c.Timeout <= 0 {
		c.Timeout = rawapi.Second
	}
	if c.Retries <= 0 {
		c.Retries = 5
	}
	return c
}

// Stats counts what the server did.
type Stats struct {
	Requests     uint64 // RRQ and WRQ received on the request port
	Refused      uint64 // requests answered with an error
	Busy         uint64 // requests refused for lack of a transfer slot
	DupRequests  uint64 // requests repeated while their transfer runs
	Completed    uint64 // transfers finished
	Failed       uint64 // transfers abandoned (timeouts, client errors, I/O)
	Retransmits  uint64 // packets sent again after a timeout
	DupAcks      uint64 // ACKs for a block already acknowledged: ignored
	DupData      uint64 // DATA for a block already written: ACKed again
	UnknownTID   uint64 // packets from the wrong port, answered with error 5
	BytesRead    uint64 // file bytes sent
	BytesWritten uint64 // file bytes received
}

// transfer states.
const (
	xFree     = iota
	xReading  // RRQ: waiting for the ACK of the last packet sent (OACK or DATA)
	xWriting  // WRQ: waiting for the next DATA
	xDallying // WRQ done: ACK duplicates of the last DATA for a while
)

// transfer is one transfer, with its own UDP port (its TID).
type transfer struct {
	srv    *Server
	state  int
	u      rawapi.UDP
	recv   rawapi.UDPRecvFunc // bound once
	peer   netip.AddrPort
	name   string
	ascii  bool
	f      *os.File
	rd     *bufio.Reader // RRQ source (netascii conversion reads through it)
	pend   int           // RRQ netascii: the second byte of a split CR LF or CR NUL, or -1
	cr     bool          // WRQ netascii: the last DATA ended with CR
	wr     *bufio.Writer // WRQ sink
	blk    int           // negotiated block size
	tmo    rawapi.Duration
	block  uint64 // RRQ: block sent and awaiting ACK (0: the OACK); WRQ: block last ACKed
	last   bool   // RRQ: the block sent is the last one
	pkt    []byte // the packet last sent, for retransmission
	due    rawapi.Time
	tries  int
	nbytes uint64
}

// Server is the TFTP server.
type Server struct {
	s     *rawapi.Stack
	cfg   Config
	root  *os.Root
	lsn   rawapi.UDP
	xs    []transfer
	out   []byte // scratch for error packets
	Stats Stats
}

// NewServer opens cfg.Root and listens on cfg.Port of s.
func NewServer(s *rawapi.Stack, cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	root, err := os.OpenRoot(cfg.Root)
	if err != nil {
		return nil, err
	}
	srv := &Server{s: s, cfg: cfg, root: root, xs: make([]transfer, cfg.MaxTransfers), out: make([]byte, 0, 600)}
	for i := range srv.xs {
		x := &srv.xs[i]
		x.srv = srv
		x.recv = x.input
	}
	if srv.lsn, err = s.NewUDP(); err != nil {
		root.Close()
		return nil, err
	}
	if err := srv.lsn.Bind(netip.Addr{}, cfg.Port); err != nil {
		srv.lsn.Close()
		root.Close()
		return nil, err
	}
	srv.lsn.SetRecv(srv.request)
	return srv, nil
}

// Close abandons every transfer and stops listening.
func (srv *Server) Close() {
	for i := range srv.xs {
		if srv.xs[i].state != xFree {
			srv.xs[i].finish(false)
		}
	}
	srv.lsn.Close()
	srv.root.Close()
}

// Active returns the number of transfers in progress.
func (srv *Server) Active() int {
	n := 0
	for i := range srv.xs {
		if srv.xs[i].state != xFree {
			n++
		}
	}
	return n
}

func (srv *Server) logf(format string, args ...any) {
	if srv.cfg.Log != nil {
		fmt.Fprintf(srv.cfg.Log, format+"\n", args...)
	}
}

// request handles a datagram on the request port.
func (srv *Server) request(_ rawapi.UDP, p *rawapi.Buf, src netip.AddrPort, dst netip.Addr) {
	defer p.Free()
	srv.Stats.Requests++
	if len(p.Bytes()) >= 2 {
		if op := binary.BigEndian.Uint16(p.Bytes()); op != opRRQ && op != opWRQ {
			return // stray DATA/ACK/ERROR on port 69: nothing to answer
		}
	}
	for i := range srv.xs {
		if srv.xs[i].state != xFree && srv.xs[i].peer == src {
			srv.Stats.DupRequests++ // the client repeated its request: the transfer answers it
			return
		}
	}
	req, rerr := parseRequest(p.Bytes())
	var x *transfer
	for i := range srv.xs {
		if srv.xs[i].state == xFree {
			x = &srv.xs[i]
			break
		}
	}
	if x == nil {
		srv.Stats.Busy++
		srv.Stats.Refused++
		srv.out = appendError(srv.out[:0], errUndef, "server busy: too many transfers")
		srv.lsn.SendTo(srv.out, src)
		return
	}
	// Answer from a new port: the transfer's TID (RFC 1350 §4), errors too.
	u, err := srv.s.NewUDP()
	if err != nil {
		srv.Stats.Busy++
		return
	}
	if err := u.Bind(dst, 0); err != nil {
		u.Close()
		return
	}
	u.SetRecv(x.recv)
	*x = transfer{srv: srv, recv: x.recv, pkt: x.pkt[:0], u: u, peer: src, pend: -1, tmo: srv.cfg.Timeout}
	if rerr != nil {
		x.fail(rerr.code, rerr.msg)
		srv.Stats.Refused++
		return
	}
	x.name, x.ascii = req.name, req.netascii
	if req.write {
		x.startWrite(req)
	} else {
		x.startRead(req)
	}
}

// cleanName checks a requested name and returns it relative to the root:
// no absolute paths, no "..", no backslashes or NULs.
func cleanName(name string) (string, bool) {
	if name == "" || name[0] == '/' || strings.ContainsAny(name, "\\\x00") {
		return "", false
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", false
		}
	}
	c := path.Clean(name)
	if c == "." {
		return "", false
	}
	return c, true
}

// openError maps a file-system error to a TFTP error.
func openError(err error) (int, string) {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errNotFound, "file not found"
	case errors.Is(err, fs.ErrExist):
		return errExists, "file already exists"
	default:
		return errAccess, "access violation"
	}
}

// options applies the negotiated options and builds the OACK, if any option
// was accepted; tsize is the size to report for an RRQ.
func (x *transfer) options(req request, tsize int64) bool {
	x.blk = defaultBlockSize
	oack := binary.BigEndian.AppendUint16(x.pkt[:0], opOACK)
	n := len(oack)
	if req.blksize > 0 {
		x.blk = min(req.blksize, x.srv.cfg.MaxBlockSize)
		oack = appendOption(oack, "blksize", int64(x.blk))
	}
	if req.timeout > 0 {
		x.tmo = rawapi.Duration(req.timeout) * rawapi.Second
		oack = appendOption(oack, "timeout", int64(req.timeout))
	}
	if req.tsize >= 0 && tsize >= 0 {
		oack = appendOption(oack, "tsize", tsize)
	}
	x.pkt = oack
	return len(oack) > n
}

func (x *transfer) startRead(req request) {
	name, ok := cleanName(req.name)
	if !ok {
		x.fail(errAccess, "access violation")
		x.srv.Stats.Refused++
		return
	}
	f, err := x.srv.root.Open(name)
	if err != nil {
		code, msg := openError(err)
		x.fail(code, msg)
		x.srv.Stats.Refused++
		return
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		x.fail(errAccess, "not a regular file")
		x.srv.Stats.Refused++
		return
	}
	x.f = f
	x.rd = bufio.NewReaderSize(f, 64<<10)
	tsize := fi.Size()
	if x.ascii {
		if tsize, err = netasciiSize(f); err != nil {
			x.fail(errAccess, "read error")
			return
		}
		f.Seek(0, io.SeekStart)
	}
	x.state = xReading
	if x.options(req, tsize) {
		x.block = 0 // the OACK is acknowledged with ACK 0
		x.send()
		return
	}
	x.block = 0
	x.nextData()
}

func (x *transfer) startWrite(req request) {
	if !x.srv.cfg.Write {
		x.fail(errAccess, "writes are disabled")
		x.srv.Stats.Refused++
		return
	}
	name, ok := cleanName(req.name)
	if !ok {
		x.fail(errAccess, "access violation")
		x.srv.Stats.Refused++
		return
	}
	f, err := x.srv.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		code, msg := openError(err)
		x.fail(code, msg)
		x.srv.Stats.Refused++
		return
	}
	x.f = f
	x.wr = bufio.NewWriterSize(f, 64<<10)
	x.state = xWriting
	x.block = 0
	if !x.options(req, req.tsize) {
		x.pkt = appendACK(x.pkt[:0], 0)
	}
	x.send() // OACK, or ACK 0
}

// nextData reads and sends the block after x.block.
func (x *transfer) nextData() {
	if cap(x.pkt) < 4+x.blk {
		x.pkt = make([]byte, 0, 4+max(x.blk, defaultBlockSize))
	}
	x.block++
	p := x.pkt[:4+x.blk]
	binary.BigEndian.PutUint16(p, opDATA)
	binary.BigEndian.PutUint16(p[2:], uint16(x.block)) // wraps to 0 after 65535, as most servers do
	var n int
	var err error
	if x.ascii {
		n, err = x.fillNetascii(p[4:])
	} else {
		n, err = io.ReadFull(x.rd, p[4:])
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			err = nil
		}
	}
	if err != nil {
		x.fail(errAccess, "read error")
		x.srv.Stats.Failed++
		return
	}
	x.pkt = p[:4+n]
	x.last = n < x.blk
	x.nbytes += uint64(n)
	x.srv.Stats.BytesRead += uint64(n)
	x.send()
}

// fillNetascii fills dst with the file converted to netascii (RFC 764: LF
// becomes CR LF, CR becomes CR NUL); it returns fewer bytes only at the end.
func (x *transfer) fillNetascii(dst []byte) (int, error) {
	n := 0
	if x.pend >= 0 && n < len(dst) {
		dst[n] = byte(x.pend)
		n++
		x.pend = -1
	}
	for n < len(dst) {
		c, err := x.rd.ReadByte()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		var second int = -1
		switch c {
		case '\n':
			c, second = '\r', '\n'
		case '\r':
			second = 0
		}
		dst[n] = c
		n++
		if second >= 0 {
			if n < len(dst) {
				dst[n] = byte(second)
				n++
			} else {
				x.pend = second
			}
		}
	}
	return n, nil
}

// netasciiSize is the size of f in netascii.
func netasciiSize(f *os.File) (int64, error) {
	var n int64
	r := bufio.NewReaderSize(f, 64<<10)
	for {
		c, err := r.ReadByte()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		n++
		if c == '\n' || c == '\r' {
			n++
		}
	}
}

// send sends x.pkt and arms the retransmission timer.
func (x *transfer) send() {
	x.u.SendTo(x.pkt, x.peer) // a lost or refused send is a lost packet: the timer covers it
	x.tries = 0
	x.due = x.srv.s.Now().Add(x.tmo)
}

// fail sends an error to the peer and ends the transfer.
func (x *transfer) fail(code int, msg string) {
	x.srv.out = appendError(x.srv.out[:0], code, msg)
	x.u.SendTo(x.srv.out, x.peer)
	x.srv.logf("%v %s: error %d: %s", x.peer, x.name, code, msg)
	x.finish(false)
}

// finish releases the transfer; a failed upload is removed.
func (x *transfer) finish(ok bool) {
	if x.wr != nil && ok {
		if err := x.wr.Flush(); err != nil {
			ok = false
		}
	}
	if x.f != nil {
		x.f.Close()
		if x.wr != nil && !ok {
			if name, valid := cleanName(x.name); valid {
				x.srv.root.Remove(name)
			}
		}
	}
	x.u.Close()
	x.f, x.rd, x.wr = nil, nil, nil
	x.state = xFree
}

// input handles a datagram on the transfer's port.
func (x *transfer) input(u rawapi.UDP, p *rawapi.Buf, src netip.AddrPort, _ netip.Addr) {
	defer p.Free()
	if x.state == xFree || u != x.u {
		return
	}
	srv := x.srv
	if src != x.peer {
		// Another port: RFC 1350 §4, answer with error 5 and carry on.
		srv.Stats.UnknownTID++
		srv.out = appendError(srv.out[:0], errUnknownTID, "unknown transfer ID")
		x.u.SendTo(srv.out, src)
		return
	}
	b := p.Bytes()
	if len(b) < 4 {
		return
	}
	op, block := binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:])
	switch {
	case op == opERROR:
		srv.logf("%v %s: client error %d", x.peer, x.name, block)
		srv.Stats.Failed++
		x.finish(false)
	case op == opACK && x.state == xReading:
		x.ack(block)
	case op == opDATA && (x.state == xWriting || x.state == xDallying):
		x.data(block, b[4:])
	case op == opACK || op == opDATA:
		// An old packet of this transfer: ignore.
	default:
		srv.Stats.Failed++
		x.fail(errIllegal, "illegal operation")
	}
}

// ack handles an ACK during an RRQ.
func (x *transfer) ack(block uint16) {
	if block != uint16(x.block) {
		// An ACK of an earlier block: the client got a retransmission or
		// repeated itself. Sending the next block again would double every
		// packet from here on (the Sorcerer's Apprentice, RFC 1123
		// §4.2.3.1): ignore it and let the timer decide.
		x.srv.Stats.DupAcks++
		return
	}
	if x.block > 0 && x.last {
		x.srv.Stats.Completed++
		x.srv.logf("%v %s: sent %d bytes", x.peer, x.name, x.nbytes)
		x.finish(true)
		return
	}
	x.nextData()
}

// data handles a DATA during a WRQ.
func (x *transfer) data(block uint16, payload []byte) {
	srv := x.srv
	switch {
	case block == uint16(x.block+1) && x.state == xWriting:
		if len(payload) > x.blk {
			srv.Stats.Failed++
			x.fail(errIllegal, "block larger than negotiated")
			return
		}
		if err := x.write(payload); err != nil {
			srv.Stats.Failed++
			x.fail(errDiskFull, "write error")
			return
		}
		x.block++
		x.nbytes += uint64(len(payload))
		srv.Stats.BytesWritten += uint64(len(payload))
		x.pkt = appendACK(x.pkt[:0], uint16(x.block))
		if len(payload) < x.blk {
			if x.cr {
				x.wr.WriteByte('\r') // a lone CR at the very end
			}
			if err := x.wr.Flush(); err != nil {
				srv.Stats.Failed++
				x.fail(errDiskFull, "write error")
				return
			}
			// Done: acknowledge, then keep answering a repeated last DATA
			// (our ACK may be lost) for a while.
			srv.Stats.Completed++
			srv.logf("%v %s: received %d bytes", x.peer, x.name, x.nbytes)
			x.f.Close()
			x.f, x.wr = nil, nil
			x.state = xDallying
		}
		x.send()
	case block == uint16(x.block):
		// A repeated DATA: our ACK was lost. Acknowledge it again.
		srv.Stats.DupData++
		x.u.SendTo(x.pkt, x.peer)
	}
}

// write stores a DATA payload, decoding netascii (CR LF → LF, CR NUL → CR).
func (x *transfer) write(p []byte) error {
	if !x.ascii {
		_, err := x.wr.Write(p)
		return err
	}
	for _, c := range p {
		if x.cr {
			x.cr = false
			switch c {
			case '\n':
				x.wr.WriteByte('\n')
				continue
			case 0:
				x.wr.WriteByte('\r')
				continue
			}
			x.wr.WriteByte('\r') // a bare CR: keep it
		}
		if c == '\r' {
			x.cr = true
			continue
		}
		if err := x.wr.WriteByte(c); err != nil {
			return err
		}
	}
	return nil
}

// Poll runs the retransmission timers at now and returns the next deadline.
func (srv *Server) Poll(now rawapi.Time) rawapi.Time {
	next := rawapi.Never
	for i := range srv.xs {
		x := &srv.xs[i]
		if x.state == xFree {
			continue
		}
		if now >= x.due {
			if x.state == xDallying {
				x.finish(true) // the client has had time to repeat its last DATA
				continue
			}
			if x.tries >= srv.cfg.Retries {
				srv.Stats.Failed++
				srv.logf("%v %s: timed out", x.peer, x.name)
				x.finish(false)
				continue
			}
			x.tries++
			srv.Stats.Retransmits++
			x.u.SendTo(x.pkt, x.peer)
			x.due = now.Add(x.tmo)
		}
		next = min(next, x.due)
	}
	return next
}
