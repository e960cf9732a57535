package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Info is what -w can report of a finished transfer.
type Info struct {
	HTTPCode     int
	SizeDownload int64 // body bytes received (of the last response)
	SizeUpload   int64
	SizeHeader   int64
	NumRedirects int
	NumConnects  int
	URLEffective string
	RedirectURL  string // the Location not followed
	ContentType  string
	RemoteIP     string
	RemotePort   int
	TimeConnect  time.Duration
	TimeTotal    time.Duration
	ExitCode     int
	ErrorMsg     string
}

// writeOut expands curl's -w format: %{variable}, %% and the escapes \n,
// \r, \t and \\. Unknown variables expand to nothing, with curl's warning
// on warn.
func writeOut(format string, in *Info, warn func(string)) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		switch {
		case c == '%' && i+1 < len(format) && format[i+1] == '%':
			b.WriteByte('%')
			i++
		case c == '%' && i+1 < len(format) && format[i+1] == '{':
			end := strings.IndexByte(format[i:], '}')
			if end < 0 {
				b.WriteString(format[i:])
				return b.String()
			}
			name := format[i+2 : i+end]
			if v, ok := in.variable(name); ok {
				b.WriteString(v)
			} else if warn != nil {
				warn("curl: unknown --write-out variable: '" + name + "'")
			}
			i += end
		case c == '\\' && i+1 < len(format):
			switch format[i+1] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '\\':
				b.WriteByte('\\')
			default:
				b.WriteByte(c)
				continue
			}
			i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 6, 64) }

func (in *Info) variable(name string) (string, bool) {
	switch name {
	case "http_code", "response_code":
		return fmt.Sprintf("%03d", in.HTTPCode), true
	case "size_download":
		return strconv.FormatInt(in.SizeDownload, 10), true
	case "size_upload":
		return strconv.FormatInt(in.SizeUpload, 10), true
	case "size_header":
		return strconv.FormatInt(in.SizeHeader, 10), true
	case "num_redirects":
		return strconv.Itoa(in.NumRedirects), true
	case "num_connects":
		return strconv.Itoa(in.NumConnects), true
	case "url_effective":
		return in.URLEffective, true
	case "redirect_url":
		return in.RedirectURL, true
	case "content_type":
		return in.ContentType, true
	case "remote_ip":
		return in.RemoteIP, true
	case "remote_port":
		if in.RemotePort == 0 {
			return "", true
		}
		return strconv.Itoa(in.RemotePort), true
	case "time_connect":
		return secs(in.TimeConnect), true
	case "time_total":
		return secs(in.TimeTotal), true
	case "speed_download":
		if in.TimeTotal <= 0 {
			return "0", true
		}
		return strconv.FormatInt(int64(float64(in.SizeDownload)/in.TimeTotal.Seconds()), 10), true
	case "speed_upload":
		if in.TimeTotal <= 0 {
			return "0", true
		}
		return strconv.FormatInt(int64(float64(in.SizeUpload)/in.TimeTotal.Seconds()), 10), true
	case "exitcode":
		return strconv.Itoa(in.ExitCode), true
	case "errormsg":
		return in.ErrorMsg, true
	}
	return "", false
}
