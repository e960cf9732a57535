package wire_test

import (
	"errors"
	"testing"

	"github.com/lwgo/lwgo/core/wire"
)

func TestErrError(t *testing.T) {
	tests := []struct {
		err  wire.Err
		want string
	}{
		{wire.ErrTruncated, "wire: truncated"},
		{wire.ErrBadVersion, "wire: bad IP version"},
		{wire.ErrBadHeaderLen, "wire: bad header length"},
		{wire.ErrBadLength, "wire: bad length"},
		{wire.ErrBadOption, "wire: bad option"},
		{wire.ErrUnsupported, "wire: unsupported"},
		{0, "wire: unknown error"},
		{200, "wire: unknown error"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Err(%d).Error() = %q, want %q", uint8(tt.err), got, tt.want)
			}
		})
	}
}

// Parse errors are comparable constants: distinct, nonzero, and usable with
// errors.Is and errors.As.
func TestErrValues(t *testing.T) {
	all := []wire.Err{wire.ErrTruncated, wire.ErrBadVersion, wire.ErrBadHeaderLen, wire.ErrBadLength, wire.ErrBadOption, wire.ErrUnsupported}
	seen := map[wire.Err]bool{}
	for _, e := range all {
		if e == 0 {
			t.Errorf("%v has the zero value", e)
		}
		if seen[e] {
			t.Errorf("%v is not distinct", e)
		}
		seen[e] = true
	}
	_, err := wire.ParseTCP(nil)
	if !errors.Is(err, wire.ErrTruncated) || errors.Is(err, wire.ErrBadOption) {
		t.Errorf("errors.Is on %v gives the wrong answer", err)
	}
	var e wire.Err
	if !errors.As(err, &e) || e != wire.ErrTruncated {
		t.Errorf("errors.As: %v", e)
	}
}
