package rawapi_test

import (
	"bytes"
	"io"
	"net/netip"
	"runtime"
	"testing"

	"github.com/lwgo/lwgo/rawapi"
)

// loop runs stack A's event loop as its owner would: Stack.Poll, then the
// tasks' Poll, then a sleep until the earlier deadline. B and the peers run
// alongside; virtual time advances to the loop's next deadline, by 1 ms at
// most (1 ns at least) per round. It stops when done reports true or d has
// passed, and reports whether done.
func (w *seqWorld) loop(r *rawapi.Tasks, d rawapi.Duration, done func() bool) bool {
	end := w.clk.Now().Add(d)
	for w.clk.Now() < end {
		now := w.clk.Now()
		next := min(w.a.Poll(now), r.Poll(now))
		w.b.Poll(now)
		for _, f := range w.onIdle {
			f()
		}
		if done != nil && done() {
			return true
		}
		w.clk.Advance(max(min(next.Sub(now), rawapi.Millisecond), 1))
	}
	return done != nil && done()
}

// TestTasksTwoSeqTasksAndARawListenerShareOneLoop: on stack A, a sequential
// server task, a sequential client task and a raw-API echo listener run in
// one loop that nobody but its owner polls.
func TestTasksTwoSeqTasksAndARawListenerShareOneLoop(t *testing.T) {
	w := newSeqWorld(t, seqWorldConfig{})
	listenB(t, w.a, 7, func() rawapi.TCPHandler { return echoB{} }) // raw, on A
	listenB(t, w.b, 9, func() rawapi.TCPHandler { return echoB{} })
	r := rawapi.NewTasks(w.a)
	q := r.NewSeq(rawapi.SeqConfig{})

	// Server task: two clients in turn, each echoed to end of stream.
	var served int
	var serverErr error
	r.Go(func() {
		l, err := q.Listen(netip.AddrPortFrom(netip.Addr{}, 80), 0)
		if err != nil {
			serverErr = err
			return
		}
		defer l.Close()
		buf := make([]byte, 1000)
		for range 2 {
			c, err := l.Accept(10 * rawapi.Second)
			if err != nil {
				serverErr = err
				return
			}
			for {
				n, err := c.Recv(buf, 10*rawapi.Second)
				if err == io.EOF {
					break
				}
				if err != nil {
					serverErr = err
					return
				}
				if _, err := c.Send(buf[:n], 10*rawapi.Second); err != nil {
					serverErr = err
					return
				}
			}
			c.Close()
			served++
		}
	})

	// Client task: 200 kB through B's echo, more than a window's worth.
	data := pattern(200_000)
	var got []byte
	var clientErr error
	r.Go(func() {
		c, err := q.Dial(netip.AddrPortFrom(seqAddrB, 9), 5*rawapi.Second)
		if err != nil {
			clientErr = err
			return
		}
		defer c.Close()
		buf := make([]byte, 4096)
		for sent := 0; sent < len(data); {
			n, err := c.Send(data[sent:min(sent+30_000, len(data))], 10*rawapi.Second)
			if err != nil {
				clientErr = err
				return
			}
			sent += n
			for c.Buffered() > 0 {
				n, _ := c.Recv(buf, 0)
				got = append(got, buf[:n]...)
			}
		}
		c.CloseWrite()
		for {
			n, err := c.Recv(buf, 10*rawapi.Second)
			got = append(got, buf[:n]...)
			if err == io.EOF {
				return
			}
			if err != nil {
				clientErr = err
				return
			}
		}
	})
	if r.Len() != 2 {
		t.Fatalf("Len = %d before the first Poll, want 2", r.Len())
	}

	// Raw clients on B: two for the server task, one for the raw listener.
	cl := []*clientB{{msg: []byte("first")}, {msg: []byte("second")}, {msg: []byte("raw")}}
	tcs := []rawapi.TCP{dialB(t, w, 80, cl[0]), dialB(t, w, 80, cl[1]), dialB(t, w, 7, cl[2])}
	var closedWrite [3]bool
	w.onIdle = append(w.onIdle, func() { // half-close once the echo is back
		for i, h := range cl {
			if !closedWrite[i] && len(h.reply) == len(h.msg) {
				closedWrite[i] = true
				tcs[i].CloseWrite()
			}
		}
	})
	done := func() bool { return r.Len() == 0 && cl[0].done && cl[1].done && cl[2].done }
	if !w.loop(r, 60*rawapi.Second, done) {
		t.Fatalf("not done: %d tasks left, served %d (%v), client %d bytes (%v), raw clients %+v %+v %+v",
			r.Len(), served, serverErr, len(got), clientErr, *cl[0], *cl[1], *cl[2])
	}
	if serverErr != nil || served != 2 || clientErr != nil {
		t.Fatalf("server: %d served, %v; client: %v", served, serverErr, clientErr)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("client task: %d bytes back, differing from the %d sent", len(got), len(data))
	}
	for i, h := range cl {
		if string(h.reply) != string(h.msg) || h.err != nil {
			t.Errorf("raw client %d: %q, %v", i, h.reply, h.err)
		}
	}
	r.Close()
	w.settle(t)
}

