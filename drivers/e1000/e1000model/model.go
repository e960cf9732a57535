// Package e1000model is a register-level model of the Intel 82540EM for
// testing drivers/e1000 without hardware: it implements mmio.Window (BAR0)
// and pci.Config, and does DMA into platform/dma/dmatest memory.
//
// It models what the driver depends on, with the side effects of the real
// part and of QEMU's model (facts/qemu-e1000.md §11): ICR clears on read, the
// statistics registers clear on read (64-bit octet counters when their high
// half is read), CTRL.RST self-clears and resets the registers, EERD reads
// the EEPROM, RAL0/RAH0 come preloaded with the MAC and AV, TX is
// synchronous on a TDT write (DD written back only with RS), RX needs
// RCTL.EN, bus mastering and link up and stops at RDT (RDH == RDT means no
// descriptor: RNBC and MPC count the drop, ICR.RXO is raised).
//
// Faults a test can switch on: link down, a transmitter that never completes
// (TDT writes ignored), a reset that never completes, an EEPROM that never
// answers, lying RX lengths, RX write-back without EOP, error bits, DD
// written on the descriptor at RDT (which the device does not own).
//
// All methods are safe for concurrent use; frames reach the wire through
// OnTransmit, which runs with the model's lock held (so a callback may
// Inject into another model, but two models must not feed each other from
// two goroutines).
package e1000model

import (
	"encoding/binary"
	"sync"

	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/platform/dma/dmatest"
	"github.com/lwgo/lwgo/platform/pci"
)

// Register offsets (drivers/e1000 keeps its own unexported copy; the model
// is written from the datasheet independently).
const (
	CTRL   = 0x0000
	STATUS = 0x0008
	EERD   = 0x0014
	ICR    = 0x00C0
	ICS    = 0x00C8
	IMS    = 0x00D0
	IMC    = 0x00D8
	RCTL   = 0x0100
	TCTL   = 0x0400
	RDBAL  = 0x2800
	RDBAH  = 0x2804
	RDLEN  = 0x2808
	RDH    = 0x2810
	RDT    = 0x2818
	TDBAL  = 0x3800
	TDBAH  = 0x3804
	TDLEN  = 0x3808
	TDH    = 0x3810
	TDT    = 0x3818
	RAL0   = 0x5400
	RAH0   = 0x5404

	CRCERRS = 0x4000
	MPC     = 0x4010
	GPRC    = 0x4074
	GPTC    = 0x4080
	GORCL   = 0x4088
	GORCH   = 0x408C
	GOTCL   = 0x4090
	GOTCH   = 0x4094
	RNBC    = 0x40A0
	TPR     = 0x40D0
	TPT     = 0x40D4

	// Size is the BAR0 window: 128 KiB.
	Size = 0x20000
)

// ICR causes.
const (
	ICRTXDW = 0x01
	ICRLSC  = 0x04
	ICRRXO  = 0x40
	ICRRXT0 = 0x80
)

const (
	ctrlRST  = 1 << 26
	statusLU = 1 << 1
	rctlEN   = 1 << 1
	rctlUPE  = 1 << 3
	rctlMPE  = 1 << 4
	rctlBAM  = 1 << 15
	rctlSECR = 1 << 26
	tctlEN   = 1 << 1
	rahAV    = 1 << 31

	rxDD   = 1 << 0
	rxEOP  = 1 << 1
	txEOP  = 1 << 0 // in the CMD byte
	txRS   = 1 << 3
	txDEXT = 1 << 5
	txDD   = 1 << 0
)

// Faults are behaviours a test switches on to play an untrusted or broken
// device.
type Faults struct {
	StallTX      bool   // TDT writes are ignored: nothing is ever transmitted or completed
	ResetStuck   bool   // CTRL.RST never clears
	EEPROMStuck  bool   // EERD never reports DONE
	NoPresetMAC  bool   // RAL0/RAH0 start empty (MAC only in the EEPROM)
	LieLength    uint16 // when non-zero, RX descriptors report this length
	NoEOP        bool   // RX write-back without EOP
	RxErrorBits  uint8  // RX write-back with these error bits
	DDOnTail     bool   // also set DD on the descriptor at RDT when receiving
	DropTXStatus bool   // process TX but never write DD back
}

