package iperf2

import "encoding/binary"

// iperf 2's test header (include/payloads.h of iperf 2.1), as seen on the
// wire from iperf 2.1.8: a TCP client opens the data stream with it and the
// server answers a header that has HEADER_EXTEND with a 28-byte
// client_hdr_ack. All fields are big-endian.
//
//	client_hdr_v1 (24 bytes): flags, numThreads, mPort, bufferlen, mWinBand, mAmount
//	client_hdrext (36 bytes here): type, length, upperflags u16, lowerflags u16,
//	    version_u, version_l, reserved u16, tos u16, lRate, uRate, tcp_write_prefetch
//
// mAmount is the byte count of a -n test, or minus the duration in
// hundredths of a second of a -t test. The header's bytes count as test
// data on both sides: the client's -n includes them, the server's total too.
const (
	flagVersion1 = 0x80000000 // -d/-r tests: the server connects back
	flagExtend   = 0x40000000 // client_hdrext follows
	flagLenBit   = 0x00010000 // the header length is in flags&lenMask >> 1
	lenMask      = 0x000001fe

	hdrLen    = 60 // client_hdr_v1 + client_hdrext of a TCP test
	ackLen    = 28 // client_hdr_ack
	maxHdrLen = 256

	msgClientHdrAck = 2

	// The version we announce: 2.1.8 (the Debian package we interoperate
	// with): major 2, minor 1 / patch 8, release type 3 (final).
	versionUpper = 0x00020001
	versionLower = 0x00080003
)

// header describes a test as the client announces it.
type header struct {
	flags    uint32
	threads  int32
	port     int32
	bufLen   int32
	amount   int32 // bytes, or -(duration in 1/100 s)
	verUpper uint32
	verLower uint32
}

// appendHeader appends the 60-byte TCP test header.
func appendHeader(b []byte, h header) []byte {
	be := binary.BigEndian
	b = be.AppendUint32(b, flagExtend|flagLenBit|(hdrLen<<1)&lenMask)
	b = be.AppendUint32(b, uint32(h.threads))
	b = be.AppendUint32(b, uint32(h.port))
	b = be.AppendUint32(b, uint32(h.bufLen))
	b = be.AppendUint32(b, 0) // mWinBand
	b = be.AppendUint32(b, uint32(h.amount))
	b = be.AppendUint32(b, 0) // type
	b = be.AppendUint32(b, 0) // length
	b = be.AppendUint16(b, 0) // upperflags
	b = be.AppendUint16(b, 0) // lowerflags
	b = be.AppendUint32(b, versionUpper)
	b = be.AppendUint32(b, versionLower)
	b = be.AppendUint16(b, 0) // reserved
	b = be.AppendUint16(b, 0) // tos
	b = be.AppendUint32(b, 0) // lRate
	b = be.AppendUint32(b, 0) // uRate
	b = be.AppendUint32(b, 0) // tcp_write_prefetch
	return b
}

// headerLen reports how long the test header at the start of a stream is,
// from its first 4 bytes, and whether there is one: a v1 header (24 bytes)
// for -d/-r tests, or an extended one whose length the flags give. A
// stream that starts otherwise (an old client, or no iperf at all) has none.
func headerLen(flags uint32) (n int, extended bool) {
	switch {
	case flags&(flagExtend|flagLenBit) == flagExtend|flagLenBit:
		n = int(flags&lenMask) >> 1
		if n < 24 || n > maxHdrLen {
			return 0, false
		}
		return n, true
	case flags&flagVersion1 != 0:
		return 24, false
	}
	return 0, false
}

// parseHeader reads the fields of a header of at least 24 bytes.
func parseHeader(b []byte) header {
	be := binary.BigEndian
	h := header{flags: be.Uint32(b), threads: int32(be.Uint32(b[4:])), port: int32(be.Uint32(b[8:])),
		bufLen: int32(be.Uint32(b[12:])), amount: int32(be.Uint32(b[20:]))}
	if len(b) >= 24+20 {
		h.verUpper, h.verLower = be.Uint32(b[36:]), be.Uint32(b[40:])
	}
	return h
}

// appendAck appends the server's client_hdr_ack.
func appendAck(b []byte) []byte {
	be := binary.BigEndian
	b = be.AppendUint32(b, msgClientHdrAck)
	b = be.AppendUint32(b, ackLen)
	b = be.AppendUint32(b, 0) // flags
	b = be.AppendUint32(b, versionUpper)
	b = be.AppendUint32(b, versionLower)
	b = be.AppendUint32(b, 0)
	b = be.AppendUint32(b, 0)
	return b
}
