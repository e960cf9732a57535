package tcp

import (
	"encoding/binary"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
)

// Layer is the TCP engine of one stack.
type Layer struct {
	cfg  Config
	out  Output
	pool *pbuf.Pool
	gso  *pbuf.Pool // super-segment buffers for TSO routes; nil: no TSO

	pcbs []pcb
	free []int32 // free pcb slots (stack)
	// active lists the slots in use, so timers scan only live connections;
	// activeMod counts changes, so a scan can tell it was disturbed.
	active        []int32
	activeMod     uint64
	conns         tupleTable
	lst           []listener
	tw            []twRec
	twHead, twLen int // the ring of TIME-WAIT records (see timewait.go)
	twIdx         tupleTable

	nodes     []seg
	nodeFree  int32
	nodesFree int // nodes on the free list
	nocopy    int // WriteNoCopy nodes in use
	ooseq     int // out-of-order buffers held by all connections

	now      clock.Time
	timerAt  clock.Time // no pcb timer is due before this
	isnKey   [2]uint64
	rnd      uint64
	chTok    int // challenge ACK tokens (RFC 5961 §7)
	chFill   clock.Time
	portNext uint16

	batching bool    // between BeginBatch and EndBatch
	deferred []int32 // pcbs whose output waits for EndBatch

	in    inSeg     // the segment being processed (lwIP's inseg, seqno, ackno)
	inBuf *pbuf.Buf // its payload, until queued or freed
	stats Stats
}

// inSeg is the decoded segment under processing.
type inSeg struct {
	t        wire.TCP
	src, dst wire.IPv4Addr
	tos      uint8
	seq, ack wire.Seq
	flags    wire.TCPFlags
	wnd      uint32 // unscaled
	opts     wire.TCPOptions
	data     int // payload length
	hdrLen   int
}

// segLen returns SEG.LEN: payload plus SYN and FIN.
func (s *inSeg) segLen() wire.Size {
	n := wire.Size(s.data)
	if s.flags.Has(wire.FlagSYN) {
		n++
	}
	if s.flags.Has(wire.FlagFIN) {
		n++
	}
	return n
}

// New creates the engine. pool is the stack's packet pool, which the send
// queues draw from.
func New(cfg Config, out Output, pool *pbuf.Pool) *Layer {
	cfg = cfg.WithDefaults(pool.Cap())
	l := &Layer{
		cfg:    cfg,
		out:    out,
		pool:   pool,
		pcbs:   make([]pcb, cfg.MaxPCBs),
		free:   make([]int32, cfg.MaxPCBs),
		active: make([]int32, 0, cfg.MaxPCBs),
		conns:  newTupleTable(cfg.MaxPCBs, binary.LittleEndian.Uint64(cfg.ISNSecret[8:])),
		lst:    make([]listener, cfg.MaxListeners),
		tw:     make([]twRec, cfg.MaxTimeWait),
		twIdx:  newTupleTable(cfg.MaxTimeWait, binary.LittleEndian.Uint64(cfg.ISNSecret[:])),
		chTok:  cfg.ChallengeACKRate,
		// A batch is one device read (core.Config.RxBatch frames); a
		// longer one sends as it goes.
		deferred: make([]int32, 0, maxDeferred),
	}
	l.isnKey[0] = binary.LittleEndian.Uint64(cfg.ISNSecret[:])
	l.isnKey[1] = binary.LittleEndian.Uint64(cfg.ISNSecret[8:])
	l.rnd = l.isnKey[0] ^ l.isnKey[1] ^ 0x853c49e6748fea9b
	for i := range l.pcbs {
		l.free[i] = int32(cfg.MaxPCBs - 1 - i)
		l.pcbs[i].listener = -1
		l.pcbs[i].slot = int32(i)
	}
	// Nodes: one per buffer of the pool (send chunks and received segments),
	// plus out-of-order segments in device-owned buffers, plus WriteNoCopy
	// references.
	n := pool.Cap() + cfg.OOSeqGlobal + noCopyNodes
	l.nodes = make([]seg, n)
	for i := range l.nodes {
		l.nodes[i].next = int32(i + 1)
	}
	l.nodes[n-1].next = -1
	l.nodesFree = n
	l.timerAt = clock.Never
	l.portNext = uint16(ephemeralLow + l.random()%(ephemeralHigh-ephemeralLow+1))
	return l
}

// maxDeferred bounds the connections a receive batch defers output for.
const maxDeferred = 64

// noCopyNodes is the number of WriteNoCopy chunks all connections may have
// queued together.
const noCopyNodes = 256

// Ephemeral ports (RFC 6056 §2.1).
const (
	ephemeralLow  = 49152
	ephemeralHigh = 65535
)

