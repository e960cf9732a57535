package hosted

import (
	"time"

	"github.com/lwgo/lwgo/core/clock"
)

// Clock is a clock.Source over the operating system's monotonic clock. It
// reads nanoseconds since it was created by NewClock, so its first readings
// are near zero; wall-clock changes do not move it. It is safe for concurrent
// use. The zero Clock is not usable: create one with NewClock.
type Clock struct {
	start time.Time // carries the monotonic reading
}

// NewClock returns a Clock that reads 0 now.
func NewClock() *Clock { return &Clock{start: time.Now()} }

// Now returns the time elapsed since the Clock was created. It does not
// allocate.
func (c *Clock) Now() clock.Time { return clock.Time(time.Since(c.start)) }

var _ clock.Source = (*Clock)(nil)
