// Package httpserver is uSock's "hello, world" web server on lwgo's
// sequential API (rawapi.Seq): blocking calls with zero timeouts and one
// Wait, no callbacks. It serves
//
//	GET /             a small HTML page
//	GET /big?size=N   N bytes of a fixed text pattern (64-byte lines), streamed
//
// HEAD too; other paths get 404, other methods 405, malformed requests 400,
// oversized heads 431, clients stalled in a request 408. Up to
// Config.MaxClients connections are served at once, interleaved by a small
// per-connection state machine on the one goroutine (HTTP/1.1 keep-alive and
// pipelining included); the rest wait in the backlog.
//
// Server.Serve runs on a Seq that owns its loop (apps/httpd, a program of
// its own) or as a task of a rawapi.Tasks runner on a loop it shares with
// other servers (apps/visor); the code is the same.
package httpserver
