//go:build linux

package tap

import (
	"encoding/binary"
	"errors"
	"hash/fnv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
)

// Offload selects what the kernel may hand over in vnet-header mode
// (TUNSETOFFLOAD's TUN_F_* flags).
type Offload uint8

// Offloads.
const (
	// OffloadCsum lets the kernel send checksum-partial frames
	// (TUN_F_CSUM); Receive completes their checksums.
	OffloadCsum Offload = 1 << iota
	// OffloadTSO4 lets the kernel send TCPv4 super-frames of up to 64 KiB
	// (TUN_F_TSO4, which needs TUN_F_CSUM); Receive cuts them into
	// MSS-sized frames. It costs one copy per byte but saves the per-frame
	// read, the dearest part of the TAP's receive path.
	OffloadTSO4
	// OffloadTxCsum offers the stack checksum offload on transmit
	// (netif.Caps.TxChecksumOffload): frames flagged
	// pbuf.TxL4ChecksumPartial go out with VIRTIO_NET_HDR_F_NEEDS_CSUM and
	// the kernel completes them, or trusts them on local delivery.
	OffloadTxCsum
	// OffloadTxTSO4 offers TCP segmentation offload on transmit
	// (netif.Caps.TSOMax = 65535; implies OffloadTxCsum): the stack hands
	// over TCPv4 super-segments of up to 64 KiB, written with
	// VIRTIO_NET_HDR_GSO_TCPV4, one write(2) each.
	OffloadTxTSO4
)

// Config configures a TAP device. Only Name is required.
type Config struct {
	// Name is the interface name, 1 to 15 bytes, no '%' or '/'. The device
	// must not exist yet: Open creates it (IFF_TUN_EXCL) and it disappears
	// when the Device is closed.
	Name string
	// MAC is the stack's hardware address. The zero MAC selects a locally
	// administered unicast address 02:xx:xx:xx:xx:xx derived from Name.
	MAC wire.MAC
	// MTU is the IP MTU the device reports; default 1500. The kernel side
	// of the TAP should be given the same MTU.
	MTU int
	// VnetHdr opens the TAP with IFF_VNET_HDR: every frame is preceded by a
	// struct virtio_net_hdr. Off by default.
	VnetHdr bool
	// Offload sets TUNSETOFFLOAD; it needs VnetHdr. OffloadTSO4 implies
	// OffloadCsum.
	Offload Offload
	// GRO, with OffloadTSO4, hands a TCPv4 super-frame from the kernel to
	// the stack whole, as one TCP segment of up to 64 KiB, in a buffer of
	// the device's own pool (GROBufs of them, allocated by Open), instead of
	// cutting it into MSS-sized frames: one copy (the read) and one TCP
	// input per super-frame, as Linux's GRO gives its own TCP. When every
	// GRO buffer is held (the application has not read them), super-frames
	// are cut as without GRO.
	GRO bool
	// GROBufs is the number of GRO buffers; default 16 (about 2 MiB).
	GROBufs int
	// RetryDelay is how long the Notify goroutine waits before waking the
	// loop again when Receive could not make progress (the pool was empty,
	// or a read failed). Default 200 µs.
	RetryDelay time.Duration
}

// Stats are the device's counters. Read them on the stack's goroutine.
type Stats struct {
	RxFrames, RxBytes uint64 // frames handed to the stack (segments count one by one) and their bytes
	RxReads           uint64 // successful reads
	RxGSO             uint64 // TCPv4 super-frames read
	RxGSOSegs         uint64 // frames cut from them
	RxGRO             uint64 // super-frames handed over whole (GRO)
	RxCsumCompleted   uint64 // checksum-partial frames whose checksum Receive completed
	RxNoBuf           uint64 // Receive calls that stopped because the pool was empty
	RxRunts           uint64 // reads too short for an Ethernet (and virtio) header: dropped
	RxOversize        uint64 // frames larger than a slot (the kernel cuts them to the buffer): dropped
	RxBad             uint64 // frames with a virtio header we cannot honour: dropped
	RxErrors          uint64 // failed reads other than EAGAIN
	TxFrames, TxBytes uint64 // frames written and their bytes (without the virtio header)
	TxAgain           uint64 // Transmit calls cut short by EAGAIN
	TxErrors          uint64 // frames whose write failed: dropped
}

