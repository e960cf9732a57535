package main

import (
	"errors"
	"flag"
	"io"
	"math"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// Options are curl's options that this program implements.
type Options struct {
	URLs        []string
	Outputs     []string // -o per URL, in order (remoteNameMark for -O)
	Silent      bool     // -s
	ShowError   bool     // -S
	Fail        bool     // -f
	FailEarly   bool     // --fail-early
	Location    bool     // -L
	MaxRedirs   int      // --max-redirs; -1: unlimited
	Head        bool     // -I
	Include     bool     // -i
	Verbose     bool     // -v
	Method      string   // -X
	Headers     []string // -H, in order
	UserAgent   string   // -A; default curl's
	UserAgentOK bool     // -A given ("" removes the field)
	User        string   // -u user:password
	Referer     string   // -e
	Data        []byte   // -d, --data-raw, --data-binary (in memory)
	DataFile    string   // --data-binary @file: streamed
	HasData     bool
	ConnTimeout time.Duration // --connect-timeout
	MaxTime     time.Duration // -m
	WriteOut    string        // -w
	Resolve     map[string]netip.Addr
	HTTP10      bool // --http1.0
}

// remoteNameMark in Outputs stands for -O: the URL's last path segment.
const remoteNameMark = "\x00remote-name"

// curlVersion is what User-Agent says.
const curlVersion = "7.88.1-lwgo"

// usageError is a command-line error: exit 2 (curl's CURLE_FAILED_INIT).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// curlOpt describes one curl option: its names and whether it takes a value.
type curlOpt struct {
	short byte
	long  string
	value bool
	set   func(o *Options, v string) error
}

func boolOpt(short byte, long string, f func(o *Options)) curlOpt {
	return curlOpt{short: short, long: long, set: func(o *Options, _ string) error { f(o); return nil }}
}

func seconds(v string) (time.Duration, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || f > 1e9 {
		return 0, errors.New("expected a proper numerical parameter")
	}
	return time.Duration(f * float64(time.Second)), nil
}

var curlOpts = []curlOpt{
	boolOpt('s', "silent", func(o *Options) { o.Silent = true }),
	boolOpt('S', "show-error", func(o *Options) { o.ShowError = true }),
	boolOpt('f', "fail", func(o *Options) { o.Fail = true }),
	boolOpt(0, "fail-early", func(o *Options) { o.FailEarly = true }),
	boolOpt('L', "location", func(o *Options) { o.Location = true }),
	boolOpt('I', "head", func(o *Options) { o.Head = true }),
	boolOpt('i', "include", func(o *Options) { o.Include = true }),
	boolOpt('v', "verbose", func(o *Options) { o.Verbose = true }),
	boolOpt('O', "remote-name", func(o *Options) { o.Outputs = append(o.Outputs, remoteNameMark) }),
	boolOpt(0, "http1.0", func(o *Options) { o.HTTP10 = true }),
	boolOpt(0, "http1.1", func(o *Options) { o.HTTP10 = false }),
	{short: 'o', long: "output", value: true, set: func(o *Options, v string) error {
		o.Outputs = append(o.Outputs, v)
		if v == "" {
			return errors.New("empty file name")
		}
		return nil
	}},
	{long: "url", value: true, set: func(o *Options, v string) error { o.URLs = append(o.URLs, v); return nil }},
	{short: 'X', long: "request", value: true, set: func(o *Options, v string) error {
		if !isToken(v) || v == "" {
			return errors.New("bad method")
		}
		o.Method = v
		return nil
	}},
	{short: 'H', long: "header", value: true, set: func(o *Options, v string) error {
		if strings.ContainsAny(v, "\r\n") {
			return errors.New("header contains a line break")
		}
		o.Headers = append(o.Headers, v)
		return nil
	}},
	{short: 'A', long: "user-agent", value: true, set: func(o *Options, v string) error {
		o.UserAgent, o.UserAgentOK = v, true
		return nil
	}},
	{short: 'u', long: "user", value: true, set: func(o *Options, v string) error { o.User = v; return nil }},
	{short: 'e', long: "referer", value: true, set: func(o *Options, v string) error { o.Referer = v; return nil }},
	{short: 'd', long: "data", value: true, set: func(o *Options, v string) error { return o.addData(v, true, true) }},
	{long: "data-ascii", value: true, set: func(o *Options, v string) error { return o.addData(v, true, true) }},
	{long: "data-raw", value: true, set: func(o *Options, v string) error { return o.addData(v, false, false) }},
	{long: "data-binary", value: true, set: func(o *Options, v string) error { return o.addData(v, true, false) }},
	{short: 'm', long: "max-time", value: true, set: func(o *Options, v string) (err error) {
		o.MaxTime, err = seconds(v)
		return err
	}},
	{long: "connect-timeout", value: true, set: func(o *Options, v string) (err error) {
		o.ConnTimeout, err = seconds(v)
		return err
	}},
	{long: "max-redirs", value: true, set: func(o *Options, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < -1 {
			return errors.New("expected a proper numerical parameter")
		}
		o.MaxRedirs = n
		return nil
	}},
	{short: 'w', long: "write-out", value: true, set: func(o *Options, v string) error {
		if strings.HasPrefix(v, "@") {
			b, err := os.ReadFile(v[1:])
			if err != nil {
				return err
			}
			v = string(b)
		}
		o.WriteOut = v
		return nil
	}},
	{long: "resolve", value: true, set: func(o *Options, v string) error {
		// host:port:addr
		parts := strings.SplitN(v, ":", 3)
		if len(parts) != 3 {
			return errors.New("--resolve wants host:port:address")
		}
		a, err := netip.ParseAddr(strings.Trim(parts[2], "[]"))
		if err != nil || !a.Is4() {
			return errors.New("--resolve wants an IPv4 address")
		}
		if _, err := strconv.ParseUint(parts[1], 10, 16); err != nil {
			return errors.New("--resolve wants a port number")
		}
		if o.Resolve == nil {
			o.Resolve = make(map[string]netip.Addr)
		}
		o.Resolve[strings.ToLower(parts[0])+":"+parts[1]] = a
		return nil
	}},
}

// addData adds a -d style value: at (an @ reads a file; @- is standard
// input) and strip (remove CR and LF from file data, as -d does).
func (o *Options) addData(v string, at, strip bool) error {
	var b []byte
	if at && strings.HasPrefix(v, "@") {
		name := v[1:]
		if !strip && name != "-" && !o.HasData {
			// --data-binary @file alone: stream it, without reading it
			// into memory.
			if _, err := os.Stat(name); err != nil {
				return err
			}
			o.DataFile, o.HasData = name, true
			return nil
		}
		if o.DataFile != "" {
			return errors.New("--data-binary @file cannot be combined with other data")
		}
		var err error
		if name == "-" {
			b, err = readAllStdin()
		} else {
			b, err = os.ReadFile(name)
		}
		if err != nil {
			return err
		}
		if strip {
			b = []byte(strings.NewReplacer("\r", "", "\n", "").Replace(string(b)))
		}
	} else {
		if o.DataFile != "" {
			return errors.New("--data-binary @file cannot be combined with other data")
		}
		b = []byte(v)
	}
	if o.HasData {
		o.Data = append(o.Data, '&')
	}
	o.Data = append(o.Data, b...)
	o.HasData = true
	return nil
}

var readAllStdin = func() ([]byte, error) { return io.ReadAll(os.Stdin) }

// parseArgs splits the command line into appflags (forwarded to fs, which
// holds them: single or double dash, "-name value" or "-name=value") and
// curl's options and URLs, which may come in any order, short options
// bundled ("-sSfL", "-ofile") as curl allows.
func parseArgs(args []string, fs *flag.FlagSet) (*Options, []string, error) {
	o := &Options{MaxRedirs: 50}
	var fwd []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() (string, error) {
			if i+1 >= len(args) {
				return "", usageError{"curl: option " + a + ": requires parameter"}
			}
			i++
			return args[i], nil
		}
		switch {
		case a == "--":
			o.URLs = append(o.URLs, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			name := strings.TrimLeft(a, "-")
			if k, _, _ := strings.Cut(name, "="); fs.Lookup(k) != nil && (strings.HasPrefix(a, "--") || len(k) > 1) {
				// An appflags flag.
				fwd = append(fwd, "-"+name)
				if !strings.Contains(name, "=") && !isBoolFlag(fs, k) {
					v, err := next()
					if err != nil {
						return nil, nil, err
					}
					fwd = append(fwd, v)
				}
				continue
			}
			if strings.HasPrefix(a, "--") {
				opt := findLong(name)
				if opt == nil {
					return nil, nil, usageError{"curl: option " + a + ": is unknown"}
				}
				var v string
				if opt.value {
					var err error
					if v, err = next(); err != nil {
						return nil, nil, err
					}
				}
				if err := opt.set(o, v); err != nil {
					return nil, nil, usageError{"curl: option " + a + ": " + err.Error()}
				}
				continue
			}
			// Bundled short options: each letter; one taking a value takes
			// the rest of the word, or the next word.
			for j := 1; j < len(a); j++ {
				opt := findShort(a[j])
				if opt == nil {
					return nil, nil, usageError{"curl: option -" + a[j:j+1] + ": is unknown"}
				}
				var v string
				if opt.value {
					if j+1 < len(a) {
						v = a[j+1:]
					} else {
						var err error
						if v, err = next(); err != nil {
							return nil, nil, err
						}
					}
					j = len(a)
				}
				if err := opt.set(o, v); err != nil {
					return nil, nil, usageError{"curl: option -" + string(opt.short) + ": " + err.Error()}
				}
			}
		default:
			o.URLs = append(o.URLs, a)
		}
	}
	if len(o.URLs) == 0 {
		return nil, nil, usageError{"curl: no URL specified!"}
	}
	return o, fwd, nil
}

func isBoolFlag(fs *flag.FlagSet, name string) bool {
	f := fs.Lookup(name)
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func findLong(name string) *curlOpt {
	for i := range curlOpts {
		if curlOpts[i].long == name {
			return &curlOpts[i]
		}
	}
	return nil
}

func findShort(c byte) *curlOpt {
	for i := range curlOpts {
		if curlOpts[i].short == c && c != 0 {
			return &curlOpts[i]
		}
	}
	return nil
}
