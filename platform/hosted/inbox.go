package hosted

// Waker is the loop's interrupt line: a device (or the goroutine that
// receives for it) calls Wake when frames have arrived, and a Run given the
// Waker with WithWaker stops sleeping and polls. Wakes coalesce: any number of
// Wake calls before the loop next waits amount to one wake-up. Several devices
// may share one Waker. The zero Waker is not usable: create one with NewWaker.
type Waker struct {
	c chan struct{} // capacity 1: a pending wake
}

// NewWaker returns a Waker with no wake pending.
func NewWaker() *Waker { return &Waker{c: make(chan struct{}, 1)} }

// Wake wakes the loop, or marks a wake pending if the loop is busy. It may be
// called from any goroutine, never blocks and does not allocate.
func (w *Waker) Wake() {
	select {
	case w.c <- struct{}{}:
	default: // a wake is already pending
	}
}

// Inbox is a bounded queue of functions that other goroutines hand to the
// loop goroutine, which runs them between Poll calls in the order they were
// posted (lwIP's tcpip_callback mailbox). It is the only way for another
// goroutine to touch a stack that Run drives. Posting wakes the loop. An
// Inbox is drained by one Run at a time. The zero Inbox is not usable: create
// one with NewInbox.
type Inbox struct {
	c chan func()
}

// NewInbox returns an Inbox that holds up to n functions. It panics if n < 1.
func NewInbox(n int) *Inbox {
	if n < 1 {
		panic("hosted: NewInbox size < 1")
	}
	return &Inbox{c: make(chan func(), n)}
}

// Post queues f to run on the loop goroutine and wakes the loop. It never
// blocks: it returns false, and f will not run, when the Inbox is full. It may
// be called from any goroutine, including from a function the loop is
// running. f must not be nil.
func (in *Inbox) Post(f func()) bool {
	if f == nil {
		panic("hosted: Inbox.Post(nil)")
	}
	select {
	case in.c <- f:
		return true
	default:
		return false
	}
}

// Len returns the number of functions waiting to run.
func (in *Inbox) Len() int { return len(in.c) }

// Cap returns the number of functions the Inbox holds when full.
func (in *Inbox) Cap() int { return cap(in.c) }

// drain runs the functions that are queued now, not those they post.
func (in *Inbox) drain() {
	for n := len(in.c); n > 0; n-- {
		select {
		case f := <-in.c:
			f()
		default:
			return
		}
	}
}