// Errors of Open.
var (
	ErrName   = errors.New("tap: bad interface name")
	ErrConfig = errors.New("tap: Offload needs VnetHdr")
	ErrClosed = errors.New("tap: device closed")
	ErrNotify = errors.New("tap: Notify called twice")
)

const (
	defaultMTU        = 1500
	defaultRetryDelay = 200 * time.Microsecond
	defaultGROBufs    = 16
	// rxOff is where a received frame starts in its Buf: the device headroom,
	// so that a reply built in place (an echo reply) has room for the
	// virtio header in front of it.
	rxOff = pbuf.DeviceHeadroom
	// superFrameLen bounds a TSO super-frame read (the kernel's tun GSO
	// limit is 64 KiB plus headers).
	superFrameLen = 128 << 10
)

// Device is a Linux TAP interface as a netif.Device. Receive, Transmit and
// the accessors are called from the stack's goroutine only and never block;
// Close after the loop has stopped. See the package documentation.
type Device struct {
	fd     int
	name   string
	mac    wire.MAC
	mtu    int
	vnet   bool
	tso    bool
	txCsum bool // OffloadTxCsum
	txTSO  bool // OffloadTxTSO4
	retry  time.Duration
	stats  Stats
	sf     []byte     // super-frame scratch (TSO only)
	gro    *pbuf.Pool // whole super-frames (GRO only)
	gso    gsoFrame
	iov    [2]unix.Iovec
	zero   [vnetHdrLen]byte // a frame's header when its Buf has no headroom for it
	notify *notifier
}

// Open creates the TAP interface cfg.Name in the caller's network namespace
// and returns it as a Device, link up. Only root (CAP_NET_ADMIN) may do this.
func Open(cfg Config) (*Device, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, &OpError{"open /dev/net/tun", err}
	}
	if err := setIff(fd, &cfg); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return newDevice(fd, cfg), nil
}

// setIff attaches fd to a new TAP named cfg.Name and sets its offloads.
func setIff(fd int, cfg *Config) error {
	ifr, err := unix.NewIfreq(cfg.Name)
	if err != nil {
		return ErrName
	}
	flags := uint16(unix.IFF_TAP | unix.IFF_NO_PI | unix.IFF_TUN_EXCL)
	if cfg.VnetHdr {
		flags |= unix.IFF_VNET_HDR
	}
	ifr.SetUint16(flags)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		return &OpError{"TUNSETIFF " + cfg.Name, err}
	}
	if cfg.VnetHdr {
		var off int
		if cfg.Offload&(OffloadCsum|OffloadTSO4) != 0 {
			off |= unix.TUN_F_CSUM
		}
		if cfg.Offload&OffloadTSO4 != 0 {
			off |= unix.TUN_F_TSO4
		}
		if err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, off); err != nil {
			return &OpError{"TUNSETOFFLOAD", err}
		}
	}
	return nil
}

// OpError is a failed system call of Open, Notify or Close.
type OpError struct {
	Op  string
	Err error
}

func (e *OpError) Error() string { return "tap: " + e.Op + ": " + e.Err.Error() }
func (e *OpError) Unwrap() error { return e.Err }

