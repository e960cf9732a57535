package main

import "errors"

// Chunked transfer coding (RFC 9112 §7.1):
//
//	chunked-body   = *chunk last-chunk trailer-section CRLF
//	chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//	chunk-size     = 1*HEXDIG
//	last-chunk     = 1*("0") [ chunk-ext ] CRLF
//
// chunkDecoder decodes it incrementally from whatever pieces the network
// delivers, holding no data itself: chunk data is handed on as slices of the
// input. Chunk extensions and trailer fields are read and ignored (as curl
// does without --trailer handling); a bare LF is accepted where CRLF is due,
// as curl and most clients do. Each extension or trailer line is bounded by
// maxChunkLine, and the trailer section by maxTrailer.
type chunkDecoder struct {
	state   uint8
	size    uint64 // chunk bytes still to come (in chData), or the size being read
	digits  int    // hex digits of the size read so far
	line    int    // bytes of the current extension or trailer line
	trailer int    // bytes of the trailer section so far
}

// Decoder states.
const (
	chSize     uint8 = iota // reading the hex size
	chExt                   // after the size: extension, up to LF
	chData                  // chunk data
	chDataCR                // after data: CR or LF
	chDataLF                // after data and CR: LF
	chTrailer               // at the start of a trailer line (or the final CRLF)
	chTrailerL              // inside a trailer line, up to LF
	chDone
)

// Limits of the parts this decoder reads and drops.
const (
	maxChunkLine = 8 << 10  // an extension or trailer line
	maxTrailer   = 64 << 10 // the trailer section
	maxHexDigits = 15       // 15 hex digits: below 2^60, no overflow
)

// Errors of malformed chunked bodies; curl exits 56 for them.
var (
	errChunkSize  = errors.New("Illegal or missing hexadecimal sequence in chunked-encoding")
	errChunkCRLF  = errors.New("Malformed encoding found in chunked-encoding")
	errChunkLine  = errors.New("chunk extension or trailer line too long")
	errChunkTrail = errors.New("trailer section too long")
)

// Done reports whether the last chunk and the trailer section have been read.
func (d *chunkDecoder) Done() bool { return d.state == chDone }

// Decode consumes encoded bytes from in, calls data with each run of chunk
// data (a sub-slice of in, valid only during the call), and returns how
// many bytes of in it consumed: all of them unless the body ended within
// in (the rest belongs to the next response) or an error occurred. An error
// from data stops decoding and is returned.
func (d *chunkDecoder) Decode(in []byte, data func([]byte) error) (int, error) {
	i := 0
	for i < len(in) && d.state != chDone {
		c := in[i]
		switch d.state {
		case chSize:
			if v, ok := unhex(c); ok {
				if d.digits == maxHexDigits {
					return i, errChunkSize
				}
				d.size = d.size<<4 | uint64(v)
				d.digits++
				i++
				continue
			}
			if d.digits == 0 {
				return i, errChunkSize
			}
			switch c {
			case ';', ' ', '\t':
				d.state, d.line = chExt, 0
			case '\r':
				d.state, d.line = chExt, 0
			case '\n':
				d.endSizeLine()
			default:
				return i, errChunkSize
			}
			i++
		case chExt:
			if c == '\n' {
				d.endSizeLine()
			} else if d.line++; d.line > maxChunkLine {
				return i, errChunkLine
			}
			i++
		case chData:
			n := int(min(d.size, uint64(len(in)-i)))
			if err := data(in[i : i+n]); err != nil {
				return i, err
			}
			d.size -= uint64(n)
			i += n
			if d.size == 0 {
				d.state = chDataCR
			}
		case chDataCR:
			switch c {
			case '\r':
				d.state = chDataLF
			case '\n':
				d.newChunk()
			default:
				return i, errChunkCRLF
			}
			i++
		case chDataLF:
			if c != '\n' {
				return i, errChunkCRLF
			}
			d.newChunk()
			i++
		case chTrailer:
			switch c {
			case '\n':
				d.state = chDone
			case '\r':
				// the CR of the final CRLF, or of an empty line: wait for LF
			default:
				d.state, d.line = chTrailerL, 1
			}
			if d.trailer++; d.trailer > maxTrailer {
				return i, errChunkTrail
			}
			i++
		case chTrailerL:
			if c == '\n' {
				d.state = chTrailer
			} else if d.line++; d.line > maxChunkLine {
				return i, errChunkLine
			}
			if d.trailer++; d.trailer > maxTrailer {
				return i, errChunkTrail
			}
			i++
		}
	}
	return i, nil
}

// endSizeLine ends a chunk-size line: data follows, or the trailer after
// the last chunk.
func (d *chunkDecoder) endSizeLine() {
	if d.size == 0 {
		d.state = chTrailer
		return
	}
	d.state = chData
}

func (d *chunkDecoder) newChunk() { *d = chunkDecoder{state: chSize} }

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
