package wire

// Err is a parse error. Callers count it and drop the packet.
type Err uint8

// Parse errors.
const (
	ErrTruncated    Err = iota + 1 // shorter than the fixed header, or than a length field says
	ErrBadVersion                  // IP version is not 4
	ErrBadHeaderLen                // header length field below the minimum or beyond the data
	ErrBadLength                   // a total-length field is inconsistent
	ErrBadOption                   // an option runs past the header or has an illegal length
	ErrUnsupported                 // a valid packet of a kind lwgo does not handle (e.g. non-Ethernet ARP)
)

// Error returns a short description of e.
func (e Err) Error() string {
	switch e {
	case ErrTruncated:
		return "wire: truncated"
	case ErrBadVersion:
		return "wire: bad IP version"
	case ErrBadHeaderLen:
		return "wire: bad header length"
	case ErrBadLength:
		return "wire: bad length"
	case ErrBadOption:
		return "wire: bad option"
	case ErrUnsupported:
		return "wire: unsupported"
	}
	return "wire: unknown error"
}
