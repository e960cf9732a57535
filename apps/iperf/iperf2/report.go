package iperf2

import (
	"fmt"
	"io"
	"net/netip"

	"github.com/lwgo/lwgo/rawapi"
)

// Report formats follow iperf 2's (-f): 'a' adapts the unit to the value,
// 'b' prints bytes and bits per second as integers, 'k', 'm', 'g' fix the
// unit (KBytes and Kbits/sec, and so on). Bytes scale by 1024, bits by
// 1000, as in iperf 2.

// formatBytes is iperf 2's byte_snprintf for a Transfer column.
func formatBytes(n float64, f byte) string {
	units := [...]string{"Bytes", "KBytes", "MBytes", "GBytes", "TBytes"}
	return scaled(n, 1024, units[:], f)
}

// formatBits formats a bandwidth in bits per second.
func formatBits(bps float64, f byte) string {
	units := [...]string{"bits/sec", "Kbits/sec", "Mbits/sec", "Gbits/sec", "Tbits/sec"}
	return scaled(bps, 1000, units[:], f)
}

func scaled(v, base float64, units []string, f byte) string {
	i := 0
	switch f {
	case 'b':
		return fmt.Sprintf("%.0f %s", v, units[0])
	case 'k':
		i = 1
	case 'm':
		i = 2
	case 'g':
		i = 3
	default: // adaptive
		for v >= base && i < len(units)-1 {
			v /= base
			i++
		}
		return fmt.Sprintf("%s %s", digits(v), units[i])
	}
	for range i {
		v /= base
	}
	return fmt.Sprintf("%s %s", digits(v), units[i])
}

// digits prints three or four significant digits, as iperf 2 does.
func digits(v float64) string {
	switch {
	case v < 9.995:
		return fmt.Sprintf("%4.2f", v)
	case v < 99.95:
		return fmt.Sprintf("%4.1f", v)
	}
	return fmt.Sprintf("%4.0f", v)
}

const rule = "------------------------------------------------------------\n"

// banner prints the server's or client's opening lines.
func banner(w io.Writer, first string, window int) {
	fmt.Fprint(w, rule)
	fmt.Fprintln(w, first)
	fmt.Fprintf(w, "TCP window size: %s (default)\n", kbytes(window))
	fmt.Fprint(w, rule)
}

// kbytes is the window size the way iperf 2 prints it ("128 KByte").
func kbytes(n int) string {
	s := formatBytes(float64(n), 'a')
	if len(s) > 0 && s[len(s)-1] == 's' {
		s = s[:len(s)-1] // "KBytes" → "KByte", as iperf prints window sizes
	}
	return s
}

// connected prints a connection's line.
func connected(w io.Writer, id int, local, remote netip.AddrPort) {
	fmt.Fprintf(w, "[%3d] local %v port %d connected with %v port %d\n", id, local.Addr(), local.Port(), remote.Addr(), remote.Port())
}

// result prints the column header and a test's line.
func result(w io.Writer, id int, bytes int64, d rawapi.Duration, f byte) {
	secs := float64(d) / float64(rawapi.Second)
	bps := 0.0
	if secs > 0 {
		bps = float64(bytes) * 8 / secs
	}
	fmt.Fprintf(w, "[ ID] Interval       Transfer     Bandwidth\n")
	fmt.Fprintf(w, "[%3d] %6.4f-%6.4f sec  %s  %s\n", id, 0.0, secs, formatBytes(float64(bytes), f), formatBits(bps, f))
}
