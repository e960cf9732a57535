// Package clock defines the time values the core works with. The core never
// reads a clock: every entry point takes the current Time as an argument, and
// timers are expressed as deadlines in the same units. A hosted program reads
// a real clock in platform/hosted; a bare-metal program reads its TSC; tests
// use Manual.
package clock

// Time is a monotonic instant in nanoseconds since an arbitrary epoch chosen by
// the Source. The zero Time is a valid instant; Never is later than all others.
type Time int64

// Duration is a span of time in nanoseconds.
type Duration int64

// Units of Duration.
const (
	Nanosecond  Duration = 1
	Microsecond          = 1000 * Nanosecond
	Millisecond          = 1000 * Microsecond
	Second               = 1000 * Millisecond
	Minute               = 60 * Second
)

// Never is the deadline of a timer that is not armed.
const Never Time = 1<<63 - 1

// Add returns t+d, saturating at Never.
func (t Time) Add(d Duration) Time {
	if t == Never || (d > 0 && t > Never-Time(d)) {
		return Never
	}
	return t + Time(d)
}

// Sub returns t-u.
func (t Time) Sub(u Time) Duration { return Duration(t - u) }

// Before reports whether t is earlier than u.
func (t Time) Before(u Time) bool { return t < u }

// After reports whether t is later than u.
func (t Time) After(u Time) bool { return t > u }

// Min returns the earlier of t and u.
func Min(t, u Time) Time {
	if u < t {
		return u
	}
	return t
}

// Milliseconds returns d in whole milliseconds.
func (d Duration) Milliseconds() int64 { return int64(d / Millisecond) }

// Seconds returns d in whole seconds.
func (d Duration) Seconds() int64 { return int64(d / Second) }

// Source reads the current time.
type Source interface {
	Now() Time
}

// Manual is a Source that moves only when told to: the clock of tests and
// simulations. The zero value reads 0.
type Manual struct{ t Time }

// Now returns the manual clock's current time.
func (m *Manual) Now() Time { return m.t }

// Advance moves the clock forward by d.
func (m *Manual) Advance(d Duration) { m.t = m.t.Add(d) }

// Set moves the clock to t; it refuses to go backwards and returns false then.
func (m *Manual) Set(t Time) bool {
	if t < m.t {
		return false
	}
	m.t = t
	return true
}