func (c *Config) check() error {
	if c.Name == "" || len(c.Name) >= unix.IFNAMSIZ || strings.ContainsAny(c.Name, "%/ \t\n") {
		return ErrName
	}
	if c.Offload != 0 && !c.VnetHdr {
		return ErrConfig
	}
	if c.MTU == 0 {
		c.MTU = defaultMTU
	}
	if c.MTU < wire.IPv4MinMTU || c.MTU > 65535-wire.EthernetHeaderLen {
		return &OpError{"config", errors.New("MTU out of range")}
	}
	if c.MAC.IsZero() {
		c.MAC = MACFromName(c.Name)
	}
	if c.RetryDelay <= 0 {
		c.RetryDelay = defaultRetryDelay
	}
	if c.GROBufs <= 0 {
		c.GROBufs = defaultGROBufs
	}
	return nil
}

// MACFromName returns the default MAC for an interface name: 02 (locally
// administered, unicast) followed by five bytes of the name's FNV-1a hash.
func MACFromName(name string) wire.MAC {
	h := fnv.New64a()
	h.Write([]byte(name))
	s := h.Sum64()
	return wire.MAC{0x02, byte(s >> 32), byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s)}
}

// newDevice wraps fd, a non-blocking descriptor that reads and writes one
// frame per call. cfg has been checked.
func newDevice(fd int, cfg Config) *Device {
	d := &Device{
		fd: fd, name: cfg.Name, mac: cfg.MAC, mtu: cfg.MTU,
		vnet: cfg.VnetHdr, tso: cfg.VnetHdr && cfg.Offload&OffloadTSO4 != 0,
		txCsum: cfg.VnetHdr && cfg.Offload&(OffloadTxCsum|OffloadTxTSO4) != 0,
		txTSO:  cfg.VnetHdr && cfg.Offload&OffloadTxTSO4 != 0,
		retry:  cfg.RetryDelay,
	}
	if d.tso {
		d.sf = make([]byte, superFrameLen)
		if cfg.GRO {
			d.gro = pbuf.NewPool(max(cfg.GROBufs, 1), rxOff+superFrameLen)
		}
	}
	return d
}

// Name returns the interface name.
func (d *Device) Name() string { return d.name }

// Stats returns a copy of the counters.
func (d *Device) Stats() Stats { return d.stats }

// HardwareAddr implements netif.Device.
func (d *Device) HardwareAddr() wire.MAC { return d.mac }

// MTU implements netif.Device.
func (d *Device) MTU() int { return d.mtu }

// Caps implements netif.Device. Frames whose checksums Receive computed or
// the kernel vouched for (segments, checksum-partial frames) carry the pbuf
// Rx flags; the Tx offloads are those of Config.Offload.
func (d *Device) Caps() netif.Caps {
	c := netif.Caps{RxChecksum: d.vnet, TxChecksumOffload: d.txCsum}
	if d.txTSO {
		c.TSOMax = wire.IPv4MaxTotalLen
	}
	return c
}

// LinkUp implements netif.Device: the link is up while the device is open.
func (d *Device) LinkUp() bool { return d.fd >= 0 }

