package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Settings are the appliance's configuration: what the page edits, the
// JSON API exchanges and the configuration file holds.
type Settings struct {
	Hostname string  `json:"hostname"`
	Network  Network `json:"network"`
	Apps     Apps    `json:"apps"`
	// Password is the administrator's password. It is write-only: the API
	// and the page never show it (PasswordSet says whether there is one);
	// an empty value in an update leaves it unchanged.
	Password string `json:"password,omitempty"`
}

// Network is the IPv4 configuration of the interface.
type Network struct {
	DHCP    bool         `json:"dhcp"`
	Address netip.Prefix `json:"address"` // static address and prefix, e.g. 198.18.0.2/24
	Gateway netip.Addr   `json:"gateway"` // static default gateway; zero: none
	DNS     []netip.Addr `json:"dns"`     // DNS servers, tried in order; with DHCP, empty takes the lease's
}

// Apps are the settings of the services the appliance runs.
type Apps struct {
	TFTPD TFTPD   `json:"tftpd"`
	HTTPD Service `json:"httpd"`
	IPerf Service `json:"iperf"`
}

// TFTPD is the TFTP server's settings.
type TFTPD struct {
	Enabled  bool   `json:"enabled"`
	Root     string `json:"root"`     // directory served (absolute)
	Writable bool   `json:"writable"` // accept uploads of new files
	Port     uint16 `json:"port"`
}

// Service is a server's settings: on or off, and its port.
type Service struct {
	Enabled bool   `json:"enabled"`
	Port    uint16 `json:"port"`
}

// MaxDNS is the number of DNS servers the settings hold.
const MaxDNS = 2

// Default returns the settings of a fresh appliance.
func Default() Settings {
	return Settings{
		Hostname: "lwgo",
		Network:  Network{DHCP: true},
		Apps: Apps{
			TFTPD: TFTPD{Port: 69},
			HTTPD: Service{Port: 8080},
			IPerf: Service{Port: 5001},
		},
	}
}

// Clone returns a deep copy.
func (s Settings) Clone() Settings {
	s.Network.DNS = append([]netip.Addr(nil), s.Network.DNS...)
	return s
}

// Public returns s without its secrets, for display.
func (s Settings) Public() Settings {
	s = s.Clone()
	s.Password = ""
	return s
}

// FieldErrors maps a field ("network.address") to what is wrong with it.
type FieldErrors map[string]string

// Error lists the problems, sorted by field.
func (fe FieldErrors) Error() string {
	keys := make([]string, 0, len(fe))
	for k := range fe {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(k + ": " + fe[k])
	}
	return b.String()
}