// Counters are the model's own observations.
type Counters struct {
	ICRReads    int // reads of ICR (a piggyback driver must never do this)
	StatReads   int // reads of statistics registers
	RCTLWrites  int // each restarts QEMU's 1 s receive hold-off
	RCTLEnables int // RCTL writes with EN set
	TDTWrites   int
	RDTWrites   int
	Resets      int
	TxFrames    int // frames put on the wire
	TxDropped   int // frames transmitted while the link was down
	RxDelivered int // frames written into RX descriptors
	RxNoDesc    int // frames dropped for lack of a descriptor
	RxRefused   int // frames dropped: receiver off, link down, no bus mastering, filtered
	DMAFaults   int // descriptor or buffer addresses the memory refused
}

// Model is one simulated 82540EM.
type Model struct {
	mu     sync.Mutex
	mem    *dmatest.Memory
	regs   []uint32
	eeprom [64]uint16
	mac    wire.MAC
	cfg    cfgSpace
	link   bool

	faults Faults
	cnt    Counters
	frame  []byte // TX assembly scratch

	// OnTransmit receives each transmitted frame (without FCS). The slice
	// is valid only during the call. It runs with the model's lock held.
	OnTransmit func(frame []byte)
}

// New returns a model with the given MAC, doing DMA into mem, link up,
// in its reset state, and PCI command = 0x0103 (memory on, bus mastering off,
// as SeaBIOS leaves it).
func New(mem *dmatest.Memory, mac wire.MAC) *Model {
	m := &Model{mem: mem, regs: make([]uint32, Size/4), mac: mac, link: true, frame: make([]byte, 0, 16384)}
	for i := range 3 {
		m.eeprom[i] = uint16(mac[2*i]) | uint16(mac[2*i+1])<<8
	}
	m.cfg.model = m
	c := &m.cfg.ConfigMem
	c.WriteConfig(pci.RegVendorID, 4, 0x100e8086)
	c.WriteConfig(pci.RegCommand, 2, 0x0103)
	c.WriteConfig(0x0A, 2, 0x0200) // class 02 (network), subclass 00 (Ethernet)
	m.reset()
	return m
}

// reset puts the registers in their power-on state (§13: most are zero).
func (m *Model) reset() {
	clear(m.regs)
	m.regs[CTRL/4] = 0x00140240
	m.regs[STATUS/4] = 0x80080783 &^ statusLU
	if m.link {
		m.regs[STATUS/4] |= statusLU
	}
	if !m.faults.NoPresetMAC {
		m.regs[RAL0/4] = binary.LittleEndian.Uint32(m.mac[:4])
		m.regs[RAH0/4] = uint32(binary.LittleEndian.Uint16(m.mac[4:])) | rahAV
	}
	m.cnt.Resets++
}

// SetFaults replaces the fault configuration. NoPresetMAC takes effect at
// the next reset.
func (m *Model) SetFaults(f Faults) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.faults = f
}

// SetLink sets the link state (STATUS.LU) and raises ICR.LSC.
func (m *Model) SetLink(up bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.link = up
	if up {
		m.regs[STATUS/4] |= statusLU
	} else {
		m.regs[STATUS/4] &^= statusLU
	}
	m.regs[ICR/4] |= ICRLSC
}

// Counters returns the model's observations.
func (m *Model) Counters() Counters {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cnt
}

// Config returns the function's PCI configuration space.
func (m *Model) Config() pci.Config { return &m.cfg }

// Peek returns a register without side effects (for test assertions).
func (m *Model) Peek(off uint32) uint32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.regs[off/4]
}

// Read32 implements mmio.Window with the device's read side effects.
func (m *Model) Read32(off uint32) uint32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if off&3 != 0 || off >= Size {
		panic("e1000model: bad register offset")
	}
	v := m.regs[off/4]
	switch {
	case off == ICR:
		m.cnt.ICRReads++
		m.regs[off/4] = 0
	case off >= 0x4000 && off < 0x4100:
		m.cnt.StatReads++
		switch off {
		case GORCL, GOTCL: // cleared with the high half
		default:
			m.regs[off/4] = 0
			if off == GORCH || off == GOTCH {
				m.regs[off/4-1] = 0
			}
		}
	}
	return v
}

