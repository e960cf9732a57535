// Package tftp is lwgo's RFC 1350 TFTP server on the raw UDP API,
// event-driven like lwIP's: RRQ and WRQ in octet and netascii modes, the
// blksize (RFC 2348), timeout and tsize (RFC 2349) options negotiated with
// an OACK (RFC 2347), one port (TID) per transfer and many transfers at
// once, retransmission on timeout with a retry limit, no Sorcerer's
// Apprentice (duplicate ACKs are ignored), error packets, and a served
// directory that nothing outside of can be reached. Writes create new files
// only, and only with Config.Write.
//
// The server runs on the stack's goroutine: the caller polls it with the
// stack (Server.Poll drives the retransmission timers) and closes it to stop
// it. apps/tftpd is the command; apps/visor runs it beside its other
// services on one stack.
package tftp
