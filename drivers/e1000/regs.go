package e1000

// Register offsets in BAR0 and their bits. Names follow the Intel PCI/PCI-X
// Family of Gigabit Ethernet Controllers Software Developer's Manual
// (8254x, 317453) §13; values from facts/nics.md §2 (QEMU hw/net/e1000_regs.h,
// iPXE intel.h).
const (
	regCTRL   = 0x0000 // Device Control, §13.4.1
	regSTATUS = 0x0008 // Device Status, §13.4.2
	regEERD   = 0x0014 // EEPROM Read, §13.4.4
	regICR    = 0x00C0 // Interrupt Cause Read (clear-on-read), §13.4.17; never read by this driver
	regIMS    = 0x00D0 // Interrupt Mask Set
	regIMC    = 0x00D8 // Interrupt Mask Clear, §13.4.21
	regRCTL   = 0x0100 // Receive Control, §13.4.22
	regTCTL   = 0x0400 // Transmit Control, §13.4.33
	regTIPG   = 0x0410 // Transmit IPG, §13.4.34
	regRDBAL  = 0x2800 // RX Descriptor Base Low, §13.4.25
	regRDBAH  = 0x2804
	regRDLEN  = 0x2808 // RX Descriptor Length (multiple of 128)
	regRDH    = 0x2810 // RX Descriptor Head
	regRDT    = 0x2818 // RX Descriptor Tail
	regRDTR   = 0x2820 // RX Delay Timer
	regTDBAL  = 0x3800 // TX Descriptor Base Low, §13.4.38
	regTDBAH  = 0x3804
	regTDLEN  = 0x3808
	regTDH    = 0x3810
	regTDT    = 0x3818
	regMTA    = 0x5200 // Multicast Table Array, 128 registers
	regRAL0   = 0x5400 // Receive Address Low
	regRAH0   = 0x5404 // Receive Address High
)

// Statistics registers, §13.7: all clear on read. 64-bit octet counters
// clear when their high half is read, so the low half is read first.
const (
	regCRCERRS  = 0x4000 // CRC errors
	regALGNERRC = 0x4004 // alignment errors
	regSYMERRS  = 0x4008 // symbol errors
	regRXERRC   = 0x400C // RX errors
	regMPC      = 0x4010 // missed packets (RX FIFO full)
	regSCC      = 0x4014 // single collisions
	regECOL     = 0x4018 // excessive collisions
	regCOLC     = 0x4028 // collisions
	regRLEC     = 0x4040 // receive length errors
	regGPRC     = 0x4074 // good packets received
	regBPRC     = 0x4078 // broadcast packets received
	regMPRC     = 0x407C // multicast packets received
	regGPTC     = 0x4080 // good packets transmitted
	regGORCL    = 0x4088 // good octets received, low
	regGORCH    = 0x408C
	regGOTCL    = 0x4090 // good octets transmitted, low
	regGOTCH    = 0x4094
	regRNBC     = 0x40A0 // receive no buffers (descriptor ring empty)
	regRUC      = 0x40A4 // receive undersize
	regROC      = 0x40AC // receive oversize
	regTPR      = 0x40D0 // total packets received
	regTPT      = 0x40D4 // total packets transmitted
)

// CTRL bits.
const (
	ctrlFD      = 1 << 0  // full duplex
	ctrlLRST    = 1 << 3  // link reset
	ctrlASDE    = 1 << 5  // auto-speed detection
	ctrlSLU     = 1 << 6  // set link up
	ctrlILOS    = 1 << 7  // invert loss-of-signal
	ctrlFRCSPD  = 1 << 11 // force speed
	ctrlFRCDPLX = 1 << 12 // force duplex
	ctrlRST     = 1 << 26 // device reset, self-clearing
	ctrlVME     = 1 << 30 // VLAN mode
	ctrlPHYRST  = 1 << 31 // PHY reset
)

// STATUS bits.
const (
	statusFD        = 1 << 0
	statusLU        = 1 << 1 // link up
	statusSpeedMask = 3 << 6 // 00 10, 01 100, 1x 1000 Mb/s
)

// EERD, 8254x "small" format (§13.4.4): START bit 0, DONE bit 4, address in
// bits 15:8, data in 31:16.
const (
	eerdStart     = 1 << 0
	eerdDone      = 1 << 4
	eerdAddrShift = 8
	eerdDataShift = 16
)

// RCTL bits.
const (
	rctlEN    = 1 << 1
	rctlSBP   = 1 << 2 // store bad packets
	rctlUPE   = 1 << 3 // unicast promiscuous
	rctlMPE   = 1 << 4 // multicast promiscuous
	rctlLPE   = 1 << 5 // long packets
	rctlBAM   = 1 << 15
	rctlBSIZE = 0 << 16 // 2048-byte buffers (with BSEX = 0)
	rctlSECRC = 1 << 26 // strip Ethernet CRC
)

// TCTL bits and the values of §14.5 (full duplex).
const (
	tctlEN      = 1 << 1
	tctlPSP     = 1 << 3 // pad short packets
	tctlCTShift = 4      // collision threshold
	tctlCOLDSh  = 12     // collision distance
	tctlValue   = tctlEN | tctlPSP | 0x0F<<tctlCTShift | 0x40<<tctlCOLDSh
	tipgValue   = 10 | 8<<10 | 6<<20 // IPGT, IPGR1, IPGR2 for copper (§13.4.34)
)

// RAH bits.
const rahAV = 1 << 31 // address valid

// Legacy descriptor fields (§3.2.3, §3.3.3). As 32-bit little-endian words:
// word 0–1 buffer address; RX word 2 = length | checksum<<16, word 3 =
// status | errors<<8 | special<<16; TX word 2 = length | CSO<<16 | CMD<<24,
// word 3 = STA | CSS<<8 | special<<16.
const (
	descSize = 16

	rxStatusDD   = 1 << 0 // descriptor done
	rxStatusEOP  = 1 << 1 // end of packet
	rxStatusIXSM = 1 << 2 // ignore checksum indication
	rxErrorsMask = 0xFF << 8
	rxErrCE      = 1 << 8  // CRC or alignment error
	rxErrSE      = 1 << 9  // symbol error
	rxErrSEQ     = 1 << 10 // sequence error
	rxErrCXE     = 1 << 12 // carrier extension error
	rxErrRXE     = 1 << 15 // RX data error
	// rxFrameErrors discard a frame. TCPE (bit 13) and IPE (bit 14) only
	// report checksum results, which the stack verifies itself.
	rxFrameErrors = rxErrCE | rxErrSE | rxErrSEQ | rxErrCXE | rxErrRXE

	txCmdEOP  = 1 << 24 // end of packet
	txCmdIFCS = 1 << 25 // insert FCS
	txCmdRS   = 1 << 27 // report status (QEMU writes DD back only with RS)
	txCmd     = txCmdEOP | txCmdIFCS | txCmdRS
	txStaDD   = 1 << 0
)
