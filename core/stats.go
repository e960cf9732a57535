package core

import "strconv"

// ProtoStats are one protocol's counters, as lwIP's struct stats_proto.
type ProtoStats struct {
	Xmit     uint64 // packets sent
	Recv     uint64 // packets received
	Drop     uint64 // packets dropped, for any reason
	ChkErr   uint64 // checksum errors
	LenErr   uint64 // invalid lengths
	MemErr   uint64 // out of buffers
	RtErr    uint64 // no route
	ProtErr  uint64 // protocol errors (malformed, unexpected, unsupported)
	OptErr   uint64 // option errors
	Err      uint64 // other errors
	CacheHit uint64 // cache hits (ARP)
}

// AppendTo appends "name: xmit=… recv=… …" and returns the extended slice.
func (p *ProtoStats) AppendTo(b []byte, name string) []byte {
	b = append(b, name...)
	b = append(b, ':')
	b = appendField(b, "xmit", p.Xmit)
	b = appendField(b, "recv", p.Recv)
	b = appendField(b, "drop", p.Drop)
	b = appendField(b, "chkerr", p.ChkErr)
	b = appendField(b, "lenerr", p.LenErr)
	b = appendField(b, "memerr", p.MemErr)
	b = appendField(b, "rterr", p.RtErr)
	b = appendField(b, "proterr", p.ProtErr)
	b = appendField(b, "opterr", p.OptErr)
	b = appendField(b, "err", p.Err)
	b = appendField(b, "cachehit", p.CacheHit)
	return append(b, '\n')
}

func appendField(b []byte, name string, v uint64) []byte {
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, '=')
	return strconv.AppendUint(b, v, 10)
}

// IPDrops counts dropped IPv4 datagrams and fragments by reason.
type IPDrops struct {
	Truncated    uint64 // shorter than the header or the total length
	BadVersion   uint64 // version ≠ 4 (RFC 1122 §3.2.1.1)
	BadHeaderLen uint64 // IHL < 5 or beyond the data
	BadLength    uint64 // total length below the header length
	BadChecksum  uint64 // header checksum failed (RFC 1122 §3.2.1.2)
	BadSource    uint64 // broadcast, multicast, class E or loopback source (RFC 1122 §3.2.1.3)
	NotForUs     uint64 // destination is none of ours (we do not forward)
	NoProto      uint64 // protocol not handled
	LinkNoAddr   uint64 // arrived on an interface that is down or has no address
	BadFragment  uint64 // non-final fragment not a multiple of 8, or beyond 65535
	ReassOverlap uint64 // fragment partly overlapping received data, or differing from it
	ReassDup     uint64 // fragment wholly duplicating received data (ignored)
	ReassTooBig  uint64 // datagram larger than Config.ReassMaxSize
	ReassTimeout uint64 // partial datagrams expired
	ReassEvicted uint64 // partial datagrams evicted for a newer one
	ReassNoBuf   uint64 // no reassembly slot could be had
	FragNoBuf    uint64 // no buffer for an outgoing fragment
	FragDF       uint64 // datagram larger than the MTU with DF set, not sent
}

// ARPCounters are ARP events beyond ProtoStats.
type ARPCounters struct {
	Requests   uint64 // requests sent
	Replies    uint64 // replies sent
	Conflicts  uint64 // another host claimed one of our addresses (RFC 5227)
	Defends    uint64 // gratuitous announcements sent to defend an address
	QueueDrops uint64 // queued packets dropped: queue full or resolution failed
	Failures   uint64 // resolutions that timed out
	Evictions  uint64 // entries evicted to make room
}

// ICMPCounters are ICMP events beyond ProtoStats.
type ICMPCounters struct {
	EchoReplies   uint64 // echo replies sent
	Unreachables  uint64 // destination-unreachable messages sent
	TimeExceeded  uint64 // time-exceeded messages sent
	RateLimited   uint64 // errors not sent because of Config.ICMPErrorRate
	Suppressed    uint64 // errors not sent by RFC 1122 §3.2.2 (about an ICMP error, a broadcast, a fragment, a non-unicast source)
	BroadcastEcho uint64 // echo requests to a broadcast address, ignored
	ErrorsIn      uint64 // ICMP errors received and passed to a transport
}

