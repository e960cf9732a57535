package hosted

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lwgo/lwgo/core/clock"
)

// pollFunc adapts a function to Poller.
type pollFunc func(now clock.Time) clock.Time

func (f pollFunc) Poll(now clock.Time) clock.Time { return f(now) }

// goid returns the current goroutine's ID, parsed from its stack header.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	b = b[:bytes.IndexByte(b, ' ')]
	id, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		panic(err)
	}
	return id
}

// runAsync starts Run on a new goroutine and returns a function that cancels
// it and returns Run's error, failing the test if Run does not stop within 5s.
func runAsync(t *testing.T, p Poller, clk clock.Source, opts ...Option) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, p, clk, opts...) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-errc:
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return within 5s of cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// recv waits up to 5s for a value on c.
func recv[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func TestClockMonotonic(t *testing.T) {
	c := NewClock()
	first := c.Now()
	if first < 0 || first > clock.Time(clock.Second) {
		t.Fatalf("first reading %d ns, want near 0", first)
	}
	prev := first
	for range 1000 {
		now := c.Now()
		if now < prev {
			t.Fatalf("clock went backwards: %d after %d", now, prev)
		}
		prev = now
	}
	time.Sleep(2 * time.Millisecond)
	if d := c.Now().Sub(first); d < 2*clock.Millisecond {
		t.Fatalf("after a 2ms sleep the clock moved %d ns", d)
	}
}

func TestWakerCoalescesAndNeverBlocks(t *testing.T) {
	w := NewWaker()
	for range 100 {
		w.Wake() // must not block with nobody receiving
	}
	if n := len(w.c); n != 1 {
		t.Fatalf("pending wakes = %d, want 1", n)
	}
}

func TestInboxPostFullNeverBlocks(t *testing.T) {
	in := NewInbox(3)
	for i := range 3 {
		if !in.Post(func() {}) {
			t.Fatalf("Post %d refused below capacity", i)
		}
	}
	if in.Post(func() {}) {
		t.Fatal("Post accepted beyond capacity")
	}
	if in.Len() != 3 || in.Cap() != 3 {
		t.Fatalf("Len, Cap = %d, %d; want 3, 3", in.Len(), in.Cap())
	}
}

func TestRunWakesOnWakeBeforeDeadline(t *testing.T) {
	clk := NewClock()
	w := NewWaker()
	polled := make(chan clock.Time, 16)
	p := pollFunc(func(now clock.Time) clock.Time {
		polled <- now
		return now.Add(clock.Minute) // far away: only a wake returns early
	})
	stop := runAsync(t, p, clk, WithWaker(w))
	recv(t, polled, "first poll")
	start := clk.Now()
	w.Wake()
	recv(t, polled, "poll after Wake")
	if d := clk.Now().Sub(start); d > clock.Second {
		t.Fatalf("poll after Wake took %d ms", d.Milliseconds())
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
}

func TestRunWakesOnWakeWithoutDeadline(t *testing.T) {
	w := NewWaker()
	polled := make(chan struct{}, 16)
	p := pollFunc(func(now clock.Time) clock.Time {
		polled <- struct{}{}
		return clock.Never
	})
	runAsync(t, p, NewClock(), WithWaker(w))
	recv(t, polled, "first poll")
	select {
	case <-polled:
		t.Fatal("polled again with no deadline and no wake")
	case <-time.After(50 * time.Millisecond):
	}
	w.Wake()
	recv(t, polled, "poll after Wake")
}

func TestRunSleepsUntilDeadline(t *testing.T) {
	const wait = 30 * clock.Millisecond
	clk := NewClock()
	var calls atomic.Int32
	polled := make(chan clock.Time, 16)
	p := pollFunc(func(now clock.Time) clock.Time {
		calls.Add(1)
		polled <- now
		return now.Add(wait)
	})
	runAsync(t, p, clk)
	t0 := recv(t, polled, "first poll")
	t1 := recv(t, polled, "second poll")
	if d := t1.Sub(t0); d < wait {
		t.Fatalf("second poll %d ns after the first, before the %d ns deadline", d, wait)
	} else if d > 10*clock.Second {
		t.Fatalf("second poll %d ms after the first, deadline was %d ms", d.Milliseconds(), wait.Milliseconds())
	}
}

func TestRunPastDeadlinePollsAgainAtOnce(t *testing.T) {
	var calls atomic.Int32
	enough := make(chan struct{})
	p := pollFunc(func(now clock.Time) clock.Time {
		if calls.Add(1) == 100 {
			close(enough)
		}
		return now - 1 // already due
	})
	runAsync(t, p, NewClock())
	recv(t, enough, "100 polls with past deadlines")
}

func TestRunInboxRunsOnLoopGoroutine(t *testing.T) {
	in := NewInbox(8)
	var loopG atomic.Uint64
	polled := make(chan struct{}, 64)
	p := pollFunc(func(now clock.Time) clock.Time {
		loopG.Store(goid())
		polled <- struct{}{}
		return clock.Never // only the post may end the wait
	})
	runAsync(t, p, NewClock(), WithInbox(in))
	recv(t, polled, "first poll")

	ran := make(chan uint64, 8)
	order := make(chan int, 8)
	for i := range 3 {
		if !in.Post(func() { ran <- goid(); order <- i }) {
			t.Fatal("Post refused")
		}
	}
	for i := range 3 {
		if g := recv(t, ran, "inbox function"); g != loopG.Load() {
			t.Fatalf("inbox function ran on goroutine %d, loop is %d", g, loopG.Load())
		}
		if got := recv(t, order, "order"); got != i {
			t.Fatalf("inbox function %d ran in place %d", got, i)
		}
	}
	recv(t, polled, "poll after the posts")
}

func TestRunInboxRepostDoesNotStarvePoll(t *testing.T) {
	in := NewInbox(1)
	var reposts atomic.Int32
	var f func()
	f = func() {
		reposts.Add(1)
		in.Post(f) // always re-queues itself
	}
	in.Post(f)
	polled := make(chan struct{}, 1)
	p := pollFunc(func(now clock.Time) clock.Time {
		select {
		case polled <- struct{}{}:
		default:
		}
		return clock.Never
	})
	runAsync(t, p, NewClock(), WithInbox(in))
	recv(t, polled, "first poll")
	recv(t, polled, "second poll")
	if reposts.Load() == 0 {
		t.Fatal("inbox function never ran")
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	never := func(clock.Time) clock.Time { return clock.Never }
	for _, tc := range []struct {
		name string
		next func(now clock.Time) clock.Time
		opts []Option
	}{
		{"no-deadline", never, nil},
		{"far-deadline", func(now clock.Time) clock.Time { return now.Add(clock.Minute) },
			[]Option{WithWaker(NewWaker()), WithInbox(NewInbox(1))}},
		{"past-deadline", func(now clock.Time) clock.Time { return now - 1 }, nil},
		{"spin", never, []Option{Spin()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			polled := make(chan struct{}, 1)
			p := pollFunc(func(now clock.Time) clock.Time {
				select {
				case polled <- struct{}{}:
				default:
				}
				return tc.next(now)
			})
			clk := NewClock()
			stop := runAsync(t, p, clk, tc.opts...)
			recv(t, polled, "first poll")
			start := clk.Now()
			if err := stop(); !errors.Is(err, context.Canceled) {
				t.Fatalf("Run returned %v, want context.Canceled", err)
			}
			if d := clk.Now().Sub(start); d > clock.Second {
				t.Fatalf("Run took %d ms to stop", d.Milliseconds())
			}
		})
	}
}

func TestRunSpinPollsWithoutWake(t *testing.T) {
	in := NewInbox(1)
	var calls atomic.Int32
	enough := make(chan struct{})
	p := pollFunc(func(now clock.Time) clock.Time {
		if calls.Add(1) == 1000 {
			close(enough)
		}
		return clock.Never // would sleep forever without Spin
	})
	runAsync(t, p, NewClock(), Spin(), WithInbox(in))
	recv(t, enough, "1000 spinning polls")
	ran := make(chan struct{})
	in.Post(func() { close(ran) })
	recv(t, ran, "inbox function in spin mode")
}

func TestRunAlreadyCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var calls int
	p := pollFunc(func(now clock.Time) clock.Time { calls++; return clock.Never })
	if err := Run(ctx, p, NewClock()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if calls != 1 {
		t.Fatalf("Poll called %d times, want 1", calls)
	}
}

// TestStepNoAllocs proves the steady-state iteration allocates nothing, for
// each way a wait can end: a wake (timer armed, then stopped), a due deadline,
// an inbox post (drained at the top of the next step), and spinning. The
// events are raised from inside Poll, as a device or a callback would.
func TestStepNoAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clk := NewClock()
	w := NewWaker()
	in := NewInbox(4)
	posted := 0
	post := func() { posted++ }
	var next clock.Duration
	var hook func()
	p := pollFunc(func(now clock.Time) clock.Time {
		hook()
		return now.Add(next)
	})

	for _, tc := range []struct {
		name string
		next clock.Duration
		hook func()
		opts []Option
	}{
		{"wake", clock.Minute, w.Wake, nil},
		{"due", -1, func() {}, nil},
		{"post", clock.Minute, func() { in.Post(post) }, nil},
		{"post-and-drain", clock.Minute, func() { in.Post(post); in.Post(post) }, nil},
		{"spin", clock.Minute, func() { in.Post(post) }, []Option{Spin()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next, hook = tc.next, tc.hook
			l := newLoop(ctx, p, clk, append([]Option{WithWaker(w), WithInbox(in)}, tc.opts...))
			defer l.timer.Stop()
			allocs := testing.AllocsPerRun(1000, func() {
				if l.step() {
					t.Fatal("step reported done")
				}
			})
			if allocs != 0 {
				t.Fatalf("step allocates %v times per iteration, want 0", allocs)
			}
			in.drain()
			select {
			case <-w.c:
			default:
			}
		})
	}
	if posted == 0 {
		t.Fatal("no inbox function ran")
	}
}

func BenchmarkStepWake(b *testing.B) {
	w := NewWaker()
	l := newLoop(context.Background(), pollFunc(func(now clock.Time) clock.Time {
		return now.Add(clock.Minute)
	}), NewClock(), []Option{WithWaker(w)})
	defer l.timer.Stop()
	b.ReportAllocs()
	for b.Loop() {
		w.Wake()
		l.step()
	}
}
