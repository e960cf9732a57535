// Command httpd is uSock's "hello, world" web server on lwgo's sequential
// API (rawapi.Seq), on a stack of its own; the server is package
// apps/httpd/httpserver (apps/visor runs the same server beside its other
// services). It serves
//
//	GET /             a small HTML page
//	GET /big?size=N   N bytes of a fixed text pattern (64-byte lines), streamed
//
// HEAD too; other paths get 404, other methods 405, malformed requests 400,
// oversized heads 431, clients stalled in a request 408. Up to -max-clients
// connections are served at once, interleaved on the one goroutine (HTTP/1.1
// keep-alive and pipelining included); the rest wait in the backlog. Idle
// clients are closed after -idle-timeout.
//
//	httpd -tap tap0 -host-ip 10.0.0.1/24 -ip 10.0.0.2/24 [-port 80]
//	curl http://10.0.0.2/
//
// See apps/internal/appflags for the common flags.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lwgo/lwgo/apps/httpd/httpserver"
	"github.com/lwgo/lwgo/apps/internal/appflags"
	"github.com/lwgo/lwgo/rawapi"
)

func main() {
	af := appflags.Register(flag.CommandLine)
	port := flag.Uint("port", 80, "TCP `port` to listen on")
	maxClients := flag.Int("max-clients", 8, "connections served at once")
	idle := flag.Duration("idle-timeout", 10*time.Second, "close clients idle this long")
	quiet := flag.Bool("q", false, "do not log requests")
	flag.Parse()
	if err := run(af, uint16(*port), *maxClients, *idle, *quiet); err != nil {
		fmt.Fprintln(os.Stderr, "httpd:", err)
		os.Exit(1)
	}
}

func run(af *appflags.Flags, port uint16, maxClients int, idle time.Duration, quiet bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := af.Open(appflags.Options{Context: ctx})
	if err != nil {
		return err
	}
	defer n.Close()
	cfg := httpserver.Config{Port: port, MaxClients: maxClients, IdleTimeout: rawapi.Duration(idle)}
	if !quiet {
		cfg.Log = os.Stderr
	}
	srv, err := httpserver.NewServer(n.Seq(cfg.SeqConfig()), cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "httpd: serving http://%v:%d/ (%d clients at once)\n", n.Addrs.IP.Addr(), port, maxClients)
	srv.Serve(n.Done)
	srv.Close()
	st := srv.Stats
	fmt.Fprintf(os.Stderr, "httpd: %d connections, %d requests, %d body bytes, %d timeouts\n",
		st.Accepted, st.Requests, st.BodyBytes, st.Timeouts)
	return nil
}
