package stream

import (
	"bytes"
	"testing"
)

func TestPiecesEqualWhole(t *testing.T) {
	whole := make([]byte, 1000)
	New(7).Fill(whole)
	g := New(7)
	var got []byte
	for _, n := range []int{1, 3, 8, 13, 0, 200, 775} {
		p := make([]byte, n)
		g.Fill(p)
		got = append(got, p...)
	}
	if !bytes.Equal(got, whole) {
		t.Fatal("stream depends on how it is cut")
	}
}
