// Package dns is an RFC 1035 stub resolver for IPv4 addresses on a
// core.Stack, with lwIP's raw API (dns.c): New (dns_init), SetServer
// (dns_setserver), GetHostByName (dns_gethostbyname), AddHost and
// RemoveHost (dns_local_addhost, dns_local_removehost).
//
// GetHostByName answers address literals, the local host table and cached
// names at once; otherwise it sends a recursive A query and returns
// ErrInProgress, and a FoundFunc receives the result inside Stack.Poll.
// Each query in flight has a random ID and its own UDP endpoint on a random
// ephemeral port (RFC 5452 §9.1, §9.2); lookups of a name already in flight
// join that query rather than sending a second one. A query is sent to the
// first server Config.Retries times (waits of Timeout, doubling), then to the
// next; an error RCODE other than NXDOMAIN also moves on to the next server.
//
// A reply is accepted only from the queried server's address and port, with
// the query's ID, QR set, a standard opcode and exactly our question (name
// compared without case, type A, class IN); anything else is dropped and
// counted in Stats. Names are decompressed with every pointer required to
// point strictly before the labels that contain it, so loops and forward
// pointers are refused, as are labels over 63 octets, reserved label types
// and names over 255 octets. The first A record of the answer section for
// the name, or at the end of a CNAME chain of at most Config.MaxCNAME links,
// is the answer; its TTL (the least along the chain, RFC 2181 §8 for values
// with the top bit set) decides caching, capped at Config.MaxTTL; TTL 0 is not
// cached. NXDOMAIN or no A record gives ErrNotFound, TC gives ErrTruncated,
// no answer from any server ErrTimeout.
//
// Memory: New allocates every table (cache, host table, queries, requests);
// lookups, replies and timers allocate nothing. ReadName and the other
// parsers never panic on any input.
//
// # Not implemented
//
// AAAA records and IPv6 transport; TCP fallback on TC (RFC 7766); EDNS(0);
// mDNS for ".local"; negative caching (RFC 2308); DNSSEC; 0x20 case
// randomization; trying more than one server in parallel; escapes
// ("\.") in names; cancelling a lookup.
package dns
