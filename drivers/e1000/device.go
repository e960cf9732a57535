package e1000

import (
	"sync/atomic"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/errs"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
	"github.com/lwgo/lwgo/platform/dma"
	"github.com/lwgo/lwgo/platform/mmio"
	"github.com/lwgo/lwgo/platform/pci"
)

// Supported lists the PCI IDs this driver handles: the 8254x parts whose
// register set and legacy descriptors it uses, as QEMU 7.2 models them
// (facts/nics.md §1). All three pass the ping case under QEMU 7.2 in CI
// (test/qemu TestPingGateway, TestOtherModels); none is tested on real
// hardware yet.
var Supported = []pci.ID{
	{Vendor: 0x8086, Device: 0x100e}, // 82540EM (QEMU "e1000")
	{Vendor: 0x8086, Device: 0x100f}, // 82545EM copper (QEMU "e1000-82545em")
	{Vendor: 0x8086, Device: 0x100c}, // 82544GC copper (QEMU "e1000-82544gc")
}

// IsSupported reports whether id is in Supported.
func IsSupported(id pci.ID) bool {
	for _, s := range Supported {
		if s == id {
			return true
		}
	}
	return false
}

// Sizes.
const (
	// BufSize is the size of every RX buffer, TX bounce buffer and pool slot:
	// RCTL.BSIZE = 2048, two slots per 4 KiB page.
	BufSize = 2048
	// MaxFrame is the largest frame sent or accepted without FCS: 1500 bytes
	// of payload, the Ethernet header and one VLAN tag.
	MaxFrame = 1518
	// minFrame is the shortest Ethernet frame without FCS; shorter frames
	// are padded with zeros.
	minFrame = 60
	// maxRing is the largest ring: 256 descriptors fill one page.
	maxRing = dma.PageSize / descSize
)

// Config configures New. Regs, DMA and Clock are required.
type Config struct {
	// Regs is BAR0, the 128 KiB register window.
	Regs mmio.Window
	// PCI, if set, is the function's configuration space: New enables
	// memory decoding and bus mastering, Close disables bus mastering.
	PCI pci.Config
	// DMA allocates the rings and buffers.
	DMA dma.Allocator
	// Clock bounds every wait and times TX completion.
	Clock clock.Source
	// Sleep, if set, is called between polls of a register during reset and
	// EEPROM reads; without it those waits spin on Clock.
	Sleep func(clock.Duration)

	// RxRing and TxRing are the numbers of descriptors: multiples of 8
	// from 8 to 256. Default 256 each.
	RxRing, TxRing int
	// PoolBufs is the number of 2 KiB DMA buffers in the pool that feeds
	// the RX ring and that applications may allocate zero-copy TX frames
	// from; it must exceed RxRing. Default 4 × RxRing.
	PoolBufs int
	// MAC overrides the address read from RAL/RAH or the EEPROM.
	MAC wire.MAC
	// Promiscuous accepts every unicast and multicast frame.
	Promiscuous bool

	// ResetTimeout bounds the wait for CTRL.RST to clear. Default 100 ms.
	ResetTimeout clock.Duration
	// TxTimeout is how long the oldest transmitted descriptor may stay
	// incomplete before the TX ring is declared stalled and reset. Default 2 s.
	TxTimeout clock.Duration
	// LinkInterval is how often LinkUp reads STATUS; in between it returns
	// the last value. Default 100 ms.
	LinkInterval clock.Duration
}

// Stats are the driver's counters plus the accumulated hardware statistics.
type Stats struct {
	RxFrames, RxBytes uint64 // frames handed to the stack
	TxFrames, TxBytes uint64 // frames accepted by Transmit and queued
	TxCompleted       uint64 // descriptors the device reported done
	TxCopied          uint64 // frames copied into bounce buffers (not from Pool)

	// Drops and untrusted-device checks.
	RxNoBuf     uint64 // frames dropped because the pool was empty (buffer recycled)
	RxErrors    uint64 // frames the device flagged with receive errors
	RxBadLength uint64 // descriptor lengths beyond the buffer or shorter than a header
	RxBadStatus uint64 // frames without EOP, DD on descriptors the device does not own
	TxBadFrame  uint64 // frames dropped: empty or longer than MaxFrame
	TxFull      uint64 // Transmit calls that left frames for lack of descriptors
	TxStalls    uint64 // TX ring resets after TxTimeout without completion
	ResetFails  uint64 // resets that did not complete within ResetTimeout
	EEPROMFails uint64 // EEPROM reads that did not complete

	// HW are the device's statistics registers, accumulated by UpdateStats.
	HW HWStats
}