// Receive implements netif.Device. It reads up to len(dst) frames, one read
// each, straight into Bufs from pool (a frame starts pbuf.DeviceHeadroom
// bytes into its slot). In vnet-header mode it completes checksum-partial
// frames and cuts TCPv4 super-frames into segments, which it may hand over
// across several calls. It stops at EAGAIN, when dst is full, when the pool
// is empty (frames then wait in the kernel's queue) or at a read error; it
// never blocks and drops what it cannot use, counting it in Stats.
func (d *Device) Receive(pool *pbuf.Pool, dst []*pbuf.Buf) int {
	if d.fd < 0 || len(dst) == 0 {
		return 0
	}
	n := 0
	if d.gso.pending() {
		n = d.segments(pool, dst)
		if d.gso.pending() {
			return n // dst full, or the pool ran dry (retry armed)
		}
	}
	vh := 0
	if d.vnet {
		vh = vnetHdrLen
	}
	slot := pool.SlotSize()
	if slot < rxOff+wire.EthernetHeaderLen+d.mtu {
		d.stats.RxNoBuf++ // a pool whose slots cannot hold a frame is as good as empty
		d.rearm(d.retry)
		return n
	}
	// Each iteration reads, or fails to read, one frame: the loop is
	// bounded by len(dst) reads even when every read fails.
	for reads := 0; n < len(dst) && reads < len(dst); reads++ {
		if d.gro != nil && d.gro.Available() > 0 {
			k, more := d.receiveGRO(pool, dst[n:])
			n += k
			if !more {
				return n
			}
			continue
		}
		b, err := pool.Alloc(pbuf.LayerRaw, slot)
		if err != nil {
			d.stats.RxNoBuf++
			d.rearm(d.retry)
			return n
		}
		mem := b.Bytes()
		rb := mem[rxOff-vh:] // header (if any) in the headroom, frame at rxOff
		var m int
		var e unix.Errno
		if d.tso {
			setIovec(&d.iov[0], rb)
			setIovec(&d.iov[1], d.sf[len(rb):])
			m, e = sysReadv2(d.fd, &d.iov)
			d.iov = [2]unix.Iovec{} // keep no pointers into the Buf or scratch
		} else {
			m, e = sysRead(d.fd, rb)
		}
		if e != 0 {
			b.Free()
			if d.readFailed(e) {
				return n
			}
			continue
		}
		d.stats.RxReads++
		if m < vh+wire.EthernetHeaderLen {
			d.stats.RxRunts++
			b.Free()
			continue
		}
		// The kernel truncates a frame larger than the buffer to the
		// buffer's size (it does not fail the read): a full buffer holds a
		// frame that was cut, or one no slot can hold.
		room := len(rb)
		if d.tso {
			room = len(d.sf)
		}
		if m >= room {
			d.stats.RxOversize++
			b.Free()
			continue
		}
		if !d.vnet {
			b.SetWindow(rxOff, rxOff+m)
			dst[n] = b
			n++
			d.count(b)
			continue
		}
		h := decodeVnetHdr(rb)
		if m > len(rb) || h.GSOType != vnetGSONone {
			// Spilled into the scratch, or a super-frame that happened to
			// fit: gather it in the scratch and segment it from there.
			if !d.tso {
				d.stats.RxBad++ // super-frames were not enabled
				b.Free()
				continue
			}
			if h.GSOType == vnetGSONone {
				d.stats.RxOversize++ // a plain frame too big for a slot
				b.Free()
				continue
			}
			copy(d.sf, rb[:min(m, len(rb))])
			b.Free()
			if h.GSOType&^vnetGSOECN != vnetGSOTCPv4 || !d.gso.initGSO(d.sf[vh:m], h, slot-rxOff) {
				d.stats.RxBad++
				continue
			}
			d.stats.RxGSO++
			n += d.segments(pool, dst[n:])
			if d.gso.pending() {
				return n
			}
			continue
		}
		if d.plainFrame(b, h, m-vh) {
			dst[n] = b
			n++
		}
	}
	if n < len(dst) {
		// The read bound ran out on dropped frames: more may be queued, and
		// no EAGAIN has re-armed the notifier. Poll again at once.
		d.rearm(0)
	}
	return n
}