// Write32 implements mmio.Window with the device's write side effects.
func (m *Model) Write32(off uint32, v uint32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if off&3 != 0 || off >= Size {
		panic("e1000model: bad register offset")
	}
	switch off {
	case CTRL:
		if v&ctrlRST != 0 {
			if m.faults.ResetStuck {
				m.regs[CTRL/4] |= ctrlRST
				return
			}
			m.reset()
			return
		}
		m.regs[CTRL/4] = v
	case STATUS, ICR:
		// STATUS is read-only; ICR writes clear bits (write 1 to clear).
		if off == ICR {
			m.regs[ICR/4] &^= v
		}
	case ICS:
		m.regs[ICR/4] |= v
	case IMS:
		m.regs[IMS/4] |= v
	case IMC:
		m.regs[IMS/4] &^= v
	case EERD:
		m.regs[EERD/4] = v &^ 0x10
		if v&1 != 0 && !m.faults.EEPROMStuck {
			a := (v >> 8) & 0xFF
			var w uint16
			if int(a) < len(m.eeprom) {
				w = m.eeprom[a]
			}
			m.regs[EERD/4] = uint32(w)<<16 | a<<8 | 0x10
		}
	case RCTL:
		m.cnt.RCTLWrites++
		if v&rctlEN != 0 {
			m.cnt.RCTLEnables++
		}
		m.regs[RCTL/4] = v
	case RDH, TDH:
		m.regs[off/4] = v & 0xFFFF
	case RDT:
		m.cnt.RDTWrites++
		m.regs[RDT/4] = v & 0xFFFF
	case TDT:
		m.cnt.TDTWrites++
		m.regs[TDT/4] = v & 0xFFFF
		if !m.faults.StallTX {
			m.transmit()
		}
	default:
		m.regs[off/4] = v
	}
}

func (m *Model) busMaster() bool {
	c, _ := m.cfg.ConfigMem.ReadConfig(pci.RegCommand, 2)
	return c&pci.CmdBusMaster != 0
}

func (m *Model) ringLen(lenReg uint32) uint32 { return m.regs[lenReg/4] / 16 }

func (m *Model) ring(lo, hi uint32) uint64 {
	return (uint64(m.regs[hi/4])<<32 | uint64(m.regs[lo/4])) &^ 0xF
}

// transmit processes TX descriptors from TDH to TDT, as QEMU does
// synchronously on the TDT write.
func (m *Model) transmit() {
	if m.regs[TCTL/4]&tctlEN == 0 || !m.busMaster() {
		return
	}
	n := m.ringLen(TDLEN)
	if n == 0 {
		return
	}
	base := m.ring(TDBAL, TDBAH)
	for guard := uint32(0); m.regs[TDH/4] != m.regs[TDT/4] && guard < n; guard++ {
		h := m.regs[TDH/4]
		if h >= n || m.regs[TDT/4] >= n {
			return
		}
		d, ok := m.mem.Slice(base+uint64(h)*16, 16)
		if !ok {
			m.cnt.DMAFaults++
			return
		}
		addr := binary.LittleEndian.Uint64(d[0:])
		length := int(binary.LittleEndian.Uint16(d[8:]))
		cmd := d[11]
		if cmd&txDEXT == 0 && length > 0 {
			if b, ok := m.mem.Slice(addr, length); ok {
				if len(m.frame)+length <= cap(m.frame) {
					m.frame = append(m.frame, b...)
				}
			} else {
				m.cnt.DMAFaults++
			}
		}
		if cmd&txRS != 0 && !m.faults.DropTXStatus {
			storeStatus(d, uint32(d[12])|txDD)
		}
		if cmd&txEOP != 0 {
			if m.link {
				m.cnt.TxFrames++
				m.regs[GPTC/4]++
				m.regs[TPT/4]++
				m.regs[GOTCL/4] += uint32(len(m.frame))
				if m.OnTransmit != nil {
					m.OnTransmit(m.frame)
				}
			} else {
				m.cnt.TxDropped++
			}
			m.frame = m.frame[:0]
		}
		m.regs[TDH/4] = (h + 1) % n
	}
	m.regs[ICR/4] |= ICRTXDW
}