// HWStats are the 8254x statistics registers (§13.7), accumulated.
type HWStats struct {
	CRCErrors    uint64 // CRCERRS
	AlignErrors  uint64 // ALGNERRC
	SymbolErrors uint64 // SYMERRS
	RxErrors     uint64 // RXERRC
	Missed       uint64 // MPC: frames missed for lack of FIFO space
	NoBuffers    uint64 // RNBC: frames received with no free descriptor
	LengthErrors uint64 // RLEC
	Undersize    uint64 // RUC
	Oversize     uint64 // ROC
	Collisions   uint64 // COLC
	SingleColl   uint64 // SCC
	ExcessColl   uint64 // ECOL
	GoodRx       uint64 // GPRC
	GoodTx       uint64 // GPTC
	BroadcastRx  uint64 // BPRC
	MulticastRx  uint64 // MPRC
	GoodRxOctets uint64 // GORCL/H
	GoodTxOctets uint64 // GOTCL/H
	TotalRx      uint64 // TPR
	TotalTx      uint64 // TPT
}

// Device is one 8254x NIC. It implements netif.Device.
type Device struct {
	regs  mmio.Window
	pcfg  pci.Config
	alloc dma.Allocator
	clk   clock.Source
	sleep func(clock.Duration)
	cfg   Config

	region *dma.Region
	pool   *pbuf.Pool
	mac    wire.MAC

	rxN     int
	rx      []uint32    // RX descriptor words
	rxBufs  []*pbuf.Buf // buffer of each RX descriptor; never nil while open
	rxNext  int         // next descriptor to read
	rxTail  int         // value of RDT: the gap the device does not own
	rxDrop  bool        // discarding the rest of a frame without EOP
	ready   pbuf.Queue  // frames harvested by Service, not yet received
	readyMx int

	txN      int
	tx       []uint32    // TX descriptor words
	txBufs   []*pbuf.Buf // in-place frame of each in-flight descriptor, nil if bounced
	bounce   []byte      // TX bounce buffers, BufSize per descriptor
	bounceAt int         // offset of bounce in region
	txClean  int         // oldest in-flight descriptor
	txTail   int         // value of TDT: next descriptor to fill
	txSince  clock.Time  // when the oldest in-flight descriptor was queued or last progress

	link   bool
	linkAt clock.Time
	linkOK bool // linkAt is valid

	stats Stats
}

