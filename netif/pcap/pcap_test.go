package pcap

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/lwgo/lwgo/core/clock"
	"github.com/lwgo/lwgo/core/pbuf"
	"github.com/lwgo/lwgo/core/wire"
	"github.com/lwgo/lwgo/netif/fault"
	"github.com/lwgo/lwgo/netif/loopback"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGlobalHeaderGoldenBytes(t *testing.T) {
	var buf bytes.Buffer
	NewWriter(&buf, nil, 0)
	want := unhex(t, `
		d4 c3 b2 a1  02 00 04 00  00 00 00 00  00 00 00 00
		00 00 04 00  01 00 00 00`) // magic, v2.4, thiszone, sigfigs, snaplen 262144, Ethernet
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("global header\n got %x\nwant %x", buf.Bytes(), want)
	}
}

func TestRecordGoldenBytes(t *testing.T) {
	var buf bytes.Buffer
	var clk clock.Manual
	clk.Set(clock.Time(1*clock.Second + 623456*clock.Microsecond + 789)) // 789 ns are cut
	w := NewWriter(&buf, &clk, 1500)
	frame := unhex(t, `ffffffffffff 020000000001 0806`) // a 14-byte Ethernet header
	if err := w.WriteFrame(frame); err != nil {
		t.Fatal(err)
	}
	clk.Set(clock.Time(70000 * clock.Second))
	w.WriteFrame(frame[:6])
	want := unhex(t, `
		d4c3b2a1 0200 0400 00000000 00000000 dc050000 01000000
		01000000 60830900 0e000000 0e000000
		ffffffffffff 020000000001 0806
		70110100 00000000 06000000 06000000
		ffffffffffff`)
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("capture\n got %x\nwant %x", buf.Bytes(), want)
	}
	if w.Frames() != 2 || w.SnapLen() != 1500 || w.Err() != nil {
		t.Errorf("Frames %d SnapLen %d Err %v", w.Frames(), w.SnapLen(), w.Err())
	}
}

func TestSnapLenCutsTheFrameButKeepsItsOriginalLength(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, nil, 20)
	frame := bytes.Repeat([]byte{0xa5}, 100)
	w.WriteFrame(frame)
	rec := buf.Bytes()[GlobalHeaderLen:]
	if len(rec) != RecordHeaderLen+20 {
		t.Fatalf("record is %d bytes, want %d", len(rec), RecordHeaderLen+20)
	}
	if incl, orig := binary.LittleEndian.Uint32(rec[8:]), binary.LittleEndian.Uint32(rec[12:]); incl != 20 || orig != 100 {
		t.Errorf("incl_len %d orig_len %d, want 20 and 100", incl, orig)
	}
}

// failAfter accepts n bytes, then fails every Write.
type failAfter struct {
	n, calls int
	short    bool // fail by a short write without an error
}

var errDisk = errors.New("disk full")

func (f *failAfter) Write(p []byte) (int, error) {
	f.calls++
	if len(p) <= f.n {
		f.n -= len(p)
		return len(p), nil
	}
	k := f.n
	f.n = 0
	if f.short {
		return k, nil
	}
	return k, errDisk
}

func TestWriterErrorIsRememberedAndStopsRecording(t *testing.T) {
	for _, short := range []bool{false, true} {
		fw := &failAfter{n: GlobalHeaderLen + RecordHeaderLen + 60 + 10, short: short}
		w := NewWriter(fw, nil, 0)
		frame := make([]byte, 60)
		if err := w.WriteFrame(frame); err != nil {
			t.Fatalf("first frame: %v", err)
		}
		want := errDisk
		if short {
			want = io.ErrShortWrite
		}
		if err := w.WriteFrame(frame); err != want {
			t.Fatalf("short=%v: second frame: %v, want %v", short, err, want)
		}
		calls := fw.calls
		if err := w.WriteFrame(frame); err != want || fw.calls != calls {
			t.Errorf("short=%v: recording went on after an error (%v, %d calls)", short, err, fw.calls-calls)
		}
		if w.Err() != want || w.Frames() != 1 {
			t.Errorf("short=%v: Err %v Frames %d", short, w.Err(), w.Frames())
		}
	}
}

func TestGlobalHeaderErrorIsRemembered(t *testing.T) {
	w := NewWriter(&failAfter{n: 3}, nil, 0)
	if w.Err() != errDisk || w.WriteFrame(make([]byte, 14)) != errDisk || w.Frames() != 0 {
		t.Errorf("Err %v", w.Err())
	}
}

// record is one parsed pcap record.
type record struct {
	sec, usec, incl, orig uint32
	data                  []byte
}

// parse reads a capture written by Writer.
func parse(t *testing.T, b []byte) []record {
	t.Helper()
	if len(b) < GlobalHeaderLen || binary.LittleEndian.Uint32(b) != Magic {
		t.Fatal("no pcap header")
	}
	b = b[GlobalHeaderLen:]
	var out []record
	for len(b) > 0 {
		if len(b) < RecordHeaderLen {
			t.Fatal("truncated record header")
		}
		le := binary.LittleEndian
		r := record{sec: le.Uint32(b), usec: le.Uint32(b[4:]), incl: le.Uint32(b[8:]), orig: le.Uint32(b[12:])}
		b = b[RecordHeaderLen:]
		if len(b) < int(r.incl) {
			t.Fatal("truncated record")
		}
		r.data, b = b[:r.incl], b[r.incl:]
		out = append(out, r)
	}
	return out
}