// receiveGRO reads one frame into a GRO buffer. A TCPv4 super-frame goes
// to dst[0] whole, its IPv4 header made consistent and its checksums
// marked verified (the kernel built it: NEEDS_CSUM means no checksum was
// ever computed); any other frame is copied into a buffer from pool, as
// Receive would have read it. It returns the frames stored and whether
// Receive should read on.
func (d *Device) receiveGRO(pool *pbuf.Pool, dst []*pbuf.Buf) (int, bool) {
	if pool.Available() == 0 {
		// A plain frame would have nowhere to go: leave it in the kernel's
		// queue, as Receive does.
		d.stats.RxNoBuf++
		d.rearm(d.retry)
		return 0, false
	}
	g, err := d.gro.Alloc(pbuf.LayerRaw, d.gro.SlotSize())
	if err != nil {
		return 0, true
	}
	mem := g.Bytes()
	rb := mem[rxOff-vnetHdrLen:]
	m, e := sysRead(d.fd, rb)
	if e != 0 {
		g.Free()
		return 0, !d.readFailed(e)
	}
	d.stats.RxReads++
	if m < vnetHdrLen+wire.EthernetHeaderLen {
		d.stats.RxRunts++
		g.Free()
		return 0, true
	}
	if m >= len(rb) {
		d.stats.RxOversize++ // cut by the kernel to the buffer
		g.Free()
		return 0, true
	}
	h := decodeVnetHdr(rb)
	frame := mem[rxOff : rxOff+m-vnetHdrLen]
	if h.GSOType != vnetGSONone {
		var gf gsoFrame
		if h.GSOType&^vnetGSOECN != vnetGSOTCPv4 || !gf.initGSO(frame, h, len(frame)+1) ||
			len(frame)-gf.ipOff > 0xffff {
			d.stats.RxBad++
			g.Free()
			return 0, true
		}
		ip := frame[gf.ipOff:gf.tcpOff]
		binary.BigEndian.PutUint16(ip[offIPTotalLen:], uint16(len(frame)-gf.ipOff))
		binary.BigEndian.PutUint16(ip[offIPCsum:], 0)
		binary.BigEndian.PutUint16(ip[offIPCsum:], wire.Fold(wire.Checksum(ip, 0)))
		g.SetWindow(rxOff, rxOff+len(frame))
		g.Flags |= pbuf.RxIPv4ChecksumOK | pbuf.RxL4ChecksumOK
		dst[0] = g
		d.stats.RxGSO++
		d.stats.RxGRO++
		d.count(g)
		return 1, true
	}
	// A plain frame: into a pool buffer, as Receive reads them.
	if len(frame) > pool.SlotSize()-rxOff {
		d.stats.RxOversize++
		g.Free()
		return 0, true
	}
	b, err := pool.Alloc(pbuf.LayerRaw, pool.SlotSize())
	if err != nil {
		g.Free()
		d.stats.RxNoBuf++
		d.rearm(d.retry)
		return 0, false
	}
	copy(b.Bytes()[rxOff:], frame)
	g.Free()
	if !d.plainFrame(b, h, len(frame)) {
		return 0, true
	}
	dst[0] = b
	return 1, true
}

// readFailed accounts for a failed read (e != 0) and reports whether
// Receive must stop: at EAGAIN (re-arming the notifier), or at an error
// that says the device is going away. EINTR, and EFAULT, EINVAL or
// EMSGSIZE (the kernel refused our buffer and dropped the frame), let it
// read on.
func (d *Device) readFailed(e unix.Errno) bool {
	switch e {
	case unix.EAGAIN:
		d.rearm(0)
		return true
	case unix.EINTR:
		return false
	}
	d.stats.RxErrors++
	if e != unix.EFAULT && e != unix.EINVAL && e != unix.EMSGSIZE {
		d.rearm(d.retry)
		return true
	}
	return false
}

// plainFrame finishes a frame of n bytes read at rxOff into b with virtio
// header h: it completes a checksum-partial frame's checksum, sets the
// window and counts it. It reports false, freeing b, for a header it
// cannot honour.
func (d *Device) plainFrame(b *pbuf.Buf, h vnetHdr, n int) bool {
	if h.Flags&vnetFNeedsCsum != 0 {
		if !completeChecksum(b.Bytes()[rxOff:rxOff+n], int(h.CsumStart), int(h.CsumOffset)) {
			d.stats.RxBad++
			b.Free()
			return false
		}
		d.stats.RxCsumCompleted++
		b.Flags |= pbuf.RxL4ChecksumOK
	}
	b.SetWindow(rxOff, rxOff+n)
	d.count(b)
	return true
}

