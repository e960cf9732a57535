package rawapi

import (
	"iter"
	"slices"
)

// Tasks runs sequential programs as cooperative tasks on a loop that
// something else owns, as uSock ran them on an RTOS beside raw-API code: a
// Seq made by Tasks.NewSeq does not poll the stack in its blocking calls
// but parks the task that made the call, and the loop owner resumes it by
// calling Poll after Stack.Poll.
//
//	r := rawapi.NewTasks(s)
//	q := r.NewSeq(rawapi.SeqConfig{})
//	r.Go(func() { serve(q) })                      // blocking Accept, Recv, Send…
//	for {
//		next := s.Poll(now)
//		next = min(next, r.Poll(now))              // resumes tasks that can go on
//		sleep until next, or until frames arrive
//	}
//	r.Close()                                      // parked calls return ErrClosed
//
// Tasks are coroutines (iter.Pull): each has a goroutine of its own, but
// control passes by strict handoff, so exactly one of the loop owner and the
// tasks runs at any instant and the stack stays single-threaded; the race
// detector sees every handoff. A task runs only inside Poll or Close, and
// holds the loop until it parks or returns: tasks are cooperative. (A
// coroutine switch is a direct handoff by the runtime: the baton of a pair
// of channels without the scheduler in between.)
//
// Time: a task's clock is the loop's, the latest now given to Poll (or
// seen by the stack's Poll, if later). A parked call resumes in the first
// Poll after the one it parked in that finds news on its Seq (a callback
// reported something, or another task closed one of its sockets) or its
// deadline passed (by that Poll's now); Poll returns the earliest deadline
// of the parked calls, or now when one can already go on, for the loop's
// sleep. A zero timeout parks once: the call checks, lets the loop poll the
// stack once, checks again and returns.
//
// Memory: Go allocates the task; parking and resuming allocate nothing.
type Tasks struct {
	s      *Stack
	now    Time
	tasks  []*task
	cur    *task  // the task running now; nil in the loop owner
	round  uint64 // Poll calls so far
	kick   bool   // a task queued output: poll the stack again at once
	closed bool
}

// task is one coroutine of a Tasks.
type task struct {
	next    func() (struct{}, bool)
	stop    func()
	yield   func(struct{}) bool
	started bool
	q       *Seq   // the Seq the parked call waits on
	seen    uint64 // q's news when it parked
	until   Time   // the parked call's deadline
	round   uint64 // the Poll it parked in
}

// NewTasks returns a runner of sequential tasks on s, whose loop the caller
// owns.
func NewTasks(s *Stack) *Tasks {
	if s == nil {
		panic("rawapi: NewTasks with a nil Stack")
	}
	return &Tasks{s: s}
}

// NewSeq returns a Seq in shared mode: its blocking calls park the calling
// task instead of polling the stack. They must be made from r's tasks;
// elsewhere (the loop owner, a callback) a call that would wait returns
// ErrWouldBlock, or ErrTimeout when its timeout is zero. Calls that never
// wait (Listen, Close, Buffered…) work from anywhere on the loop's side.
func (r *Tasks) NewSeq(cfg SeqConfig) *Seq {
	q := NewSeq(r.s, r, nil, cfg)
	q.tasks = r
	return q
}

// Now returns the loop's time as the tasks see it: the later of the last
// Poll's now and the stack's.
func (r *Tasks) Now() Time { return max(r.now, r.s.Now()) }

// Go starts fn as a task: it runs from the next Poll until its first
// blocking call, and on from there as the loop resumes it. fn must return
// once its calls return ErrClosed (Close). Go returns ErrClosed after Close.
func (r *Tasks) Go(fn func()) error {
	if r.closed {
		return ErrClosed
	}
	t := &task{}
	t.next, t.stop = iter.Pull(func(yield func(struct{}) bool) {
		t.yield = yield
		fn()
	})
	r.tasks = append(r.tasks, t)
	r.kick = true
	return nil
}

// Len returns the number of tasks that have not returned.
func (r *Tasks) Len() int { return len(r.tasks) }

// Poll resumes, in the order they were started, the tasks that can go on:
// new ones, and parked ones whose Seq has news or whose deadline has passed.
// Each runs until it parks again or returns. Poll returns the next time it
// wants to be called: now when a task can already go on or queued output,
// else the earliest deadline of the parked calls, or Never. Call it after
// Stack.Poll, from the loop's goroutine, never from a task or callback.
func (r *Tasks) Poll(now Time) Time {
	if r.cur != nil {
		panic("rawapi: Tasks.Poll from a task")
	}
	r.now = max(r.now, now)
	if r.closed {
		r.stopAll()
		return Never
	}
	r.round++
	for i := 0; i < len(r.tasks); {
		t := r.tasks[i]
		done := t.ready(r.now, r.round) && !r.resume(t)
		if done {
			r.tasks = slices.Delete(r.tasks, i, i+1) // keeps the order: tasks take turns
		} else {
			i++
		}
		if r.closed { // a task closed the runner
			r.stopAll()
			return Never
		}
	}
	next := Never
	if r.kick {
		next, r.kick = r.now, false
	}
	for _, t := range r.tasks {
		switch {
		case !t.started || t.q.news() != t.seen:
			next = r.now
		default:
			next = min(next, t.until)
		}
	}
	return next
}

// ready reports whether t can go on in the Poll of round at now.
func (t *task) ready(now Time, round uint64) bool {
	if !t.started {
		return true
	}
	return t.round != round && (t.q.news() != t.seen || now >= t.until)
}

// resume runs t until it parks (true) or returns (false).
func (r *Tasks) resume(t *task) bool {
	t.started = true
	r.cur = t
	defer func() { r.cur = nil }() // also when the task panics (Poll re-panics)
	_, ok := t.next()
	return ok
}

// Close ends every task: a parked call returns ErrClosed, as does every
// later blocking call, and Close returns once every task has returned (a
// task that has not started never runs). Called from a task, it takes
// effect when that task parks or returns.
func (r *Tasks) Close() {
	r.closed = true
	if r.cur == nil {
		r.stopAll()
	}
}

func (r *Tasks) stopAll() {
	for i, t := range r.tasks {
		r.cur = t
		t.stop()
		r.cur = nil
		r.tasks[i] = nil
	}
	r.tasks = r.tasks[:0]
}

// park is a shared Seq's wait: the running task hands control back to the
// loop until a Poll finds news on q or deadline passed. As the owned wait,
// it returns nil after news, ErrTimeout once the deadline has passed, and
// always lets the loop poll on a call's first wait.
func (r *Tasks) park(q *Seq, deadline Time, first bool) error {
	if r.closed {
		return ErrClosed
	}
	now := r.Now()
	t := r.cur
	if t == nil {
		if now >= deadline {
			return ErrTimeout
		}
		return ErrWouldBlock
	}
	if now >= deadline && !first {
		return ErrTimeout
	}
	seen := q.news()
	t.q, t.seen, t.until, t.round = q, seen, deadline, r.round
	if !t.yield(struct{}{}) || r.closed {
		return ErrClosed
	}
	if q.news() == seen && r.Now() >= deadline {
		return ErrTimeout
	}
	return nil
}