// New resets and initialises the device and arms its rings. On error nothing
// stays allocated and the device is left reset.
func New(c Config) (*Device, error) {
	if c.Regs == nil || c.DMA == nil || c.Clock == nil {
		return nil, errs.ErrArg
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.RxRing, maxRing)
	def(&c.TxRing, maxRing)
	def(&c.PoolBufs, 4*c.RxRing)
	if c.ResetTimeout == 0 {
		c.ResetTimeout = 100 * clock.Millisecond
	}
	if c.TxTimeout == 0 {
		c.TxTimeout = 2 * clock.Second
	}
	if c.LinkInterval == 0 {
		c.LinkInterval = 100 * clock.Millisecond
	}
	for _, n := range []int{c.RxRing, c.TxRing} {
		if n < 8 || n > maxRing || n%8 != 0 {
			return nil, errs.ErrArg
		}
	}
	if c.PoolBufs <= c.RxRing {
		return nil, errs.ErrArg
	}
	c.PoolBufs += c.PoolBufs & 1 // two per page

	d := &Device{regs: c.Regs, pcfg: c.PCI, alloc: c.DMA, clk: c.Clock, sleep: c.Sleep, cfg: c,
		rxN: c.RxRing, txN: c.TxRing, readyMx: c.RxRing}
	if c.PCI != nil {
		if _, _, err := pci.EnableBusMaster(c.PCI); err != nil {
			return nil, err
		}
	}
	// Layout: page 0 RX ring, page 1 TX ring, then the TX bounce buffers,
	// then the pool; every piece starts on a page and nothing crosses one.
	bounceAt := 2 * dma.PageSize
	poolAt := bounceAt + dma.RoundPages(c.TxRing*BufSize)
	size := poolAt + c.PoolBufs*BufSize
	r, err := c.DMA.Alloc(size)
	if err != nil {
		return nil, err
	}
	d.region = r
	d.rx = descWords(r.Mem[:dma.PageSize])[:4*d.rxN]
	d.tx = descWords(r.Mem[dma.PageSize : 2*dma.PageSize])[:4*d.txN]
	d.bounceAt = bounceAt
	d.bounce = r.Mem[bounceAt : bounceAt+c.TxRing*BufSize]
	d.pool = pbuf.NewPoolArena(r.Mem[poolAt:size], BufSize, func(off int) uint64 { return r.Bus(poolAt + off) })
	d.rxBufs = make([]*pbuf.Buf, d.rxN)
	d.txBufs = make([]*pbuf.Buf, d.txN)

	if err := d.reset(); err != nil {
		d.free()
		return nil, err
	}
	if err := d.initMAC(); err != nil {
		d.free()
		return nil, err
	}
	d.initRx()
	d.initTx()
	d.readLink(d.clk.Now())
	return d, nil
}

// waitClear polls register off until the bits in mask are clear, for at
// most timeout (and a bounded number of polls, should the clock not move).
func (d *Device) waitClear(off, mask uint32, timeout clock.Duration) bool {
	const maxPolls = 1 << 20
	deadline := d.clk.Now().Add(timeout)
	for i := 0; i < maxPolls; i++ {
		if d.regs.Read32(off)&mask == 0 {
			return true
		}
		if d.clk.Now() > deadline {
			break
		}
		if d.sleep != nil {
			d.sleep(10 * clock.Microsecond)
		}
	}
	return false
}

// reset masks interrupts, resets the device and sets the link up (§14.3,
// facts/nics.md §2 steps 2–5). QEMU performs no reset on CTRL.RST, so
// everything is programmed explicitly afterwards.
func (d *Device) reset() error {
	d.regs.Write32(regIMC, 0xFFFFFFFF)
	d.regs.Write32(regRCTL, 0)
	d.regs.Write32(regTCTL, 0)
	d.regs.Write32(regCTRL, d.regs.Read32(regCTRL)|ctrlRST)
	if d.sleep != nil {
		d.sleep(clock.Millisecond)
	}
	if !d.waitClear(regCTRL, ctrlRST, d.cfg.ResetTimeout) {
		d.stats.ResetFails++
		return errs.ErrTimeout
	}
	d.regs.Write32(regIMC, 0xFFFFFFFF)
	ctrl := d.regs.Read32(regCTRL)
	ctrl |= ctrlSLU | ctrlASDE
	ctrl &^= ctrlLRST | ctrlPHYRST | ctrlILOS | ctrlVME | ctrlFRCSPD | ctrlFRCDPLX
	d.regs.Write32(regCTRL, ctrl)
	return nil
}

