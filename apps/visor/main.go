// Command visor is the appliance: one lwgo stack, brought up by static
// address or DHCP, running the configuration server (package admin, as
// apps/httpconfig) and the appliance's services in one event loop. It is
// the main job in host mode.
//
// With -netns it makes its own test network and needs nothing else: a
// network namespace holding the kernel's side of a new TAP (198.18.N.1/24,
// through platform/netns), visor on 198.18.N.2, and instructions for
// reaching the page from inside the namespace. It runs until interrupted
// and then removes what it made (a run killed with SIGKILL leaves them for
// the next -netns run to remove):
//
//	sudo go run ./apps/visor -netns -password 'choose one'
//	visor: namespace lwgo-4242-1: the kernel has 198.18.0.1/24 on TAP lwgo4242t1
//	visor: configuration page at http://198.18.0.2/ (user admin and the configured password)
//	visor: from the namespace: sudo ip netns exec lwgo-4242-1 curl -u admin http://198.18.0.2/api/status
//
// Without -netns it attaches with the appflags (-tap NAME, -ip/-gw/-dns or
// -dhcp, -pcap; see apps/internal/appflags), like the other programs.
// -config FILE keeps the settings (network, host name, services,
// password); network flags given on the command line win over the file.
//
// Services: the settings' tftpd, httpd and iperf switches start and stop
// those servers (apps/tftpd/tftp, apps/httpd/httpserver, apps/iperf/iperf2)
// on visor's stack, in its loop; turning one off closes its endpoints.
// httpd, written on the sequential API, runs there as a rawapi.Tasks task;
// see services.go.
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
	"time"

	"github.com/lwgo/lwgo/apps/httpconfig/admin"
	"github.com/lwgo/lwgo/apps/internal/appflags"
	"github.com/lwgo/lwgo/platform/hosted"
	"github.com/lwgo/lwgo/platform/netns"
	"github.com/lwgo/lwgo/rawapi"
)

// options are visor's own flags.
type options struct {
	netns     bool
	subnet    uint
	port      uint
	file      string
	password  string
	user      string
	noAuth    bool
	maxConns  int
	maxQueued int
	quiet     bool
}

func main() {
	af := appflags.Register(flag.CommandLine)
	var o options
	flag.BoolVar(&o.netns, "netns", false, "make a network namespace and TAP for visor (root), and remove them on exit")
	flag.UintVar(&o.subnet, "subnet", 0, "with -netns: use 198.18.`N`.0/24")
	flag.UintVar(&o.port, "http", 80, "TCP `port` of the configuration page")
	flag.StringVar(&o.file, "config", "", "load and save the settings in `FILE` (JSON)")
	flag.StringVar(&o.password, "password", "", "the administrator's `password` (overrides the file's)")
	flag.StringVar(&o.user, "user", "admin", "the administrator's user `name`")
	flag.BoolVar(&o.noAuth, "insecure-no-auth", false, "serve the configuration page without a password")
	flag.IntVar(&o.maxConns, "max-conns", 16, "configuration-page connections served at once")
	flag.IntVar(&o.maxQueued, "max-queued", 128, "connections waiting for their turn (more are reset)")
	flag.BoolVar(&o.quiet, "q", false, "do not log requests")
	flag.Parse()
	given := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if err := run(af, o, given, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "visor:", err)
		os.Exit(1)
	}
}

func run(af *appflags.Flags, o options, given map[string]bool, log io.Writer) error {
	if o.subnet > 255 {
		return errors.New("-subnet: 0 to 255")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	opts := admin.Options{Flags: af, Given: func(n string) bool { return given[n] }, ConfigFile: o.file,
		Password: o.password, User: o.user, InsecureNoAuth: o.noAuth, Context: ctx,
		// UDP: DHCP, DNS, tftpd's request port and its 16 transfers.
		Stack:  rawapi.Config{PoolBufs: 2048, MaxUDPPCBs: 24, TCP: rawapi.TCPConfig{MaxPCBs: 512, RcvBuf: 512 << 10}},
		Server: admin.ServerConfig{Port: uint16(o.port), MaxConns: o.maxConns, MaxQueued: o.maxQueued}}
	if !o.quiet {
		opts.Server.Log = log
		opts.Services = services(log)
	} else {
		opts.Services = services(nil)
	}
	var ns *netns.Net
	if o.netns {
		if af.TAP != "" || af.HostIP != "" {
			return errors.New("-netns makes its own TAP: drop -tap and -host-ip")
		}
		if err := netns.Available(); err != nil {
			return err
		}
		// Leftovers of runs that were killed (their pids are gone).
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		netns.CleanupStale(cctx, netns.DefaultPrefix)
		n, err := netns.New(cctx, netns.Config{Subnet: uint8(o.subnet)})
		cancel()
		if err != nil {
			return err
		}
		ns = n
		defer func() {
			if err := ns.Close(); err != nil {
				fmt.Fprintln(log, "visor: removing the namespace:", err)
			} else {
				fmt.Fprintln(log, "visor: removed namespace", ns.Name, "and its TAP")
			}
		}()
		opts.Device = n.Dev
		if !af.DHCP && af.IP == "" {
			af.IP, af.GW = n.StackAddr.String(), n.KernelAddr.Addr().String()
			given["ip"] = true // the namespace decides, whatever the file says
		}
		fmt.Fprintf(log, "visor: namespace %s: the kernel has %v on TAP %s\n", n.Name, n.KernelAddr, n.TAPName)
	}
	ap, err := admin.Start(opts)
	if err != nil {
		return err
	}
	defer ap.Close()
	defer closeServices(opts.Services) // before the stack goes
	ap.Banner(log, "visor")
	if ns != nil {
		user := "-u " + o.user
		if o.noAuth {
			user = ""
		}
		fmt.Fprintf(log, "visor: from the namespace: sudo ip netns exec %s curl %s %sapi/status\n", ns.Name, user, ap.URL())
		fmt.Fprintf(log, "visor:                     sudo ip netns exec %s w3m %s   (or any browser run there)\n", ns.Name, ap.URL())
		fmt.Fprintln(log, "visor: Ctrl-C stops visor and removes the namespace")
	}
	l := loop{s: ap.Net.Stack, services: opts.Services}
	if ns != nil {
		// The TAP comes from platform/netns, not from appflags: have it wake
		// this loop.
		w := hosted.NewWaker()
		if err := ns.Dev.Notify(w); err != nil {
			return err
		}
		err = hosted.Run(ctx, l, ap.Net.Clock, hosted.WithWaker(w))
	} else {
		err = ap.Net.Run(l)
	}
	st := ap.Server.Stats
	fmt.Fprintf(log, "visor: %d connections, %d requests, %d timeouts, %d refused\n", st.Accepted, st.Requests, st.Timeouts, st.Refused)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
