package rawapi

import "net/netip"

// seqDgram is a received datagram waiting for RecvFrom.
type seqDgram struct {
	b   *Buf
	src netip.AddrPort
}

// seqUDP is one UDP socket slot of a Seq.
type seqUDP struct {
	q      *Seq
	idx    int16
	gen    uint16
	used   bool
	u      UDP
	ring   []seqDgram // SeqConfig.UDPQueue entries
	head   int
	n      int
	drops  uint64
	recvFn UDPRecvFunc
}

// SeqUDP is a handle to a UDP socket of a Seq. The zero SeqUDP is invalid.
type SeqUDP struct {
	q   *Seq
	idx int16
	gen uint16
}

func (h SeqUDP) sock() *seqUDP {
	if h.q == nil || h.idx < 0 || int(h.idx) >= len(h.q.udps) {
		return nil
	}
	u := &h.q.udps[h.idx]
	if !u.used || u.gen != h.gen {
		return nil
	}
	return u
}

// recv queues a datagram, or drops it when the queue is full.
func (u *seqUDP) recv(h UDP, p *Buf, src netip.AddrPort, _ netip.Addr) {
	if !u.used || h != u.u {
		p.Free()
		return
	}
	if u.n == len(u.ring) {
		u.drops++
		p.Free()
		return
	}
	u.ring[(u.head+u.n)%len(u.ring)] = seqDgram{b: p, src: src}
	u.n++
	u.q.events++
}

// pop removes the oldest datagram.
func (u *seqUDP) pop() seqDgram {
	d := u.ring[u.head]
	u.ring[u.head] = seqDgram{}
	u.head = (u.head + 1) % len(u.ring)
	u.n--
	return d
}

// OpenUDP opens a UDP socket bound to laddr (an invalid or unspecified
// address: all; port 0: an ephemeral port). uSock: usock_open of a
// datagram socket.
func (q *Seq) OpenUDP(laddr netip.AddrPort) (SeqUDP, error) {
	var u *seqUDP
	for i := range q.udps {
		if !q.udps[i].used {
			u = &q.udps[i]
			break
		}
	}
	if u == nil {
		return SeqUDP{}, ErrMem
	}
	h, err := q.s.NewUDP()
	if err != nil {
		return SeqUDP{}, err
	}
	if err := h.Bind(laddr.Addr(), laddr.Port()); err != nil {
		h.Close()
		return SeqUDP{}, err
	}
	u.gen++
	if u.gen == 0 {
		u.gen = 1
	}
	u.used, u.u, u.head, u.n, u.drops = true, h, 0, 0, 0
	h.SetRecv(u.recvFn)
	return SeqUDP{q, u.idx, u.gen}, nil
}

// SendTo sends p to raddr; p stays the caller's. It waits up to timeout
// while the stack has no buffer (ErrMem), and returns the stack's other
// errors at once (ErrRoute, ErrVal). An unresolved neighbour does not block:
// the datagram waits in the ARP queue. uSock: usock_send.
func (h SeqUDP) SendTo(p []byte, raddr netip.AddrPort, timeout Duration) error {
	u := h.sock()
	if u == nil {
		return ErrClosed
	}
	q := h.q
	deadline := q.deadline(timeout)
	for first := true; ; first = false {
		err := u.u.SendTo(p, raddr)
		if err != ErrMem {
			return err
		}
		if err := q.wait(deadline, first); err != nil {
			return err
		}
		if !u.used || u.gen != h.gen {
			return ErrClosed
		}
	}
}

// RecvFrom waits up to timeout for a datagram, copies it into p and returns
// its length and sender. A datagram longer than p is truncated to len(p)
// and the rest discarded. uSock: usock_recv.
func (h SeqUDP) RecvFrom(p []byte, timeout Duration) (int, netip.AddrPort, error) {
	b, src, err := h.RecvBuf(timeout)
	if err != nil {
		return 0, src, err
	}
	n := copy(p, b.Bytes())
	b.Free()
	return n, src, nil
}

// RecvBuf waits up to timeout for a datagram and returns it with its
// sender; the caller owns the buffer and must Free it.
func (h SeqUDP) RecvBuf(timeout Duration) (*Buf, netip.AddrPort, error) {
	u := h.sock()
	if u == nil {
		return nil, netip.AddrPort{}, ErrClosed
	}
	q := h.q
	deadline := q.deadline(timeout)
	for first := true; ; first = false {
		if u.n > 0 {
			d := u.pop()
			return d.b, d.src, nil
		}
		if err := q.wait(deadline, first); err != nil {
			return nil, netip.AddrPort{}, err
		}
		if !u.used || u.gen != h.gen {
			return nil, netip.AddrPort{}, ErrClosed
		}
	}
}

// Pending returns the number of datagrams waiting for RecvFrom.
func (h SeqUDP) Pending() int {
	if u := h.sock(); u != nil {
		return u.n
	}
	return 0
}

// Drops returns the number of datagrams dropped because the queue was full.
func (h SeqUDP) Drops() uint64 {
	if u := h.sock(); u != nil {
		return u.drops
	}
	return 0
}

// LocalAddr returns the bound address and port.
func (h SeqUDP) LocalAddr() netip.AddrPort {
	if u := h.sock(); u != nil {
		return u.u.LocalAddr()
	}
	return netip.AddrPort{}
}

// UDP returns the raw handle, for options (SetTTL, SetTOS, Connect). Do not
// set its receive function or close it directly.
func (h SeqUDP) UDP() UDP {
	if u := h.sock(); u != nil {
		return u.u
	}
	return UDP{}
}

// Close closes the socket and frees the datagrams still queued. uSock:
// usock_close.
func (h SeqUDP) Close() error {
	u := h.sock()
	if u == nil {
		return ErrClosed
	}
	for u.n > 0 {
		u.pop().b.Free()
	}
	u.used = false
	h.q.local++
	err := u.u.Close()
	u.u = UDP{}
	return err
}