// Stats are the stack's counters. Read them with Stack.Stats.
type Stats struct {
	Link   ProtoStats // Ethernet
	ARP    ProtoStats
	IPFrag ProtoStats // fragments: recv = fragments received, xmit = fragments sent
	IP     ProtoStats
	ICMP   ProtoStats
	UDP    ProtoStats
	TCP    ProtoStats // segments to and from the TCP engine; see Stack.TCPStats for more

	IPDrop  IPDrops
	ARPEx   ARPCounters
	ICMPEx  ICMPCounters
	PoolOut uint64 // allocations refused by the packet pool
}

// AppendTo appends the counters as text, one protocol a line, and returns
// the extended slice. It allocates only to grow b.
func (s *Stats) AppendTo(b []byte) []byte {
	b = s.Link.AppendTo(b, "link")
	b = s.ARP.AppendTo(b, "etharp")
	b = s.IPFrag.AppendTo(b, "ip_frag")
	b = s.IP.AppendTo(b, "ip")
	b = s.ICMP.AppendTo(b, "icmp")
	b = s.UDP.AppendTo(b, "udp")
	b = s.TCP.AppendTo(b, "tcp")
	d := &s.IPDrop
	b = append(b, "ip_drop:"...)
	b = appendField(b, "truncated", d.Truncated)
	b = appendField(b, "badversion", d.BadVersion)
	b = appendField(b, "badhdrlen", d.BadHeaderLen)
	b = appendField(b, "badlen", d.BadLength)
	b = appendField(b, "badchksum", d.BadChecksum)
	b = appendField(b, "badsrc", d.BadSource)
	b = appendField(b, "notforus", d.NotForUs)
	b = appendField(b, "noproto", d.NoProto)
	b = appendField(b, "noaddr", d.LinkNoAddr)
	b = appendField(b, "badfrag", d.BadFragment)
	b = appendField(b, "reass_overlap", d.ReassOverlap)
	b = appendField(b, "reass_dup", d.ReassDup)
	b = appendField(b, "reass_toobig", d.ReassTooBig)
	b = appendField(b, "reass_timeout", d.ReassTimeout)
	b = appendField(b, "reass_evicted", d.ReassEvicted)
	b = appendField(b, "reass_nobuf", d.ReassNoBuf)
	b = appendField(b, "frag_nobuf", d.FragNoBuf)
	b = appendField(b, "frag_df", d.FragDF)
	a := &s.ARPEx
	b = append(b, "\narp_ex:"...)
	b = appendField(b, "requests", a.Requests)
	b = appendField(b, "replies", a.Replies)
	b = appendField(b, "conflicts", a.Conflicts)
	b = appendField(b, "defends", a.Defends)
	b = appendField(b, "queuedrops", a.QueueDrops)
	b = appendField(b, "failures", a.Failures)
	b = appendField(b, "evictions", a.Evictions)
	c := &s.ICMPEx
	b = append(b, "\nicmp_ex:"...)
	b = appendField(b, "echoreplies", c.EchoReplies)
	b = appendField(b, "unreachables", c.Unreachables)
	b = appendField(b, "timeexceeded", c.TimeExceeded)
	b = appendField(b, "ratelimited", c.RateLimited)
	b = appendField(b, "suppressed", c.Suppressed)
	b = appendField(b, "broadcastecho", c.BroadcastEcho)
	b = appendField(b, "errorsin", c.ErrorsIn)
	b = append(b, "\npool:"...)
	b = appendField(b, "out", s.PoolOut)
	return append(b, '\n')
}

// String returns the counters as text (see AppendTo).
func (s *Stats) String() string { return string(s.AppendTo(make([]byte, 0, 1536))) }
