package tftp

import (
	"bytes"
	"encoding/binary"
	"strconv"
)

// TFTP opcodes (RFC 1350 §5, RFC 2347).
const (
	opRRQ   = 1
	opWRQ   = 2
	opDATA  = 3
	opACK   = 4
	opERROR = 5
	opOACK  = 6
)

// TFTP error codes (RFC 1350 appendix, RFC 2347).
const (
	errUndef      = 0
	errNotFound   = 1
	errAccess     = 2
	errDiskFull   = 3
	errIllegal    = 4
	errUnknownTID = 5
	errExists     = 6
	errNoUser     = 7
	errOptions    = 8
)

// Block-size limits (RFC 2348).
const (
	defaultBlockSize = 512
	minBlockSize     = 8
	maxBlockSize     = 65464
)

// request is a parsed RRQ or WRQ.
type request struct {
	write    bool
	name     string
	netascii bool
	// Options, as requested; -1: absent.
	blksize int
	tsize   int64
	timeout int
}

// errMalformed and friends describe why a request was refused.
type reqError struct {
	code int
	msg  string
}

func (e *reqError) Error() string { return e.msg }

// parseRequest parses an RRQ or WRQ (RFC 1350 §5, RFC 2347 §2). Option
// names and the mode are case-insensitive; unknown options are ignored, as
// are options with values we cannot honour (RFC 2347 §3: the server simply
// leaves them out of its OACK).
func parseRequest(p []byte) (request, *reqError) {
	r := request{blksize: -1, tsize: -1, timeout: -1}
	if len(p) < 2 {
		return r, &reqError{errIllegal, "short packet"}
	}
	switch binary.BigEndian.Uint16(p) {
	case opRRQ:
	case opWRQ:
		r.write = true
	default:
		return r, &reqError{errIllegal, "not a request"}
	}
	fields := p[2:]
	if len(fields) == 0 || fields[len(fields)-1] != 0 {
		return r, &reqError{errIllegal, "request not NUL-terminated"}
	}
	parts := bytes.Split(fields[:len(fields)-1], []byte{0})
	if len(parts) < 2 || len(parts[0]) == 0 {
		return r, &reqError{errIllegal, "no file name or mode"}
	}
	r.name = string(parts[0])
	switch mode := string(bytes.ToLower(parts[1])); mode {
	case "octet":
	case "netascii":
		r.netascii = true
	case "mail":
		return r, &reqError{errIllegal, "mail mode not supported"}
	default:
		return r, &reqError{errIllegal, "unknown mode"}
	}
	opts := parts[2:]
	if len(opts)%2 != 0 {
		return r, &reqError{errOptions, "option without a value"}
	}
	for i := 0; i < len(opts); i += 2 {
		name, val := string(bytes.ToLower(opts[i])), string(opts[i+1])
		switch name {
		case "blksize":
			if v, err := strconv.Atoi(val); err == nil && v >= minBlockSize {
				r.blksize = min(v, maxBlockSize)
			}
		case "tsize":
			if v, err := strconv.ParseInt(val, 10, 64); err == nil && v >= 0 {
				r.tsize = v
			}
		case "timeout":
			if v, err := strconv.Atoi(val); err == nil && v >= 1 && v <= 255 {
				r.timeout = v
			}
		}
	}
	return r, nil
}

// appendError builds an ERROR packet.
func appendError(b []byte, code int, msg string) []byte {
	b = binary.BigEndian.AppendUint16(b, opERROR)
	b = binary.BigEndian.AppendUint16(b, uint16(code))
	b = append(b, msg...)
	return append(b, 0)
}

// appendOption adds "name\0value\0" to an OACK.
func appendOption(b []byte, name string, v int64) []byte {
	b = append(b, name...)
	b = append(b, 0)
	b = strconv.AppendInt(b, v, 10)
	return append(b, 0)
}

// appendACK builds an ACK packet.
func appendACK(b []byte, block uint16) []byte {
	b = binary.BigEndian.AppendUint16(b, opACK)
	return binary.BigEndian.AppendUint16(b, block)
}
