package script

import (
	"bytes"
	"testing"

	"github.com/lwgo/lwgo/core/pbuf"
)

// One comes before the inbox, in order; a frame the pool has no room for
// is dropped; Transmit records copies and frees, or only frees with
// Discard.
func TestReceiveOrderAndTransmitRecords(t *testing.T) {
	pool := pbuf.NewPool(2, 64)
	d := &Device{One: []byte("one"), Inbox: [][]byte{[]byte("a"), []byte("b"), []byte("c")}}
	dst := make([]*pbuf.Buf, 8)
	if n := d.Receive(pool, dst); n != 2 || string(dst[0].Bytes()) != "one" || string(dst[1].Bytes()) != "a" {
		t.Fatalf("received %d frames", n)
	}
	if len(d.Inbox) != 0 || d.One != nil {
		t.Fatalf("inbox %d left, One %q: frames without room are dropped, not kept", len(d.Inbox), d.One)
	}
	if n := d.Transmit(dst[:2]); n != 2 || len(d.Sent) != 2 || !bytes.Equal(d.Sent[0], []byte("one")) {
		t.Fatalf("transmit %d, sent %q", n, d.Sent)
	}
	b, _ := pool.Alloc(pbuf.LayerRaw, 1)
	d.Discard = true
	d.Transmit([]*pbuf.Buf{b})
	if len(d.Sent) != 2 || pool.Available() != pool.Cap() {
		t.Fatalf("discard recorded a frame or leaked: %d sent, %d of %d free", len(d.Sent), pool.Available(), pool.Cap())
	}
	if d.Down = true; d.LinkUp() {
		t.Fatal("link up while Down")
	}
}
