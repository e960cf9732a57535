package pcap

import (
	"encoding/binary"
	"io"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif"
)

// File-format constants.
const (
	Magic            = 0xa1b2c3d4 // microsecond timestamps
	VersionMajor     = 2
	VersionMinor     = 4
	LinkTypeEthernet = 1 // LINKTYPE_ETHERNET
	DefaultSnapLen   = 262144
	GlobalHeaderLen  = 24
	RecordHeaderLen  = 16
)

// Writer writes frames to an io.Writer in libpcap format. Create it with
// NewWriter.
type Writer struct {
	w       io.Writer
	clk     clock.Source
	snaplen int
	err     error
	frames  uint64
	scratch [GlobalHeaderLen]byte // global header, then each record header
}

// NewWriter writes the global header to w and returns a Writer recording
// frames with timestamps from clk (nil: all timestamps zero). snaplen <= 0
// selects DefaultSnapLen. An error writing the header is kept for Err.
func NewWriter(w io.Writer, clk clock.Source, snaplen int) *Writer {
	if snaplen <= 0 {
		snaplen = DefaultSnapLen
	}
	pw := &Writer{w: w, clk: clk, snaplen: snaplen}
	h := pw.scratch[:GlobalHeaderLen]
	le := binary.LittleEndian
	le.PutUint32(h[0:], Magic)
	le.PutUint16(h[4:], VersionMajor)
	le.PutUint16(h[6:], VersionMinor)
	le.PutUint32(h[8:], 0)  // thiszone: timestamps are UTC
	le.PutUint32(h[12:], 0) // sigfigs
	le.PutUint32(h[16:], uint32(snaplen))
	le.PutUint32(h[20:], LinkTypeEthernet)
	pw.write(h)
	return pw
}

// WriteFrame records frame b (an Ethernet frame without FCS), cut to the
// snapshot length. After the first write error it records nothing and
// returns that error. b remains the caller's.
func (w *Writer) WriteFrame(b []byte) error {
	if w.err != nil {
		return w.err
	}
	var t clock.Time
	if w.clk != nil {
		t = max(w.clk.Now(), 0)
	}
	incl := min(len(b), w.snaplen)
	h := w.scratch[:RecordHeaderLen]
	le := binary.LittleEndian
	le.PutUint32(h[0:], uint32(t/clock.Time(clock.Second)))
	le.PutUint32(h[4:], uint32(t%clock.Time(clock.Second)/clock.Time(clock.Microsecond)))
	le.PutUint32(h[8:], uint32(incl))
	le.PutUint32(h[12:], uint32(len(b)))
	if w.write(h) && w.write(b[:incl]) {
		w.frames++
	}
	return w.err
}

// write writes p and remembers a failure.
func (w *Writer) write(p []byte) bool {
	n, err := w.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = err
		return false
	}
	return true
}

// Err returns the first error the io.Writer returned, or nil.
func (w *Writer) Err() error { return w.err }

// Frames returns the number of frames recorded.
func (w *Writer) Frames() uint64 { return w.frames }

// SnapLen returns the snapshot length.
func (w *Writer) SnapLen() int { return w.snaplen }

// Device is a netif.Device that records the frames passing through another.
// Create it with New.
type Device struct {
	inner netif.Device
	w     *Writer
}

var _ netif.Device = (*Device)(nil)

// New wraps inner, recording to w.
func New(inner netif.Device, w *Writer) *Device { return &Device{inner: inner, w: w} }

// Receive receives from the inner device and records what it got.
func (d *Device) Receive(pool *pbuf.Pool, dst []*pbuf.Buf) int {
	n := d.inner.Receive(pool, dst)
	if d.w.err == nil {
		for _, b := range dst[:n] {
			d.w.WriteFrame(b.Bytes())
		}
	}
	return n
}

// Transmit records the frames, then hands them to the inner device and
// returns what it returns.
func (d *Device) Transmit(frames []*pbuf.Buf) int {
	if d.w.err == nil {
		for _, b := range frames {
			d.w.WriteFrame(b.Bytes())
		}
	}
	return d.inner.Transmit(frames)
}

// Err returns the recording error, if any.
func (d *Device) Err() error { return d.w.err }

// Writer returns the Writer the device records to.
func (d *Device) Writer() *Writer { return d.w }

// Inner returns the wrapped device.
func (d *Device) Inner() netif.Device { return d.inner }

// NextDeadline forwards the inner device's NextDeadline (see netif/fault),
// or returns clock.Never if it has none.
func (d *Device) NextDeadline() clock.Time {
	if in, ok := d.inner.(interface{ NextDeadline() clock.Time }); ok {
		return in.NextDeadline()
	}
	return clock.Never
}

// HardwareAddr returns the inner device's address.
func (d *Device) HardwareAddr() wire.MAC { return d.inner.HardwareAddr() }

// MTU returns the inner device's MTU.
func (d *Device) MTU() int { return d.inner.MTU() }

// Caps returns the inner device's capabilities less its transmit offloads,
// so that the capture holds finished, MTU-sized frames with their checksums
// (what the wire carries), not super-segments with partial checksums.
func (d *Device) Caps() netif.Caps {
	c := d.inner.Caps()
	c.TxChecksumOffload, c.TSOMax = false, 0
	return c
}

// LinkUp returns the inner device's link state.
func (d *Device) LinkUp() bool { return d.inner.LinkUp() }
