package admin

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/netip"
	"strconv"

	"github.com/lwgo/lwgo/apps/internal/appflags"
	"github.com/lwgo/lwgo/netif"
	"github.com/lwgo/lwgo/rawapi"
)

// Options configure Start: the programs' flags and what they add.
type Options struct {
	// Flags are the appflags; Given reports which were set on the command
	// line (flag.FlagSet.Visit).
	Flags *appflags.Flags
	Given func(name string) bool
	// ConfigFile persists the settings; "" keeps them in memory.
	ConfigFile string
	// Password, when set, overrides the file's.
	Password       string
	User           string
	InsecureNoAuth bool
	Server         ServerConfig
	Version        string
	Context        context.Context
	// Stack sizes the stack (appflags.Options.Config).
	Stack rawapi.Config
	// Device replaces -tap (platform/netns's TAP, tests).
	Device netif.Device
	// Services run on the stack, turned on and off by the settings.
	Services []AppService
}

// Appliance is a running stack with its configuration server.
type Appliance struct {
	Net    *appflags.Net
	App    *App
	Server *Server
	System *StackSystem
}

// Start settles the settings (the configuration file; network flags given
// on the command line win over it, and fill it when there is none),
// brings the stack up with appflags, and starts the services and the
// configuration server. The caller runs Net.Run(Net.Stack) (or polls the
// stack itself) and then calls Close.
func Start(o Options) (*Appliance, error) {
	s := Default()
	var err error
	fromFile := false
	if o.ConfigFile != "" {
		s, err = Load(o.ConfigFile)
		switch {
		case err == nil:
			fromFile = true
		case errors.Is(err, fs.ErrNotExist):
		default:
			return nil, err
		}
	}
	f := o.Flags
	given := o.Given
	if given == nil {
		given = func(string) bool { return false }
	}
	netGiven := given("ip") || given("dhcp") || given("gw") || given("dns")
	if netGiven || !fromFile && (f.IP != "" || f.DHCP) {
		// The command line decides the network.
		a, err := f.Check()
		if err != nil {
			return nil, err
		}
		s.Network = Network{DHCP: f.DHCP, Address: a.IP, Gateway: a.GW}
		if a.DNS.IsValid() {
			s.Network.DNS = []netip.Addr{a.DNS}
		}
	} else {
		// The settings decide: hand them to appflags.
		f.DHCP = s.Network.DHCP
		f.IP, f.GW, f.DNS = "", "", ""
		if !f.DHCP {
			f.IP = s.Network.Address.String()
			if s.Network.Gateway.IsValid() {
				f.GW = s.Network.Gateway.String()
			}
		}
		if len(s.Network.DNS) > 0 {
			f.DNS = s.Network.DNS[0].String()
		}
	}
	if o.Password != "" {
		s.Password = o.Password
	}
	if s.Password == "" && !o.InsecureNoAuth {
		return nil, ErrNoPassword
	}
	if fe := s.Validate(o.Server.Port); fe != nil {
		return nil, errors.New("settings: " + fe.Error())
	}
	cfg := o.Stack
	if cfg.TCP.MaxPCBs == 0 {
		sc := o.Server.withDefaults()
		cfg.TCP.MaxPCBs = max(128, 2*(sc.MaxConns+sc.MaxQueued))
	}
	n, err := f.Open(appflags.Options{Config: cfg, Device: o.Device, Context: o.Context})
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			n.Close()
		}
	}()
	resolver, err := rawapi.NewDNS(n.Stack, rawapi.DNSConfig{MaxServers: MaxDNS})
	if err != nil {
		return nil, err
	}
	sys := &StackSystem{Stack: n.Stack, Netif: n.Netif, DHCP: n.DHCP, DNS: resolver, Services: o.Services}
	// What the stack came up with is what is in force.
	if !s.Network.DHCP {
		s.Network.Address, s.Network.Gateway = n.Addrs.IP, n.Addrs.GW
	}
	dns := s.Network.DNS
	if len(dns) == 0 && n.Addrs.DNS.IsValid() {
		dns = []netip.Addr{n.Addrs.DNS}
	}
	for i, a := range dns {
		resolver.SetServer(i, a)
	}
	if len(s.Network.DNS) == 0 {
		n.AttachDNS(resolver) // no configured servers: follow the lease's, renewals included
	}
	sys.hostname = s.Hostname
	app, err := NewApp(Config{User: o.User, InsecureNoAuth: o.InsecureNoAuth, ConfigFile: o.ConfigFile,
		Port: o.Server.withDefaults().Port, Version: o.Version}, s, sys, n.Stack.Now)
	if err != nil {
		return nil, err
	}
	for _, sv := range o.Services {
		if ss, ok := sv.(StackService); ok {
			ss.Attach(n.Stack, n.Netif)
		}
	}
	if err := sys.Apply(Settings{}, s); err != nil {
		app.lastErr = err.Error()
	}
	srv, err := NewServer(n.Stack, app, o.Server)
	if err != nil {
		return nil, err
	}
	if o.ConfigFile != "" && !fromFile {
		// Write the first file now, so that the appliance keeps what it
		// was started with.
		if err := Save(o.ConfigFile, app.settings); err != nil {
			app.file.Error = err.Error()
		} else {
			app.file.Saved = true
		}
	}
	ok = true
	return &Appliance{Net: n, App: app, Server: srv, System: sys}, nil
}

// URL is where the configuration page is.
func (ap *Appliance) URL() string {
	return "http://" + hostPort(ap.Net.Addrs.IP.Addr(), ap.Server.cfg.Port) + "/"
}

// Port is the configuration server's port.
func (ap *Appliance) Port() uint16 { return ap.Server.cfg.Port }

// Close stops the server and the stack's device.
func (ap *Appliance) Close() error {
	ap.Server.Close()
	return ap.Net.Close()
}

// Banner describes how to reach the page.
func (ap *Appliance) Banner(w io.Writer, name string) {
	who := "user " + ap.App.cfg.User + " and the configured password"
	if ap.App.cfg.InsecureNoAuth {
		who = "no password (-insecure-no-auth)"
	}
	io.WriteString(w, name+": configuration page at "+ap.URL()+" ("+who+"); "+
		strconv.Itoa(ap.Server.cfg.MaxConns)+" clients served at once\n")
}
