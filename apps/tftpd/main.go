// Command tftpd is an RFC 1350 TFTP server on lwgo's raw UDP API,
// event-driven like lwIP's: RRQ and WRQ in octet and netascii modes, the
// blksize (RFC 2348), timeout and tsize (RFC 2349) options negotiated with an
// OACK (RFC 2347), one port (TID) per transfer and many transfers at once,
// retransmission on timeout with a retry limit, no Sorcerer's Apprentice
// (duplicate ACKs are ignored), error packets, and a served directory that
// nothing outside of can be reached (no "..", no absolute paths, no symlinks
// out of it). Writes create new files only, and only with -w.
//
//	tftpd -tap tap0 -host-ip 10.0.0.1/24 -ip 10.0.0.2/24 -root /srv/tftp [-w]
//	tftp 10.0.0.2 -m octet -c get file
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

	"github.com/lwgo/lwgo/apps/internal/appflags"
	"github.com/lwgo/lwgo/apps/tftpd/tftp"
	"github.com/lwgo/lwgo/rawapi"
)

func main() {
	af := appflags.Register(flag.CommandLine)
	root := flag.String("root", "", "serve this `directory` (required)")
	write := flag.Bool("w", false, "allow writes (WRQ) of new files")
	port := flag.Uint("port", 69, "UDP `port` for requests")
	maxXfers := flag.Int("max-transfers", 16, "transfers at once")
	timeout := flag.Duration("timeout", time.Second, "retransmission interval, unless negotiated")
	retries := flag.Int("retries", 5, "retransmissions before a transfer is abandoned")
	quiet := flag.Bool("q", false, "do not log transfers")
	flag.Parse()
	if *root == "" {
		fmt.Fprintln(os.Stderr, "tftpd: -root is required")
		flag.Usage()
		os.Exit(2)
	}
	cfg := tftp.Config{Root: *root, Write: *write, Port: uint16(*port), MaxTransfers: *maxXfers,
		Timeout: rawapi.Duration(*timeout), Retries: *retries}
	if !*quiet {
		cfg.Log = os.Stderr
	}
	if err := run(af, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "tftpd:", err)
		os.Exit(1)
	}
}

func run(af *appflags.Flags, cfg tftp.Config) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := af.Open(appflags.Options{Context: ctx, Config: rawapi.Config{MaxUDPPCBs: cfg.MaxTransfers + 4}})
	if err != nil {
		return err
	}
	defer n.Close()
	cfg.MaxBlockSize = n.Netif.MTU - 32 // IPv4 20, UDP 8, TFTP 4: no fragmented blocks
	srv, err := tftp.NewServer(n.Stack, cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(os.Stderr, "tftpd: serving %s on %v port %d (writes %v)\n", cfg.Root, n.Addrs.IP.Addr(), cfg.Port, cfg.Write)
	err = n.Run(appflags.PollerFunc(func(now rawapi.Time) rawapi.Time {
		next := srv.Poll(now)
		return min(next, n.Stack.Poll(now))
	}))
	st := srv.Stats
	fmt.Fprintf(os.Stderr, "tftpd: %d requests, %d completed, %d failed, %d retransmits\n",
		st.Requests, st.Completed, st.Failed, st.Retransmits)
	if err == context.Canceled {
		return nil
	}
	return err
}