// TestTasksRecvTimeoutRunsOnTheLoopsClock: a parked Recv expires when the
// loop's clock reaches its deadline, which Poll reports for the loop's
// sleep; a zero timeout costs one round of the loop and no time.
func TestTasksRecvTimeoutRunsOnTheLoopsClock(t *testing.T) {
	w := newSeqWorld(t, seqWorldConfig{})
	listenB(t, w.b, 9, func() rawapi.TCPHandler { return silentB{} })
	r := rawapi.NewTasks(w.a)
	q := r.NewSeq(rawapi.SeqConfig{})
	var (
		conn          rawapi.SeqConn
		start, at     rawapi.Time
		rounds        int
		errs          []error
		parked, ended bool
	)
	r.Go(func() {
		c, err := q.Dial(netip.AddrPortFrom(seqAddrB, 9), 5*rawapi.Second)
		if err != nil {
			errs = append(errs, err)
			return
		}
		conn = c
		q.Wait(0) // news of the connection
		buf := make([]byte, 10)
		start, parked = q.Now(), true
		_, err = c.Recv(buf, 2*rawapi.Second)
		at, parked = q.Now(), false
		errs = append(errs, err)
		r0 := rounds
		_, err = c.Recv(buf, 0)
		errs = append(errs, err)
		if rounds != r0+1 || q.Now() != at {
			t.Errorf("a zero timeout took %d rounds and %d ns, want 1 round and no time", rounds-r0, q.Now().Sub(at))
		}
		ended = true
	})
	var deadlines []rawapi.Time // what Poll reported while Recv was parked
	for !ended && rounds < 100_000 {
		now := w.clk.Now()
		next := w.a.Poll(now)
		tn := r.Poll(now)
		rounds++
		if parked {
			deadlines = append(deadlines, tn)
		}
		next = min(next, tn)
		w.b.Poll(now)
		w.clk.Advance(max(min(next.Sub(now), rawapi.Millisecond), 0)) // no time for a round due now
	}
	if len(errs) != 2 || errs[0] != rawapi.ErrTimeout || errs[1] != rawapi.ErrTimeout {
		t.Fatalf("Recv errors %v, want ErrTimeout twice", errs)
	}
	if d := at.Sub(start); d != 2*rawapi.Second {
		t.Fatalf("Recv timed out after %d ns of the loop's time, want 2 s", d)
	}
	if len(deadlines) < 2 {
		t.Fatalf("Recv parked for %d rounds", len(deadlines))
	}
	for _, d := range deadlines {
		if d != start.Add(2*rawapi.Second) {
			t.Fatalf("Poll returned %d while Recv was parked, want its deadline %d", d, start.Add(2*rawapi.Second))
		}
	}

	// The loop owner is no task: a call that would wait does not.
	buf := make([]byte, 10)
	if _, err := conn.Recv(buf, rawapi.Second); err != rawapi.ErrWouldBlock {
		t.Fatalf("Recv outside a task = %v, want ErrWouldBlock", err)
	}
	if _, err := conn.Recv(buf, 0); err != rawapi.ErrTimeout {
		t.Fatalf("Recv outside a task with a zero timeout = %v, want ErrTimeout", err)
	}
	conn.Close()
	r.Close()
	w.settle(t)
}

