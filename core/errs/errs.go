// Package errs holds the error values of the raw API. They mirror lwIP's
// err_t (err.h) one for one, keep its numbering, and are comparable constants:
// no error on an API path allocates, and callers compare with == or errors.Is.
// A nil error plays ERR_OK.
package errs

// Err is an lwIP-style error code. Its values are negative, as in lwIP.
type Err int8

// The error values, in lwIP's order (err.h).
const (
	ErrMem        Err = -1  // ERR_MEM: out of memory or buffer budget; retry later
	ErrBuf        Err = -2  // ERR_BUF: buffer error
	ErrTimeout    Err = -3  // ERR_TIMEOUT: timed out
	ErrRoute      Err = -4  // ERR_RTE: no route to the destination
	ErrInProgress Err = -5  // ERR_INPROGRESS: operation in progress (a callback follows)
	ErrVal        Err = -6  // ERR_VAL: illegal value
	ErrWouldBlock Err = -7  // ERR_WOULDBLOCK: operation would block
	ErrInUse      Err = -8  // ERR_USE: address in use
	ErrAlready    Err = -9  // ERR_ALREADY: already connecting
	ErrIsConn     Err = -10 // ERR_ISCONN: already connected
	ErrNotConn    Err = -11 // ERR_CONN: not connected
	ErrIf         Err = -12 // ERR_IF: low-level netif error
	ErrAbort      Err = -13 // ERR_ABRT: connection aborted
	ErrReset      Err = -14 // ERR_RST: connection reset by peer
	ErrClosed     Err = -15 // ERR_CLSD: connection closed, or a stale handle
	ErrArg        Err = -16 // ERR_ARG: illegal argument
)

// Error returns the message for e.
func (e Err) Error() string {
	switch e {
	case ErrMem:
		return "out of memory"
	case ErrBuf:
		return "buffer error"
	case ErrTimeout:
		return "timeout"
	case ErrRoute:
		return "no route"
	case ErrInProgress:
		return "operation in progress"
	case ErrVal:
		return "illegal value"
	case ErrWouldBlock:
		return "operation would block"
	case ErrInUse:
		return "address in use"
	case ErrAlready:
		return "already connecting"
	case ErrIsConn:
		return "already connected"
	case ErrNotConn:
		return "not connected"
	case ErrIf:
		return "low-level netif error"
	case ErrAbort:
		return "connection aborted"
	case ErrReset:
		return "connection reset"
	case ErrClosed:
		return "connection closed"
	case ErrArg:
		return "illegal argument"
	}
	return "unknown error"
}
