//go:build linux

package tap

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"
)

// Waker is woken when the TAP has frames to read: platform/hosted's *Waker,
// the loop's interrupt line.
type Waker interface{ Wake() }

// notifier is the goroutine behind Notify. It only waits: it never reads
// the TAP and never touches the stack.
//
// The hand-off is an arm/fire cycle. Receive, on the stack's goroutine, arms
// the notifier when it stops for lack of frames (EAGAIN: arm now) or of
// progress (empty pool, read error: arm after the retry delay). Armed, the
// goroutine waits in poll(2) until the descriptor is readable (or the delay
// passes), calls Wake once and waits to be armed again. poll is level
// triggered and arming always follows an EAGAIN, so a frame that arrives
// between the EAGAIN and the poll still wakes the loop; and since the
// goroutine sleeps between a wake and the next arm, a readable descriptor
// the loop has not drained yet cannot make it spin.
type notifier struct {
	w     Waker
	fds   [2]unix.PollFd     // the TAP, and the eventfd that stop signals
	arm   chan time.Duration // capacity 1: a pending arm (0: poll now; >0: wake after that long)
	quit  chan struct{}
	done  chan struct{}
	timer *time.Timer
	efd   int
	// pollErrs counts failed poll calls (written by the goroutine only,
	// read after it has stopped).
	pollErrs uint64
}

// Notify starts a goroutine that calls w.Wake whenever the device may have
// frames to read, so that a loop (platform/hosted.Run with WithWaker) can
// sleep instead of polling the descriptor. The goroutine only waits in
// poll(2): it never reads frames and never calls the stack, so everything
// stays on the loop's goroutine. Call Notify once, before the loop starts;
// Close stops the goroutine.
func (d *Device) Notify(w Waker) error {
	if d.fd < 0 {
		return ErrClosed
	}
	if d.notify != nil {
		return ErrNotify
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return &OpError{"eventfd", err}
	}
	n := &notifier{
		w:     w,
		arm:   make(chan time.Duration, 1),
		quit:  make(chan struct{}),
		done:  make(chan struct{}),
		timer: time.NewTimer(time.Hour),
		efd:   efd,
	}
	n.timer.Stop()
	n.fds[0] = unix.PollFd{Fd: int32(d.fd), Events: unix.POLLIN}
	n.fds[1] = unix.PollFd{Fd: int32(efd), Events: unix.POLLIN}
	n.arm <- 0 // the first wait starts at once
	d.notify = n
	go n.run()
	return nil
}

// rearm arms the notifier (see notifier); a no-op without Notify or when an
// arm is already pending.
func (d *Device) rearm(delay time.Duration) {
	if d.notify == nil {
		return
	}
	select {
	case d.notify.arm <- delay:
	default:
	}
}

func (n *notifier) run() {
	defer close(n.done)
	for {
		var delay time.Duration
		select {
		case delay = <-n.arm:
		case <-n.quit:
			return
		}
		if delay > 0 && !n.sleep(delay) {
			return
		}
		if delay == 0 {
			for {
				n.fds[0].Revents, n.fds[1].Revents = 0, 0
				_, err := unix.Poll(n.fds[:], -1)
				if err == unix.EINTR {
					continue
				}
				if err != nil {
					// Cannot happen with valid arguments; do not spin.
					n.pollErrs++
					if !n.sleep(defaultRetryDelay) {
						return
					}
				}
				break
			}
			if n.fds[1].Revents != 0 {
				return // stop
			}
		}
		n.w.Wake()
	}
}

// sleep waits d and reports false if stop came first.
func (n *notifier) sleep(d time.Duration) bool {
	n.timer.Reset(d)
	select {
	case <-n.timer.C:
		return true
	case <-n.quit:
		n.timer.Stop()
		return false
	}
}

// stop ends the goroutine, waits for it and closes the eventfd.
func (n *notifier) stop() error {
	close(n.quit)
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, werr := unix.Write(n.efd, one[:]) // wakes poll(2); EAGAIN means it is signalled already
	<-n.done
	err := unix.Close(n.efd)
	if werr != nil && werr != unix.EAGAIN {
		return &OpError{"eventfd write", werr}
	}
	if err != nil {
		return &OpError{"close eventfd", err}
	}
	return nil
}