// TestTasksCloseEndsParkedTasks: Close ends tasks parked in every kind of
// blocking call with ErrClosed and leaves no goroutine behind; a task that
// never ran does not run, and Go then refuses.
func TestTasksCloseEndsParkedTasks(t *testing.T) {
	w := newSeqWorld(t, seqWorldConfig{})
	listenB(t, w.b, 9, func() rawapi.TCPHandler { return silentB{} })
	goroutines := runtime.NumGoroutine()
	r := rawapi.NewTasks(w.a)
	q := r.NewSeq(rawapi.SeqConfig{})
	results := map[string]error{}
	var conn rawapi.SeqConn
	var lst rawapi.SeqListener
	var udp rawapi.SeqUDP
	r.Go(func() {
		l, err := q.Listen(netip.AddrPortFrom(netip.Addr{}, 80), 0)
		if err != nil {
			t.Error(err)
			return
		}
		lst = l
		_, results["Accept"] = l.Accept(rawapi.Forever)
	})
	r.Go(func() {
		c, err := q.Dial(netip.AddrPortFrom(seqAddrB, 9), 5*rawapi.Second)
		if err != nil {
			t.Error(err)
			return
		}
		conn = c
		_, results["Recv"] = c.Recv(make([]byte, 10), rawapi.Forever)
		_, results["Recv again"] = c.Recv(make([]byte, 10), rawapi.Forever)
	})
	r.Go(func() {
		u, err := q.OpenUDP(netip.AddrPort{})
		if err != nil {
			t.Error(err)
			return
		}
		udp = u
		_, _, results["RecvFrom"] = u.RecvFrom(make([]byte, 10), rawapi.Forever)
	})
	r.Go(func() {
		for {
			if err := q.Wait(rawapi.Forever); err != nil { // nil: news of the other tasks' setup
				results["Wait"] = err
				return
			}
		}
	})
	r.Go(func() { q.Sleep(rawapi.Forever); results["Sleep"] = nil })
	w.loop(r, 10*rawapi.Second, nil)
	if r.Len() != 5 || len(results) != 0 {
		t.Fatalf("%d tasks, results %v before Close", r.Len(), results)
	}
	if n := runtime.NumGoroutine(); n < goroutines+5 {
		t.Fatalf("%d goroutines with 5 tasks parked, %d before", n, goroutines) // each task is a coroutine
	}
	ran := false
	r.Go(func() { ran = true })
	r.Close()
	if r.Len() != 0 || ran {
		t.Fatalf("after Close: %d tasks, the unstarted one ran: %v", r.Len(), ran)
	}
	for _, k := range []string{"Accept", "Recv", "Recv again", "RecvFrom", "Wait"} {
		if err, ok := results[k]; !ok || err != rawapi.ErrClosed {
			t.Errorf("%s: %v (returned %v), want ErrClosed", k, err, ok)
		}
	}
	if _, ok := results["Sleep"]; !ok {
		t.Error("Sleep did not return")
	}
	if err := r.Go(func() {}); err != rawapi.ErrClosed {
		t.Fatalf("Go after Close = %v", err)
	}
	if next := r.Poll(w.clk.Now()); next != rawapi.Never {
		t.Fatalf("Poll after Close = %d, want Never", next)
	}
	// The sockets still close from the loop's side.
	for _, err := range []error{conn.Close(), lst.Close(), udp.Close()} {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; runtime.NumGoroutine() > goroutines && i < 100; i++ {
		runtime.Gosched()
	}
	if n := runtime.NumGoroutine(); n > goroutines {
		t.Fatalf("%d goroutines after Close, %d before the tasks", n, goroutines)
	}
	w.settle(t)
}

// TestTasksClosingASocketWakesTheTaskParkedOnIt: one task closes a
// connection another is blocked on; the blocked Recv ends with ErrClosed
// at once, not at its deadline.
func TestTasksClosingASocketWakesTheTaskParkedOnIt(t *testing.T) {
	w := newSeqWorld(t, seqWorldConfig{})
	listenB(t, w.b, 9, func() rawapi.TCPHandler { return silentB{} })
	r := rawapi.NewTasks(w.a)
	q := r.NewSeq(rawapi.SeqConfig{})
	var conn rawapi.SeqConn
	var recvErr error
	var recvAt, closeAt rawapi.Time
	r.Go(func() {
		c, err := q.Dial(netip.AddrPortFrom(seqAddrB, 9), 5*rawapi.Second)
		if err != nil {
			t.Error(err)
			return
		}
		conn = c
		_, recvErr = c.Recv(make([]byte, 10), rawapi.Forever)
		recvAt = q.Now()
	})
	r.Go(func() {
		for !conn.IsValid() {
			q.Sleep(rawapi.Millisecond)
		}
		q.Sleep(rawapi.Second)
		closeAt = q.Now()
		conn.Close()
	})
	if !w.loop(r, 30*rawapi.Second, func() bool { return r.Len() == 0 }) {
		t.Fatalf("%d tasks left", r.Len())
	}
	if recvErr != rawapi.ErrClosed || recvAt.Sub(closeAt) > rawapi.Millisecond {
		t.Fatalf("Recv = %v %d ns after the Close, want ErrClosed at once", recvErr, recvAt.Sub(closeAt))
	}
	r.Close()
	w.settle(t)
}

// TestTasksNoAllocs: a task's Send, Recv, RecvBuf and Wait park and resume
// without allocating.
func TestTasksNoAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	w := newSeqWorld(t, seqWorldConfig{})
	listenB(t, w.b, 7, func() rawapi.TCPHandler { return echoB{} })
	r := rawapi.NewTasks(w.a)
	q := r.NewSeq(rawapi.SeqConfig{})
	msg := pattern(1000)
	var rounds int
	var failed error
	r.Go(func() {
		c, err := q.Dial(netip.AddrPortFrom(seqAddrB, 7), 5*rawapi.Second)
		if err != nil {
			failed = err
			return
		}
		defer c.Close()
		buf := make([]byte, 600) // two Recvs per round, the first parked
		for {
			if _, err := c.Send(msg, 5*rawapi.Second); err != nil {
				failed = err
				return
			}
			for got := 0; got < len(msg); {
				if got == 0 {
					b, err := c.RecvBuf(5 * rawapi.Second)
					if err != nil {
						failed = err
						return
					}
					got += b.Len()
					b.Free()
					continue
				}
				n, err := c.Recv(buf, 5*rawapi.Second)
				if err != nil {
					failed = err
					return
				}
				got += n
			}
			if err := q.Wait(0); err == rawapi.ErrClosed {
				return
			}
			rounds++
		}
	})
	want := 0
	more := func() bool { return rounds >= want || failed != nil }
	round := func() {
		want = rounds + 1
		w.loop(r, 5*rawapi.Second, more)
	}
	round() // warm up: ARP, windows
	if allocs := testing.AllocsPerRun(200, round); allocs != 0 {
		t.Fatalf("a round allocates %v times, want 0", allocs)
	}
	if failed != nil || rounds < 200 {
		t.Fatalf("%d rounds, %v", rounds, failed)
	}
	r.Close()
	if failed != rawapi.ErrClosed || r.Len() != 0 {
		t.Fatalf("after Close: %v, %d tasks; want ErrClosed, none", failed, r.Len())
	}
	w.settle(t)
}
