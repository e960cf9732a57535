package hosted

import (
	"context"
	"runtime"
	"time"

	"github.com/lwgo/lwgo/core/clock"
)

// Poller is what Run drives: typically a *core.Stack. Poll processes received
// frames and due timers at time now and returns the next deadline at which it
// wants to be called, or clock.Never if it has none. It is called only from
// the goroutine running Run and must not block.
type Poller interface {
	Poll(now clock.Time) clock.Time
}

// Option configures Run.
type Option func(*options)

type options struct {
	waker *Waker
	inbox *Inbox
	spin  bool
}

// WithWaker makes Run stop sleeping and poll when w is woken.
func WithWaker(w *Waker) Option { return func(o *options) { o.waker = w } }

// WithInbox makes Run run the functions posted to in between Poll calls, and
// stop sleeping when one is posted.
func WithInbox(in *Inbox) Option { return func(o *options) { o.inbox = in } }

// Spin makes Run poll continuously, never sleeping: it calls runtime.Gosched
// between polls instead. It is for polled NICs without interrupts, and keeps
// one processor busy. Deadlines and wakes are then irrelevant; the Inbox is
// still drained every iteration.
func Spin() Option { return func(o *options) { o.spin = true } }

// Run drives p until ctx is done and then returns ctx.Err(). Each iteration
// it runs the queued Inbox functions, calls p.Poll(clk.Now()) and then waits
// for the returned deadline, a wake, a post or the end of ctx (see the
// package documentation). Run does not return while a Poll or Inbox function
// is running; it does not recover their panics.
func Run(ctx context.Context, p Poller, clk clock.Source, opts ...Option) error {
	l := newLoop(ctx, p, clk, opts)
	defer l.timer.Stop()
	for !l.step() {
	}
	return ctx.Err()
}

// loop is the state of one Run.
type loop struct {
	p     Poller
	clk   clock.Source
	inbox *Inbox
	spin  bool
	done  <-chan struct{} // ctx.Done(); nil if ctx is never done
	wake  <-chan struct{} // the Waker's channel, or nil
	mail  <-chan func()   // the Inbox's channel, or nil
	timer *time.Timer     // stopped between waits; reused
}

func newLoop(ctx context.Context, p Poller, clk clock.Source, opts []Option) *loop {
	if p == nil || clk == nil {
		panic("hosted: Run with nil Poller or clock")
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	l := &loop{p: p, clk: clk, inbox: o.inbox, spin: o.spin, done: ctx.Done()}
	if o.waker != nil {
		l.wake = o.waker.c
	}
	if o.inbox != nil {
		l.mail = o.inbox.c
	}
	// Since Go 1.23 a stopped timer's channel holds no stale value, so Reset
	// after Stop is safe without draining.
	l.timer = time.NewTimer(time.Hour)
	l.timer.Stop()
	return l
}

// step runs one iteration and reports whether ctx is done.
func (l *loop) step() (stop bool) {
	if l.inbox != nil {
		l.inbox.drain()
	}
	deadline := l.p.Poll(l.clk.Now())
	if l.spin {
		runtime.Gosched()
		return l.isDone()
	}
	return l.wait(deadline)
}

func (l *loop) isDone() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// wait blocks until deadline, a wake, a post or the end of ctx, and reports
// whether ctx is done.
func (l *loop) wait(deadline clock.Time) bool {
	var timeout <-chan time.Time
	if deadline != clock.Never {
		d := deadline.Sub(l.clk.Now())
		if d <= 0 {
			return l.isDone() // due already: poll again at once
		}
		l.timer.Reset(time.Duration(d))
		timeout = l.timer.C
	}
	stop := false
	select {
	case <-l.done:
		stop = true
	case <-timeout:
		return false // fired; the timer is stopped
	case <-l.wake:
	case f := <-l.mail:
		f() // the oldest post; the rest run at the top of the next step
	}
	if timeout != nil {
		l.timer.Stop()
	}
	return stop
}
