// Command dns resolves host names to IPv4 addresses with lwgo's DNS resolver
// (core/dns through rawapi, lwIP's dns_gethostbyname) and prints them, like
// uSock's dns example and host(1):
//
//	dns -tap tap0 -ip 10.0.0.2/24 -dns 10.0.0.1 example.test other.test
//	example.test has address 10.0.0.7
//	dns: other.test: not found (NXDOMAIN, or no A record)
//
// The server is -server (a comma-separated list, tried in order), else -dns,
// else the DNS server of the -dhcp lease. Up to four names are looked up at
// once; results are printed in the order given. The resolver asks for A
// records only, with a random ID and source port per query (RFC 5452), and
// retransmits and fails over to the next server on its own timers.
//
// Exit status: 0 when every name resolved, 1 when some did not (not found,
// no answer within -timeout), 2 for bad usage or a stack that would not
// come up.
//
// See apps/internal/appflags for the common flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/lwgo/lwgo/apps/internal/appflags"
	"github.com/lwgo/lwgo/rawapi"
)

func main() {
	af := appflags.Register(flag.CommandLine)
	servers := flag.String("server", "", "DNS server `IP[,IP...]`, overriding -dns and the DHCP lease's")
	timeout := flag.Duration("timeout", 20*time.Second, "give up on names not resolved after this `duration`")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: dns [flags] name...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	os.Exit(run(af, *servers, *timeout, flag.Args(), os.Stdout, os.Stderr))
}

// parseServers parses a comma-separated list of IPv4 addresses.
func parseServers(s string) ([]netip.Addr, error) {
	var out []netip.Addr
	for f := range strings.SplitSeq(s, ",") {
		a, err := netip.ParseAddr(strings.TrimSpace(f))
		if err != nil || !a.Is4() || a.IsUnspecified() {
			return nil, fmt.Errorf("-server %q: want IPv4 addresses separated by commas", s)
		}
		out = append(out, a)
	}
	return out, nil
}

func run(af *appflags.Flags, serverList string, timeout time.Duration, names []string, out, log io.Writer) int {
	if len(names) == 0 {
		fmt.Fprintln(log, "dns: give one or more names to resolve")
		return 2
	}
	var servers []netip.Addr
	if serverList != "" {
		var err error
		if servers, err = parseServers(serverList); err != nil {
			fmt.Fprintln(log, "dns:", err)
			return 2
		}
	}
	sigctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(sigctx)
	defer cancel()
	n, err := af.Open(appflags.Options{Context: ctx})
	if err != nil {
		fmt.Fprintln(log, "dns:", err)
		return 2
	}
	defer n.Close()
	if len(servers) == 0 && n.Addrs.DNS.IsValid() {
		servers = []netip.Addr{n.Addrs.DNS}
	}
	if len(servers) == 0 {
		fmt.Fprintln(log, "dns: no DNS server: give -server, -dns, or -dhcp with a server that names one")
		return 2
	}
	l, err := start(n.Stack, servers, names, out, log)
	if err != nil {
		fmt.Fprintln(log, "dns:", err)
		return 2
	}
	end := n.Clock.Now().Add(rawapi.Duration(timeout))
	err = n.Run(appflags.PollerFunc(func(now rawapi.Time) rawapi.Time {
		next := n.Stack.Poll(now)
		if !l.Done() && now >= end {
			l.Expire()
		}
		if l.Done() {
			cancel()
		}
		return min(next, end)
	}))
	if !l.Done() { // interrupted
		l.Expire()
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(log, "dns:", err)
		return 2
	}
	if l.failed > 0 {
		return 1
	}
	return 0
}

// start makes a resolver on s with servers and starts looking names up.
func start(s *rawapi.Stack, servers []netip.Addr, names []string, out, log io.Writer) (*lookup, error) {
	const window = 4 // the resolver's default query slots
	r, err := rawapi.NewDNS(s, rawapi.DNSConfig{MaxServers: len(servers), MaxQueries: window, MaxRequests: 2 * window})
	if err != nil {
		return nil, err
	}
	for i, a := range servers {
		if err := r.SetServer(i, a); err != nil {
			return nil, fmt.Errorf("server %v: %w", a, err)
		}
	}
	l := newLookup(r, names, window, out, log)
	l.Start()
	return l, nil
}
