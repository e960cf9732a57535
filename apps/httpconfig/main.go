// Command httpconfig is the hypervisor's configuration server on lwgo's raw
// TCP API (package admin): a password-protected HTML page and JSON API that
// show the appliance's status and edit its settings, applied to the running
// stack and saved to -config FILE.
//
//	httpconfig -tap tap0 -ip 10.0.0.2/24 -password secret123 [-config visor.json] [-port 80]
//	curl -u admin:secret123 http://10.0.0.2/api/status
//
// The network comes from the flags (-ip/-gw/-dns or -dhcp) when they are
// given, else from the configuration file; the password from -password,
// else from the file. Without a password it refuses to start, unless
// -insecure-no-auth. apps/visor runs the same server with the services.
//
// See apps/internal/appflags for the common flags and package admin for
// the endpoints.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/lwgo/lwgo/apps/httpconfig/admin"
	"github.com/lwgo/lwgo/apps/internal/appflags"
	"github.com/lwgo/lwgo/rawapi"
)

func main() {
	af := appflags.Register(flag.CommandLine)
	port := flag.Uint("port", 80, "TCP `port` of the configuration page")
	file := flag.String("config", "", "load and save the settings in `FILE` (JSON)")
	password := flag.String("password", "", "the administrator's `password` (overrides the file's)")
	user := flag.String("user", "admin", "the administrator's user `name`")
	noAuth := flag.Bool("insecure-no-auth", false, "serve without a password")
	maxConns := flag.Int("max-conns", 16, "connections served at once")
	maxQueued := flag.Int("max-queued", 128, "connections waiting for their turn (more are reset)")
	quiet := flag.Bool("q", false, "do not log requests")
	flag.Parse()
	given := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { given[f.Name] = true })
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sc := admin.ServerConfig{Port: uint16(*port), MaxConns: *maxConns, MaxQueued: *maxQueued}
	if !*quiet {
		sc.Log = os.Stderr
	}
	ap, err := admin.Start(admin.Options{Flags: af, Given: func(n string) bool { return given[n] },
		ConfigFile: *file, Password: *password, User: *user, InsecureNoAuth: *noAuth, Server: sc,
		Context: ctx, Stack: rawapi.Config{PoolBufs: 1024}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpconfig:", err)
		os.Exit(1)
	}
	ap.Banner(os.Stderr, "httpconfig")
	err = ap.Net.Run(ap.Net.Stack)
	ap.Close()
	if err != nil && err != context.Canceled {
		fmt.Fprintln(os.Stderr, "httpconfig:", err)
		os.Exit(1)
	}
}