// initMAC picks the MAC: Config.MAC, else RAL0/RAH0 when they hold a valid
// address (QEMU preloads them with AV set), else EEPROM words 0–2. It then
// programs RAL0/RAH0 with AV (receive filtering needs it) and clears the
// multicast table. It fails if no valid unicast address can be found.
func (d *Device) initMAC() error {
	mac := d.cfg.MAC
	if !validMAC(mac) {
		lo, hi := d.regs.Read32(regRAL0), d.regs.Read32(regRAH0)
		mac = wire.MAC{byte(lo), byte(lo >> 8), byte(lo >> 16), byte(lo >> 24), byte(hi), byte(hi >> 8)}
		if hi&rahAV == 0 || !validMAC(mac) {
			mac = d.eepromMAC()
		}
	}
	if !validMAC(mac) {
		return errs.ErrIf
	}
	d.mac = mac
	d.regs.Write32(regRAL0, uint32(mac[0])|uint32(mac[1])<<8|uint32(mac[2])<<16|uint32(mac[3])<<24)
	d.regs.Write32(regRAH0, uint32(mac[4])|uint32(mac[5])<<8|rahAV)
	for i := uint32(0); i < 128; i++ {
		d.regs.Write32(regMTA+4*i, 0)
	}
	return nil
}

// eepromMAC reads the MAC from EEPROM words 0–2 through EERD (8254x format).
// A read that does not complete is counted and yields the zero MAC.
func (d *Device) eepromMAC() wire.MAC {
	var mac wire.MAC
	for w := range 3 {
		v, ok := d.eepromRead(uint32(w))
		if !ok {
			d.stats.EEPROMFails++
			return wire.MAC{}
		}
		mac[2*w], mac[2*w+1] = byte(v), byte(v>>8)
	}
	return mac
}

// eepromRead reads one EEPROM word, bounded by ResetTimeout.
func (d *Device) eepromRead(addr uint32) (uint16, bool) {
	d.regs.Write32(regEERD, eerdStart|addr<<eerdAddrShift)
	deadline := d.clk.Now().Add(d.cfg.ResetTimeout)
	for range 1 << 20 {
		v := d.regs.Read32(regEERD)
		if v&eerdDone != 0 {
			return uint16(v >> eerdDataShift), true
		}
		if d.clk.Now() > deadline {
			break
		}
		if d.sleep != nil {
			d.sleep(10 * clock.Microsecond)
		}
	}
	return 0, false
}

func validMAC(m wire.MAC) bool {
	return m != wire.MAC{} && m[0]&1 == 0
}

// initRx fills the RX ring from the pool and enables the receiver: RCTL is
// written once, last, because QEMU holds reception off for 1 s after each
// RCTL write (facts/qemu-e1000.md §8, gotcha 3).
func (d *Device) initRx() {
	for i := range d.rxN {
		b, err := d.pool.Alloc(pbuf.LayerRaw, 0)
		if err != nil { // cannot happen: PoolBufs > RxRing
			panic("e1000: pool smaller than the RX ring")
		}
		d.rxBufs[i] = b
		d.armRx(i)
	}
	ring := d.region.Bus(0)
	d.regs.Write32(regRDBAL, uint32(ring))
	d.regs.Write32(regRDBAH, uint32(ring>>32))
	d.regs.Write32(regRDLEN, uint32(d.rxN*descSize))
	d.regs.Write32(regRDH, 0)
	d.rxNext, d.rxTail = 0, d.rxN-1
	dma.WriteBarrier()
	d.regs.Write32(regRDT, uint32(d.rxTail))
	d.regs.Write32(regRDTR, 0)
	rctl := uint32(rctlEN | rctlBAM | rctlBSIZE | rctlSECRC)
	if d.cfg.Promiscuous {
		rctl |= rctlUPE | rctlMPE
	}
	d.regs.Write32(regRCTL, rctl)
}

// armRx points RX descriptor i at its buffer and clears its status.
func (d *Device) armRx(i int) {
	a := d.rxBufs[i].BusAddr()
	w := d.rx[4*i : 4*i+4 : 4*i+4]
	w[0], w[1], w[2], w[3] = uint32(a), uint32(a>>32), 0, 0
}

// initTx programs an empty TX ring and enables the transmitter.
func (d *Device) initTx() {
	clear(d.tx)
	ring := d.region.Bus(dma.PageSize)
	d.regs.Write32(regTDBAL, uint32(ring))
	d.regs.Write32(regTDBAH, uint32(ring>>32))
	d.regs.Write32(regTDLEN, uint32(d.txN*descSize))
	d.regs.Write32(regTDH, 0)
	d.regs.Write32(regTDT, 0)
	d.txClean, d.txTail = 0, 0
	d.regs.Write32(regTIPG, tipgValue)
	d.regs.Write32(regTCTL, tctlValue)
}