// random returns a pseudo-random value (xorshift64*). Ports and timestamp
// offsets use it; sequence numbers use the keyed hash instead.
func (l *Layer) random() uint64 {
	l.rnd ^= l.rnd >> 12
	l.rnd ^= l.rnd << 25
	l.rnd ^= l.rnd >> 27
	return l.rnd * 0x2545f4914f6cdd1d
}

// SetGSOPool gives the engine buffers for TSO super-segments (slots of up
// to 64 KiB plus headroom). Connections opened after it use TSO on routes
// whose device offers it (Route.TSOMax).
func (l *Layer) SetGSOPool(p *pbuf.Pool) { l.gso = p }

// SetNow sets the time the engine works with; the stack calls it before
// Input and Timer.
func (l *Layer) SetNow(now clock.Time) {
	if now > l.now {
		l.now = now
	}
}

// Stats returns a copy of the counters.
func (l *Layer) Stats() Stats { return l.stats }

// Config returns the configuration in force.
func (l *Layer) Config() Config { return l.cfg }

// NextDeadline returns when Timer must run next.
func (l *Layer) NextDeadline() clock.Time { return l.timerAt }

// arm notes that a pcb timer fires at t.
func (l *Layer) arm(t clock.Time) {
	if t < l.timerAt {
		l.timerAt = t
	}
}

// allocNode takes a queue node; -1 when none is left.
func (l *Layer) allocNode() int32 {
	i := l.nodeFree
	if i >= 0 {
		l.nodeFree = l.nodes[i].next
		l.nodes[i].next = -1
		l.nodesFree--
	}
	return i
}

func (l *Layer) freeNode(i int32) {
	l.nodes[i] = seg{next: l.nodeFree}
	l.nodeFree = i
	l.nodesFree++
}

func (l *Layer) push(q *segList, i int32) {
	l.nodes[i].next = -1
	if q.head < 0 {
		q.head = i
	} else {
		l.nodes[q.tail].next = i
	}
	q.tail = i
}

func (l *Layer) freeList(q *segList) {
	for !q.empty() {
		if l.nodes[q.head].buf == nil && l.nodes[q.head].ext != nil {
			l.nocopy--
		}
		l.popNode(q)
	}
}

// pcbAlloc takes a free connection slot, or returns nil.
func (l *Layer) pcbAlloc() (*pcb, int32) {
	n := len(l.free)
	if n == 0 {
		return nil, -1
	}
	i := l.free[n-1]
	l.free = l.free[:n-1]
	c := &l.pcbs[i]
	defer func() {
		c.activePos = int32(len(l.active))
		l.active = append(l.active, i)
		l.activeMod++
	}()
	gen := c.gen + 1
	if gen == 0 {
		gen = 1
	}
	*c = pcb{gen: gen, listener: -1, slot: i, used: true}
	c.snd.q = segList{-1, -1}
	c.snd.cur = -1
	c.rcv.ooseq = segList{-1, -1}
	c.rcv.ready = segList{-1, -1}
	c.rtoAt, c.ackAt, c.keepAt, c.pollAt, c.offerAt = clock.Never, clock.Never, clock.Never, clock.Never, clock.Never
	c.rtt.rto = l.cfg.InitialRTO
	c.ccAl = l.cfg.NewCC()
	c.keepIdle, c.keepIntvl, c.keepCnt = l.cfg.KeepIdle, l.cfg.KeepInterval, uint8(min(l.cfg.KeepCount, 255))
	c.ttl = 0
	c.ts.offset = uint32(l.random())
	c.lastRecv = l.now
	c.firstRexmit = clock.Never
	return c, i
}

// release frees a connection: its queues, its demux entry, its slot; the
// generation moves on so every handle to it goes stale. lwIP: tcp_pcb_remove.
func (l *Layer) release(c *pcb) {
	l.freeList(&c.snd.q)
	l.freeList(&c.rcv.ready)
	l.ooseq -= c.rcv.ooCount
	l.freeList(&c.rcv.ooseq)
	// Whatever the state (a LAST-ACK connection reaches CLOSED before it is
	// released), drop the demux entry that points at this slot.
	if l.conns.get(c.id) == l.index(c) {
		l.conns.del(c.id)
	}
	if c.listener >= 0 && c.state == SynReceived {
		l.lst[c.listener].pending--
	}
	idx := l.index(c)
	// Swap-remove from the active list.
	last := l.active[len(l.active)-1]
	l.active[c.activePos] = last
	l.pcbs[last].activePos = c.activePos
	l.active = l.active[:len(l.active)-1]
	l.activeMod++
	gen := c.gen + 1
	if gen == 0 {
		gen = 1
	}
	*c = pcb{gen: gen, listener: -1, slot: idx}
	l.free = append(l.free, idx)
}

func (l *Layer) index(c *pcb) int32 { return c.slot }
