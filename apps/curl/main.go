// Command curl is an HTTP/1.1 client on lwgo's raw TCP API, a useful subset
// of curl(1) with curl's options, output and exit codes:
//
//	curl -tap tap0 -ip 10.0.0.2/24 -dns 10.0.0.1 [options] URL...
//
// It resolves names with lwgo's DNS resolver (-dns, or the -dhcp lease's
// server; --resolve host:port:addr pins one), and supports GET, HEAD (-I)
// and POST (-d, --data-binary @file streamed from disk, --data-raw), other
// methods with -X, extra headers (-H, "Name:" removes one of ours), -u
// user:password (Basic), -A, -e; Content-Length, chunked and close-delimited
// bodies (RFC 9112 §6.3); redirects with -L and --max-redirs (default 50;
// 301/302 turn a POST into a GET and 303 anything but HEAD; credentials are
// not sent to another host); HTTP/1.1 persistent connections, reused across
// redirects and across the URLs of one command line; -o FILE and -O per URL
// (in order), -i, -v; --connect-timeout and -m/--max-time; -f; -w with
// %{http_code}, %{size_download}, %{num_redirects}, %{url_effective},
// %{time_total}, %{speed_download} and more; curl's progress meter on stderr
// unless -s (or the body goes to a terminal), -S.
//
// Exit codes are curl's: 1 unsupported protocol (https: no TLS here), 2 bad
// option, 3 malformed URL, 6 could not resolve host, 7 could not connect, 8
// weird server reply, 18 partial body, 22 HTTP ≥ 400 with -f, 23 write
// error, 26 upload read error, 28 timeout, 47 too many redirects, 52 empty
// reply, 55 send failure, 56 receive failure. With several URLs the last
// one's code is the result (--fail-early stops at the first failure).
//
// Memory is bounded: a response head may be 100 KiB (curl's limit), bodies
// and uploads stream through fixed buffers.
//
// Differences from curl 7.88: no TLS, IPv6, cookies, compression, proxies
// or Expect: 100-continue; a response with two different Content-Length
// values is refused (exit 8; RFC 9112 §6.3) where curl takes the last.
//
// The appflags (-tap, -ip, -gw, -dns, -dhcp, -pcap, …; see
// apps/internal/appflags) mix freely with curl's options.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/lwgo/lwgo/apps/internal/appflags"
	"github.com/lwgo/lwgo/rawapi"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// newFlagSet holds the appflags.
func newFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("curl", flag.ContinueOnError)
	appflags.Register(fs)
	return fs
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("curl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	af := appflags.Register(fs)
	o, fwd, err := parseArgs(args, fs)
	if err != nil {
		fmt.Fprintln(stderr, err)
		fmt.Fprintln(stderr, "curl: try 'go doc github.com/lwgo/lwgo/apps/curl' for the options")
		return ExitFailedInit
	}
	if err := fs.Parse(fwd); err != nil {
		return ExitFailedInit
	}
	sigctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(sigctx)
	defer cancel()
	n, err := af.Open(appflags.Options{Context: ctx, Config: rawapi.Config{PoolBufs: 2048,
		TCP: rawapi.TCPConfig{RcvBuf: 1 << 20}}})
	if err != nil {
		fmt.Fprintln(stderr, "curl:", err)
		return ExitFailedInit
	}
	defer n.Close()
	env := Env{Stack: n.Stack, Stdout: stdout, Stderr: stderr}
	if f, ok := stdout.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			env.StdoutIsTTY = true
		}
	}
	if n.Addrs.DNS.IsValid() {
		r, err := rawapi.NewDNS(n.Stack, rawapi.DNSConfig{})
		if err == nil {
			err = r.SetServer(0, n.Addrs.DNS)
		}
		if err != nil {
			fmt.Fprintln(stderr, "curl: resolver:", err)
			return ExitFailedInit
		}
		if af.DNS == "" {
			n.AttachDNS(r) // follow the lease's servers across renewals
		}
		env.DNS = r
	}
	cl := NewClient(env, o)
	cl.Start()
	err = n.Run(appflags.PollerFunc(func(now rawapi.Time) rawapi.Time {
		next := n.Stack.Poll(now)
		t := cl.Tick(now)
		if cl.Done() {
			cancel()
		}
		return min(next, t)
	}))
	if !cl.Done() {
		if errors.Is(err, context.Canceled) {
			return 130 // interrupted
		}
		fmt.Fprintln(stderr, "curl:", err)
		return ExitFailedInit
	}
	return cl.ExitCode()
}