// Pool returns the driver's DMA buffer pool. Frames built in its Bufs (at
// any layer's headroom) are transmitted without a copy.
func (d *Device) Pool() *pbuf.Pool { return d.pool }

// HardwareAddr implements netif.Device.
func (d *Device) HardwareAddr() wire.MAC { return d.mac }

// MTU implements netif.Device.
func (d *Device) MTU() int { return 1500 }

// Caps implements netif.Device: no offloads.
func (d *Device) Caps() netif.Caps { return netif.Caps{} }

var _ netif.Device = (*Device)(nil)

// LinkUp implements netif.Device. It reads STATUS.LU at most once per
// LinkInterval (an MMIO read per stack Poll would cost more than the poll).
func (d *Device) LinkUp() bool {
	now := d.clk.Now()
	if !d.linkOK || now.Sub(d.linkAt) >= d.cfg.LinkInterval {
		d.readLink(now)
	}
	return d.link
}

func (d *Device) readLink(now clock.Time) {
	d.link = d.regs.Read32(regSTATUS)&statusLU != 0
	d.linkAt, d.linkOK = now, true
}

// Speed returns the link speed in Mb/s and duplex from STATUS (§13.4.2).
func (d *Device) Speed() (mbps int, fullDuplex bool) {
	s := d.regs.Read32(regSTATUS)
	switch (s & statusSpeedMask) >> 6 {
	case 0:
		mbps = 10
	case 1:
		mbps = 100
	default:
		mbps = 1000
	}
	return mbps, s&statusFD != 0
}

// Receive implements netif.Device. It hands up Bufs of the driver's own pool
// (pool is not used): first frames harvested by Service, then completed RX
// descriptors, up to len(dst). It does not allocate.
func (d *Device) Receive(_ *pbuf.Pool, dst []*pbuf.Buf) int {
	n := 0
	for n < len(dst) {
		b := d.ready.Pop()
		if b == nil {
			break
		}
		dst[n] = b
		n++
	}
	if n < len(dst) {
		n += d.harvest(dst[n:], len(dst)-n)
	}
	return n
}

// harvest takes up to max completed RX descriptors. Good frames go to dst
// when it is not nil, else onto the ready queue. It returns the frames
// taken and writes RDT once if any descriptor was given back.
func (d *Device) harvest(dst []*pbuf.Buf, max int) int {
	n, done := 0, 0
	for n < max {
		i := d.rxNext
		st := atomic.LoadUint32(&d.rx[4*i+3])
		if st&rxStatusDD == 0 {
			break
		}
		if i == d.rxTail {
			// DD on the gap descriptor, which the device does not own.
			d.stats.RxBadStatus++
			d.rx[4*i+3] = 0
			break
		}
		dma.ReadBarrier()
		length := int(d.rx[4*i+2] & 0xFFFF)
		b := d.rxBufs[i]
		good := false
		switch {
		case d.rxDrop:
			// Rest of a frame whose first part had no EOP.
			if st&rxStatusEOP != 0 {
				d.rxDrop = false
			}
		case st&rxStatusEOP == 0:
			// Frames never span buffers (LPE off, 2 KiB buffers): impossible.
			d.stats.RxBadStatus++
			d.rxDrop = true
		case st&rxFrameErrors != 0:
			d.stats.RxErrors++
		case length > BufSize || length < wire.EthernetHeaderLen:
			d.stats.RxBadLength++
		default:
			good = true
		}
		if good {
			nb, err := d.pool.Alloc(pbuf.LayerRaw, 0)
			if err != nil {
				d.stats.RxNoBuf++ // recycle b into the same descriptor
			} else {
				b.SetWindow(0, length)
				if b.Bytes()[0]&1 != 0 {
					b.Flags |= pbuf.LinkBroadcast
				}
				d.stats.RxFrames++
				d.stats.RxBytes += uint64(length)
				if dst != nil {
					dst[n] = b
				} else {
					d.ready.Push(b)
				}
				n++
				d.rxBufs[i] = nb
			}
		}
		d.armRx(i)
		d.rxNext = d.next(i, d.rxN)
		done++
	}
	if done > 0 {
		// Give the processed descriptors back: RDT stays one behind rxNext.
		d.rxTail = d.prev(d.rxNext, d.rxN)
		dma.WriteBarrier()
		d.regs.Write32(regRDT, uint32(d.rxTail))
	}
	return n
}

