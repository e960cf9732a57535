// Package pbuf holds lwgo's packet buffers: fixed-size slots carved once from
// one arena, handed out by a Pool without allocation, reference counted, and
// returned with Free. It mirrors lwIP's pbuf with PBUF_POOL memory and without
// chains: one slot holds one whole frame with headroom for the headers that
// lower layers prepend.
//
// Ownership is explicit. Functions that take a *Buf say "takes ownership of
// b" (they will Free it, or pass it on) or "b remains owned by the caller".
// A Buf may be used by one goroutine at a time, like everything in the core.
//
// Not implemented: chains (frames larger than one slot). A pool's slot size
// is chosen from the largest frame it must hold.
package pbuf