// segments moves pending super-frame segments into dst and returns how many.
func (d *Device) segments(pool *pbuf.Pool, dst []*pbuf.Buf) int {
	n := 0
	for n < len(dst) && d.gso.pending() {
		b, err := pool.Alloc(pbuf.LayerRaw, pool.SlotSize())
		if err != nil {
			d.stats.RxNoBuf++
			d.rearm(d.retry)
			return n
		}
		k := d.gso.segment(b.Bytes()[rxOff:])
		b.SetWindow(rxOff, rxOff+k)
		b.Flags |= pbuf.RxIPv4ChecksumOK | pbuf.RxL4ChecksumOK
		dst[n] = b
		n++
		d.stats.RxGSOSegs++
		d.count(b)
	}
	if !d.gso.pending() {
		d.gso.reset()
	}
	return n
}

func (d *Device) count(b *pbuf.Buf) {
	d.stats.RxFrames++
	d.stats.RxBytes += uint64(b.Len())
}

// Transmit implements netif.Device: it writes each frame with one system
// call, behind a virtio header in vnet-header mode (put in the frame's
// headroom when there is room, else gathered with writev): gso_type NONE,
// or NEEDS_CSUM for a checksum-partial frame and GSO_TCPV4 for a
// super-segment (Buf.GSOSize), which the kernel cuts.
// It frees what it wrote; a frame whose write fails is dropped and counted;
// EAGAIN ends the batch, leaving the rest to the caller.
func (d *Device) Transmit(frames []*pbuf.Buf) int {
	for i, b := range frames {
		if d.fd < 0 {
			d.stats.TxErrors++
			b.Free()
			continue
		}
		size := b.Len()
		e := d.write(b)
		for e == unix.EINTR {
			e = d.write(b)
		}
		switch e {
		case 0:
			d.stats.TxFrames++
			d.stats.TxBytes += uint64(size)
		case unix.EAGAIN:
			d.stats.TxAgain++
			return i
		default:
			d.stats.TxErrors++
		}
		b.Free()
	}
	return len(frames)
}

// write writes one frame, with the virtio header in vnet-header mode.
func (d *Device) write(b *pbuf.Buf) unix.Errno {
	p := b.Bytes()
	if len(p) == 0 {
		return unix.EINVAL
	}
	want := len(p)
	var m int
	var e unix.Errno
	var hdr vnetHdr
	if b.GSOSize != 0 || b.Flags&pbuf.TxL4ChecksumPartial != 0 {
		if !d.txCsum || !txHeader(&hdr, p, b.GSOSize, d.txTSO) {
			return unix.EINVAL // offered nothing of the kind, or not IPv4/TCP: drop it
		}
	}
	switch {
	case !d.vnet:
		m, e = sysWrite(d.fd, p)
	case b.Headroom() >= vnetHdrLen:
		hdr.encode(b.Prepend(vnetHdrLen))
		m, e = sysWrite(d.fd, b.Bytes())
		b.Consume(vnetHdrLen)
		want += vnetHdrLen
	default:
		hdr.encode(d.zero[:])
		setIovec(&d.iov[0], d.zero[:])
		setIovec(&d.iov[1], p)
		m, e = sysWritev2(d.fd, &d.iov)
		d.iov = [2]unix.Iovec{}
		want += vnetHdrLen
	}
	if e == 0 && m != want {
		return unix.EIO // a TAP write is all or nothing; count it as an error
	}
	return e
}

// Close stops the Notify goroutine and closes the descriptor, which deletes
// the interface. Receive and Transmit then do nothing (Transmit drops). Call
// it after the loop that polls the device has stopped, or from the loop's
// goroutine. It is idempotent.
func (d *Device) Close() error {
	if d.fd < 0 {
		return nil
	}
	var err error
	if d.notify != nil {
		err = d.notify.stop()
		d.notify = nil
	}
	if e := unix.Close(d.fd); e != nil && err == nil {
		err = &OpError{"close", e}
	}
	d.fd = -1
	d.gso.reset()
	return err
}

var _ netif.Device = (*Device)(nil)
