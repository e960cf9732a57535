// Command iperf is an iperf 2 compatible TCP throughput tester on lwgo's
// raw API, like lwIP's lwiperf: the server counts what clients send and
// reports it as iperf 2 does; the client sends iperf 2.1's test header, then
// data for -t seconds or -n bytes. It interoperates with Debian's iperf 2.1
// both ways.
//
//	iperf -s [-p 5001]                         (with -tap/-ip, see appflags)
//	iperf -c 10.0.0.1 [-t 10 | -n 100M] [-l 128K] [-p 5001] [-f a|b|k|m|g]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/lwgo/lwgo/apps/internal/appflags"
	"github.com/lwgo/lwgo/apps/iperf/iperf2"
	"github.com/lwgo/lwgo/rawapi"
)

func main() {
	af := appflags.Register(flag.CommandLine)
	server := flag.Bool("s", false, "run as a server")
	host := flag.String("c", "", "run as a client of the server at `IP`")
	port := flag.Uint("p", 5001, "TCP `port`")
	secs := flag.Float64("t", 10, "test duration in `seconds` (client)")
	amount := flag.String("n", "", "`bytes` to send instead of -t (suffixes K, M, G: powers of 1024)")
	length := flag.String("l", "128K", "`bytes` per write")
	format := flag.String("f", "a", "report format: a (adaptive), b, k, m, g")
	flag.Parse()
	if err := run(af, *server, *host, uint16(*port), *secs, *amount, *length, *format); err != nil {
		fmt.Fprintln(os.Stderr, "iperf:", err)
		os.Exit(1)
	}
}

func run(af *appflags.Flags, server bool, host string, port uint16, secs float64, amount, length, format string) error {
	if server == (host != "") {
		return errors.New("give -s or -c IP")
	}
	if len(format) != 1 || !strings.Contains("abkmg", format) {
		return fmt.Errorf("-f %q: want a, b, k, m or g", format)
	}
	sigctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(sigctx) // the client cancels it when done
	defer cancel()
	n, err := af.Open(appflags.Options{Context: ctx, Config: rawapi.Config{PoolBufs: 2048,
		TCP: rawapi.TCPConfig{SndBuf: 1 << 20, RcvBuf: 1 << 20}}})
	if err != nil {
		return err
	}
	defer n.Close()
	if server {
		srv, err := iperf2.NewServer(n.Stack, port, 16, os.Stdout, format[0])
		if err != nil {
			return err
		}
		defer srv.Close()
		if err := n.Run(n.Stack); err != context.Canceled {
			return err
		}
		return nil
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("-c %q: want an IPv4 address", host)
	}
	cfg := iperf2.ClientConfig{Server: netip.AddrPortFrom(addr, port), Time: rawapi.Duration(secs * float64(time.Second)),
		Format: format[0], Out: os.Stdout}
	if amount != "" {
		if cfg.Amount, err = iperf2.ParseSize(amount); err != nil {
			return err
		}
	}
	l, err := iperf2.ParseSize(length)
	if err != nil || l < 1 || l > 1<<24 {
		return fmt.Errorf("-l %q: want 1 to 16M", length)
	}
	cfg.Len = int(l)
	cl := iperf2.NewClient(n.Stack, cfg)
	if err := cl.Start(); err != nil {
		return err
	}
	err = n.Run(appflags.PollerFunc(func(now rawapi.Time) rawapi.Time {
		next := min(cl.Tick(now), n.Stack.Poll(now))
		if cl.Done() {
			cancel()
		}
		return next
	}))
	if r := cl.Result(); r.Err != nil {
		return r.Err
	}
	if err != nil && err != context.Canceled {
		return err
	}
	return nil
}
