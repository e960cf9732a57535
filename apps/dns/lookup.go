package main

import (
	"errors"
	"io"
	"net/netip"

	"github.com/lwgo/lwgo/rawapi"
)

// result is one name's outcome.
type result struct {
	addr netip.Addr
	err  error
	done bool
}

// lookup resolves a list of names with a resolver, a few at a time (the
// resolver's query slots), and prints the results in the order the names
// were given, each as soon as it and every name before it are done. It
// runs on the stack's goroutine: Start, Expire and the resolver's callbacks.
type lookup struct {
	r        *rawapi.DNS
	names    []string
	res      []result
	window   int // lookups in flight at most
	next     int // first name not started
	inflight int
	printed  int // names printed
	out, log io.Writer
	failed   int
}

func newLookup(r *rawapi.DNS, names []string, window int, out, log io.Writer) *lookup {
	return &lookup{r: r, names: names, res: make([]result, len(names)), window: max(window, 1), out: out, log: log}
}

// Start sends the first queries; names answered at once (address literals,
// the host table, the cache) are printed at once.
func (l *lookup) Start() { l.fill() }

// fill starts lookups until the window is full or every name has started.
func (l *lookup) fill() {
	for l.next < len(l.names) && l.inflight < l.window {
		i := l.next
		l.next++
		addr, err := l.r.GetHostByName(l.names[i], func(_ string, addr netip.Addr, err error) {
			l.inflight--
			l.finish(i, addr, err)
			l.fill()
		})
		if err == rawapi.ErrInProgress {
			l.inflight++
			continue
		}
		l.finish(i, addr, err)
	}
}

// finish records name i's result and prints what is ready.
func (l *lookup) finish(i int, addr netip.Addr, err error) {
	l.res[i] = result{addr: addr, err: err, done: true}
	for l.printed < len(l.res) && l.res[l.printed].done {
		r := &l.res[l.printed]
		name := l.names[l.printed]
		if r.err != nil {
			l.failed++
			io.WriteString(l.log, "dns: "+name+": "+describe(r.err)+"\n")
		} else {
			io.WriteString(l.out, name+" has address "+r.addr.String()+"\n")
		}
		l.printed++
	}
}

// Done reports whether every name has its result.
func (l *lookup) Done() bool { return l.printed == len(l.names) }

// Expire gives up on the names still waiting: each gets ErrTimeout.
func (l *lookup) Expire() {
	for i := range l.res {
		if !l.res[i].done {
			l.finish(i, netip.Addr{}, rawapi.ErrTimeout)
		}
	}
	l.next = len(l.names)
}

// describe names a lookup error as a user would say it.
func describe(err error) string {
	switch {
	case errors.Is(err, rawapi.ErrNotFound):
		return "not found (NXDOMAIN, or no A record)"
	case errors.Is(err, rawapi.ErrTimeout):
		return "no answer (timed out)"
	case errors.Is(err, rawapi.ErrTruncated):
		return "truncated reply (no TCP fallback)"
	case errors.Is(err, rawapi.ErrArg):
		return "not a valid host name"
	case errors.Is(err, rawapi.ErrRoute):
		return "no DNS server, or no route to it"
	case errors.Is(err, rawapi.ErrMem):
		return "out of resolver slots"
	}
	return err.Error()
}