// Inject delivers a frame (without FCS) from the wire, as the receive side of
// the MAC would, and reports whether it was written into a descriptor.
func (m *Model) Inject(frame []byte) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.regs[RCTL/4]&rctlEN == 0 || !m.link || !m.busMaster() || len(frame) < 14 {
		m.cnt.RxRefused++
		return false
	}
	if !m.accept(frame) {
		m.cnt.RxRefused++
		return false
	}
	n := m.ringLen(RDLEN)
	h, t := m.regs[RDH/4], m.regs[RDT/4]
	if n == 0 || h >= n || t >= n || h == t {
		m.cnt.RxNoDesc++
		m.regs[RNBC/4]++
		m.regs[MPC/4]++
		m.regs[ICR/4] |= ICRRXO
		return false
	}
	base := m.ring(RDBAL, RDBAH)
	d, ok := m.mem.Slice(base+uint64(h)*16, 16)
	if !ok {
		m.cnt.DMAFaults++
		return false
	}
	const bufSize = 2048 // RCTL.BSIZE = 00, BSEX = 0
	if len(frame) > bufSize {
		m.cnt.RxRefused++
		return false
	}
	addr := binary.LittleEndian.Uint64(d[0:])
	buf, ok := m.mem.Slice(addr, len(frame))
	if !ok {
		m.cnt.DMAFaults++
		return false
	}
	copy(buf, frame)
	length := uint16(len(frame))
	if m.faults.LieLength != 0 {
		length = m.faults.LieLength
	}
	binary.LittleEndian.PutUint16(d[8:], length)
	binary.LittleEndian.PutUint16(d[10:], 0)
	st := uint32(rxDD | rxEOP)
	if m.faults.NoEOP {
		st &^= rxEOP
	}
	st |= uint32(m.faults.RxErrorBits) << 8
	storeStatus(d, st)
	if m.faults.DDOnTail {
		if g, ok := m.mem.Slice(base+uint64(t)*16, 16); ok {
			storeStatus(g, rxDD|rxEOP)
		}
	}
	m.regs[RDH/4] = (h + 1) % n
	m.regs[GPRC/4]++
	m.regs[TPR/4]++
	m.regs[GORCL/4] += uint32(len(frame)) + 4
	m.regs[ICR/4] |= ICRRXT0
	m.cnt.RxDelivered++
	return true
}

// accept applies the receive address filter: our unicast address (RAL0/RAH0
// with AV), broadcast with BAM, everything with UPE/MPE.
func (m *Model) accept(f []byte) bool {
	rctl := m.regs[RCTL/4]
	dst := f[:6]
	if dst[0]&1 != 0 {
		if rctl&rctlMPE != 0 {
			return true
		}
		bcast := true
		for _, b := range dst {
			bcast = bcast && b == 0xFF
		}
		return bcast && rctl&rctlBAM != 0
	}
	if rctl&rctlUPE != 0 {
		return true
	}
	if m.regs[RAH0/4]&rahAV == 0 {
		return false
	}
	return binary.LittleEndian.Uint32(dst[:4]) == m.regs[RAL0/4] &&
		binary.LittleEndian.Uint16(dst[4:]) == uint16(m.regs[RAH0/4])
}

// cfgSpace is the model's configuration space: memory, except that the
// command register's bus-master bit is what gates DMA.
type cfgSpace struct {
	pci.ConfigMem
	model *Model
}

func (c *cfgSpace) ReadConfig(off uint16, width int) (uint32, error) {
	if c.model != nil {
		c.model.mu.Lock()
		defer c.model.mu.Unlock()
	}
	return c.ConfigMem.ReadConfig(off, width)
}

func (c *cfgSpace) WriteConfig(off uint16, width int, v uint32) error {
	if c.model != nil {
		c.model.mu.Lock()
		defer c.model.mu.Unlock()
	}
	return c.ConfigMem.WriteConfig(off, width, v)
}