func ethFrame(t *testing.T, p *pbuf.Pool, n int, tag byte) *pbuf.Buf {
	t.Helper()
	b, err := p.Alloc(pbuf.LayerLink, n)
	if err != nil {
		t.Fatal(err)
	}
	f := b.Bytes()
	h := wire.EthernetHeader{Dst: wire.MAC{2, 0, 0, 0, 0, 2}, Src: wire.MAC{2, 0, 0, 0, 0, 1}, Type: wire.EtherTypeIPv4}
	h.Encode(wire.Ethernet(f))
	for i := wire.EthernetHeaderLen; i < n; i++ {
		f[i] = tag
	}
	return b
}

func TestDeviceRecordsTransmittedAndReceivedFrames(t *testing.T) {
	var buf bytes.Buffer
	var clk clock.Manual
	lo := loopback.New(loopback.Config{})
	d := New(lo, NewWriter(&buf, &clk, 0))
	p := pbuf.NewPool(4, 2048)

	clk.Set(clock.Time(2 * clock.Second))
	d.Transmit([]*pbuf.Buf{ethFrame(t, p, 60, 1), ethFrame(t, p, 100, 2)})
	clk.Advance(1500 * clock.Microsecond)
	var rx [4]*pbuf.Buf
	n := d.Receive(p, rx[:])
	if n != 2 {
		t.Fatalf("Receive = %d", n)
	}
	recs := parse(t, buf.Bytes())
	if len(recs) != 4 {
		t.Fatalf("%d records, want 4", len(recs))
	}
	for i, r := range recs {
		wantLen, wantTag := []uint32{60, 100}[i%2], byte(1+i%2)
		wantSec, wantUsec := uint32(2), uint32(0)
		if i >= 2 {
			wantUsec = 1500
		}
		if r.orig != wantLen || r.incl != wantLen || r.data[20] != wantTag || r.sec != wantSec || r.usec != wantUsec {
			t.Errorf("record %d: %+v", i, r)
		}
	}
	if !bytes.Equal(recs[2].data, rx[0].Bytes()) {
		t.Error("received frame recorded differently")
	}
	rx[0].Free()
	rx[1].Free()
	if d.Err() != nil || d.Writer().Frames() != 4 {
		t.Errorf("Err %v Frames %d", d.Err(), d.Writer().Frames())
	}
}

func TestDeviceKeepsForwardingAfterAWriterError(t *testing.T) {
	lo := loopback.New(loopback.Config{})
	d := New(lo, NewWriter(&failAfter{n: GlobalHeaderLen}, nil, 0))
	p := pbuf.NewPool(4, 2048)
	if n := d.Transmit([]*pbuf.Buf{ethFrame(t, p, 60, 1)}); n != 1 {
		t.Fatalf("Transmit = %d", n)
	}
	var rx [2]*pbuf.Buf
	if n := d.Receive(p, rx[:]); n != 1 {
		t.Fatalf("Receive = %d", n)
	}
	rx[0].Free()
	if d.Err() != errDisk {
		t.Errorf("Err = %v", d.Err())
	}
}

func TestDeviceForwardsTheInnerDevice(t *testing.T) {
	var clk clock.Manual
	lo := loopback.New(loopback.Config{MTU: 9000, MAC: wire.MAC{2, 1, 2, 3, 4, 5}})
	f := fault.New(lo, &clk, fault.Config{Delay: clock.Millisecond})
	d := New(f, NewWriter(io.Discard, &clk, 0))
	if d.HardwareAddr() != lo.HardwareAddr() || d.MTU() != 9000 || d.Caps() != lo.Caps() || !d.LinkUp() || d.Inner() != f {
		t.Error("a forwarder does not forward")
	}
	if d.NextDeadline() != clock.Never {
		t.Error("NextDeadline with nothing held")
	}
	p := pbuf.NewPool(2, 2048)
	d.Transmit([]*pbuf.Buf{ethFrame(t, p, 60, 1)})
	if d.NextDeadline() != clock.Time(clock.Millisecond) {
		t.Errorf("NextDeadline = %d, want the fault wrapper's 1 ms", d.NextDeadline())
	}
	if New(lo, NewWriter(io.Discard, nil, 0)).NextDeadline() != clock.Never {
		t.Error("NextDeadline of a device without one is not Never")
	}
	f.Discard()
}

func TestWriteFrameAndDeviceDoNotAllocate(t *testing.T) {
	var clk clock.Manual
	w := NewWriter(io.Discard, &clk, 0)
	frame := make([]byte, 1514)
	if a := testing.AllocsPerRun(1000, func() { w.WriteFrame(frame) }); a != 0 {
		t.Errorf("WriteFrame: %v allocations, want 0", a)
	}
	d := New(loopback.New(loopback.Config{}), w)
	p := pbuf.NewPool(4, 2048)
	var tx [2]*pbuf.Buf
	var rx [2]*pbuf.Buf
	a := testing.AllocsPerRun(1000, func() {
		tx[0], _ = p.Alloc(pbuf.LayerLink, 60)
		tx[1], _ = p.Alloc(pbuf.LayerLink, 1514)
		d.Transmit(tx[:])
		n := d.Receive(p, rx[:])
		for _, b := range rx[:n] {
			b.Free()
		}
	})
	if a != 0 {
		t.Errorf("Device Transmit+Receive: %v allocations, want 0", a)
	}
}
