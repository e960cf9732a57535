package main

import "strconv"

// Exit codes, curl's (libcurl's CURLcode values, as in curl 7.88's man page
// under EXIT CODES).
const (
	ExitOK                  = 0
	ExitUnsupportedProtocol = 1  // CURLE_UNSUPPORTED_PROTOCOL
	ExitFailedInit          = 2  // CURLE_FAILED_INIT: bad options
	ExitURLMalformat        = 3  // CURLE_URL_MALFORMAT
	ExitCouldntResolveHost  = 6  // CURLE_COULDNT_RESOLVE_HOST
	ExitCouldntConnect      = 7  // CURLE_COULDNT_CONNECT
	ExitWeirdServerReply    = 8  // CURLE_WEIRD_SERVER_REPLY
	ExitPartialFile         = 18 // CURLE_PARTIAL_FILE
	ExitHTTPReturnedError   = 22 // CURLE_HTTP_RETURNED_ERROR (-f)
	ExitWriteError          = 23 // CURLE_WRITE_ERROR
	ExitReadError           = 26 // CURLE_READ_ERROR (upload source)
	ExitOperationTimedout   = 28 // CURLE_OPERATION_TIMEDOUT
	ExitTooManyRedirects    = 47 // CURLE_TOO_MANY_REDIRECTS
	ExitGotNothing          = 52 // CURLE_GOT_NOTHING: empty reply
	ExitSendError           = 55 // CURLE_SEND_ERROR
	ExitRecvError           = 56 // CURLE_RECV_ERROR
)

// Failure is why a transfer ended badly: curl's exit code and its message.
type Failure struct {
	Code int
	Msg  string
}

func fail(code int, msg string) *Failure { return &Failure{Code: code, Msg: msg} }

// Error formats the failure as curl prints it: "curl: (7) Failed to …".
func (f *Failure) Error() string { return "curl: (" + strconv.Itoa(f.Code) + ") " + f.Msg }