// Validate checks s and returns the problems, or nil. adminPort is the
// configuration server's own port, which no service may take.
func (s *Settings) Validate(adminPort uint16) FieldErrors {
	fe := FieldErrors{}
	if err := checkHostname(s.Hostname); err != "" {
		fe["hostname"] = err
	}
	n := &s.Network
	if !n.DHCP {
		a := n.Address
		switch {
		case !a.IsValid():
			fe["network.address"] = "a static address needs an IPv4 address with a prefix length, like 198.18.0.2/24"
		case !a.Addr().Is4():
			fe["network.address"] = "not an IPv4 address"
		case a.Bits() < 8 || a.Bits() > 32:
			fe["network.address"] = "the prefix length must be 8 to 32"
		case !isUnicast(a.Addr()):
			fe["network.address"] = "not a unicast address"
		case a.Bits() <= 30 && (a.Addr() == a.Masked().Addr() || a.Addr() == broadcast(a)):
			fe["network.address"] = "the network's own address or its broadcast address"
		}
		if g := n.Gateway; g.IsValid() {
			switch {
			case !g.Is4() || !isUnicast(g):
				fe["network.gateway"] = "not a unicast IPv4 address"
			case a.IsValid() && !a.Contains(g):
				fe["network.gateway"] = "not on the network " + a.Masked().String()
			case a.IsValid() && g == a.Addr():
				fe["network.gateway"] = "the interface's own address"
			}
		}
	} else if n.Gateway.IsValid() || n.Address.IsValid() {
		// Kept for when DHCP is turned off again: still check them.
		if n.Address.IsValid() && (!n.Address.Addr().Is4() || !isUnicast(n.Address.Addr())) {
			fe["network.address"] = "not a unicast IPv4 address"
		}
		if n.Gateway.IsValid() && (!n.Gateway.Is4() || !isUnicast(n.Gateway)) {
			fe["network.gateway"] = "not a unicast IPv4 address"
		}
	}
	if len(n.DNS) > MaxDNS {
		fe["network.dns"] = "at most " + strconv.Itoa(MaxDNS) + " servers"
	}
	for i, d := range n.DNS {
		if !d.Is4() || !isUnicast(d) {
			fe["network.dns"] = "server " + strconv.Itoa(i+1) + " is not a unicast IPv4 address"
		}
	}
	ports := map[uint16]string{}
	if adminPort != 0 {
		ports[adminPort] = "the configuration page"
	}
	port := func(field string, on bool, p uint16) {
		switch {
		case !on:
		case p == 0:
			fe[field] = "a port from 1 to 65535"
		case ports[p] != "":
			fe[field] = "port " + strconv.Itoa(int(p)) + " is taken by " + ports[p]
		default:
			ports[p] = strings.TrimSuffix(strings.TrimPrefix(field, "apps."), ".port")
		}
	}
	t := &s.Apps.TFTPD
	if t.Enabled {
		if t.Root == "" || !filepath.IsAbs(t.Root) {
			fe["apps.tftpd.root"] = "an absolute directory path"
		} else if fi, err := os.Stat(t.Root); err != nil || !fi.IsDir() {
			fe["apps.tftpd.root"] = "not an existing directory"
		}
	}
	port("apps.httpd.port", s.Apps.HTTPD.Enabled, s.Apps.HTTPD.Port)
	port("apps.iperf.port", s.Apps.IPerf.Enabled, s.Apps.IPerf.Port) // TCP
	if t.Enabled && t.Port == 0 {
		fe["apps.tftpd.port"] = "a port from 1 to 65535" // UDP: no clash with TCP ports
	}
	if p := s.Password; p != "" && (len(p) < 8 || len(p) > 128) {
		fe["password"] = "8 to 128 characters"
	}
	if len(fe) == 0 {
		return nil
	}
	return fe
}

// checkHostname checks an RFC 1123 host name: dot-separated labels of
// letters, digits and hyphens, each 1 to 63 long and not starting or
// ending with a hyphen, 253 characters at most.
func checkHostname(h string) string {
	if h == "" || len(h) > 253 {
		return "1 to 253 characters"
	}
	for l := range strings.SplitSeq(h, ".") {
		if l == "" || len(l) > 63 {
			return "each dot-separated label must have 1 to 63 characters"
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "a label may not start or end with a hyphen"
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return "letters, digits, hyphens and dots only"
			}
		}
	}
	return ""
}

func isUnicast(a netip.Addr) bool {
	return a.Is4() && !a.IsUnspecified() && !a.IsLoopback() && !a.IsMulticast() &&
		a != netip.AddrFrom4([4]byte{255, 255, 255, 255}) && a.As4()[0] < 240
}

func broadcast(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	host := ^uint32(0) >> p.Bits()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// DecodeJSON decodes a settings document onto base: fields present replace
// base's (nested objects merge field by field, lists are replaced); unknown
// fields and trailing data are errors.
func DecodeJSON(body []byte, base Settings) (Settings, error) {
	s := base.Clone()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return base, errors.New("bad JSON: " + strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return base, errors.New("bad JSON: data after the settings object")
	}
	return s, nil
}

// Load reads a configuration file written by Save (or by hand): defaults
// for what it lacks. A missing file is (Default(), os.ErrNotExist).
func Load(name string) (Settings, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return Default(), err
	}
	s, err := DecodeJSON(b, Default())
	if err != nil {
		return Default(), errors.New(name + ": " + err.Error())
	}
	return s, nil
}

// Save writes s to name atomically: a temporary file in the same
// directory, written, synced and renamed over name, then the directory
// synced, so that a crash leaves the old file or the new one, never a mix.
// The file is readable by its owner only: it holds the password.
func Save(name string, s Settings) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // gone after the rename; cleans up a failure
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