func (d *Device) next(i, n int) int {
	if i++; i == n {
		return 0
	}
	return i
}

func (d *Device) prev(i, n int) int {
	if i == 0 {
		return n - 1
	}
	return i - 1
}

// txInFlight returns the number of descriptors the device owns.
func (d *Device) txInFlight() int {
	k := d.txTail - d.txClean
	if k < 0 {
		k += d.txN
	}
	return k
}

// Transmit implements netif.Device. It takes ownership of frames[:n]. Frames
// it cannot send (empty or longer than MaxFrame) are freed and counted. It
// stops when the TX ring is full and writes TDT once.
func (d *Device) Transmit(frames []*pbuf.Buf) int {
	d.reclaim(d.txN)
	n := 0
	for _, b := range frames {
		if d.txInFlight() == d.txN-1 {
			d.stats.TxFull++
			break
		}
		n++
		length := b.Len()
		if length == 0 || length > MaxFrame {
			d.stats.TxBadFrame++
			b.Free()
			continue
		}
		i := d.txTail
		var addr uint64
		if b.Pool() == d.pool && length >= minFrame {
			// In place: pool slots never cross a page.
			addr = b.BusAddr()
			d.txBufs[i] = b
		} else {
			buf := d.bounce[i*BufSize : (i+1)*BufSize]
			copy(buf, b.Bytes())
			if length < minFrame {
				clear(buf[length:minFrame])
				length = minFrame
			}
			addr = d.region.Bus(d.bounceAt + i*BufSize)
			b.Free()
			d.stats.TxCopied++
		}
		w := d.tx[4*i : 4*i+4 : 4*i+4]
		w[0], w[1], w[2], w[3] = uint32(addr), uint32(addr>>32), uint32(length)|txCmd, 0
		if d.txInFlight() == 0 {
			d.txSince = d.clk.Now()
		}
		d.txTail = d.next(i, d.txN)
		d.stats.TxFrames++
		d.stats.TxBytes += uint64(length)
	}
	if n > 0 {
		dma.WriteBarrier()
		d.regs.Write32(regTDT, uint32(d.txTail))
	}
	return n
}

// reclaim frees the Bufs of up to budget completed TX descriptors, oldest
// first, and resets a stalled ring. It returns the descriptors reclaimed.
func (d *Device) reclaim(budget int) int {
	k := 0
	for d.txClean != d.txTail && k < budget {
		i := d.txClean
		if atomic.LoadUint32(&d.tx[4*i+3])&txStaDD == 0 {
			break
		}
		if b := d.txBufs[i]; b != nil {
			d.txBufs[i] = nil
			b.Free()
		}
		d.txClean = d.next(i, d.txN)
		k++
	}
	if k > 0 {
		d.stats.TxCompleted += uint64(k)
		d.txSince = d.clk.Now()
	} else if d.txClean != d.txTail && d.clk.Now().Sub(d.txSince) > d.cfg.TxTimeout {
		d.resetTx()
	}
	return k
}

// resetTx recovers from a device that stopped completing transmissions: it
// disables the transmitter, so the device no longer owns any descriptor,
// frees the in-flight Bufs and re-arms an empty ring.
func (d *Device) resetTx() {
	d.stats.TxStalls++
	d.regs.Write32(regTCTL, 0)
	for i, b := range d.txBufs {
		if b != nil {
			d.txBufs[i] = nil
			b.Free()
		}
	}
	d.initTx()
}

// Service does bounded housekeeping found from descriptor status bits only:
// it reclaims up to budget completed TX descriptors and moves up to budget
// received frames into a queue that Receive drains (at most RxRing frames
// wait there), refilling the RX ring. A hypervisor calls it whenever it has
// control anyway, for example when it traps a guest's read of the interrupt
// cause register; it reads no register with side effects (never ICR) and
// takes no interrupt cause from anyone. It returns the frames harvested and
// the TX descriptors reclaimed.
func (d *Device) Service(budget int) (rx, tx int) {
	if budget <= 0 {
		return 0, 0
	}
	tx = d.reclaim(budget)
	if room := d.readyMx - d.ready.Len(); room > 0 {
		rx = d.harvest(nil, min(budget, room))
	}
	return rx, tx
}

// Pending reports, from descriptor memory only, whether a received frame or
// a TX completion is waiting: a cheap test before calling Service.
func (d *Device) Pending() bool {
	if d.ready.Len() > 0 {
		return true
	}
	if d.rxNext != d.rxTail && atomic.LoadUint32(&d.rx[4*d.rxNext+3])&rxStatusDD != 0 {
		return true
	}
	return d.txClean != d.txTail && atomic.LoadUint32(&d.tx[4*d.txClean+3])&txStaDD != 0
}

// UpdateStats reads every statistics register (each clears on read) and adds
// it to the accumulated hardware counters. Only this driver may read them:
// where a guest's driver shares the device, leave them to it.
func (d *Device) UpdateStats() {
	h := &d.stats.HW
	r := d.regs
	h.CRCErrors += uint64(r.Read32(regCRCERRS))
	h.AlignErrors += uint64(r.Read32(regALGNERRC))
	h.SymbolErrors += uint64(r.Read32(regSYMERRS))
	h.RxErrors += uint64(r.Read32(regRXERRC))
	h.Missed += uint64(r.Read32(regMPC))
	h.NoBuffers += uint64(r.Read32(regRNBC))
	h.LengthErrors += uint64(r.Read32(regRLEC))
	h.Undersize += uint64(r.Read32(regRUC))
	h.Oversize += uint64(r.Read32(regROC))
	h.Collisions += uint64(r.Read32(regCOLC))
	h.SingleColl += uint64(r.Read32(regSCC))
	h.ExcessColl += uint64(r.Read32(regECOL))
	h.GoodRx += uint64(r.Read32(regGPRC))
	h.GoodTx += uint64(r.Read32(regGPTC))
	h.BroadcastRx += uint64(r.Read32(regBPRC))
	h.MulticastRx += uint64(r.Read32(regMPRC))
	lo := uint64(r.Read32(regGORCL)) // low first: reading the high half clears both
	h.GoodRxOctets += lo | uint64(r.Read32(regGORCH))<<32
	lo = uint64(r.Read32(regGOTCL))
	h.GoodTxOctets += lo | uint64(r.Read32(regGOTCH))<<32
	h.TotalRx += uint64(r.Read32(regTPR))
	h.TotalTx += uint64(r.Read32(regTPT))
}

// Stats returns the counters (hardware ones as of the last UpdateStats).
func (d *Device) Stats() Stats { return d.stats }

// Close stops the device (receiver and transmitter off, bus mastering off if
// Config.PCI was given), frees the ring buffers and releases the DMA memory.
// The stack must no longer hold Bufs of Pool: their memory goes away.
func (d *Device) Close() error {
	d.regs.Write32(regRCTL, 0)
	d.regs.Write32(regTCTL, 0)
	d.regs.Write32(regIMC, 0xFFFFFFFF)
	if d.pcfg != nil {
		_ = pci.DisableBusMaster(d.pcfg)
	}
	return d.free()
}

func (d *Device) free() error {
	if d.region == nil {
		return nil
	}
	for i, b := range d.rxBufs {
		if b != nil {
			d.rxBufs[i] = nil
			b.Free()
		}
	}
	for i, b := range d.txBufs {
		if b != nil {
			d.txBufs[i] = nil
			b.Free()
		}
	}
	d.ready.FreeAll()
	r := d.region
	d.region = nil
	return d.alloc.Free(r)
}
