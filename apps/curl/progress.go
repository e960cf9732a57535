package main

import (
	"fmt"
	"io"
	"time"
)

// meter is curl's progress meter (lib/progress.c): a header, then one line
// a second rewritten in place with \r, and the final line with a newline.
//
//	  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current
//	                                 Dload  Upload   Total   Spent    Left  Speed
//	100  100M  100  100M    0     0   445M      0 --:--:-- --:--:-- --:--:--  446M
type meter struct {
	w       io.Writer
	start   time.Time
	lastSec int64 // whole seconds since start at the last line
	shown   bool
	// speeder: (bytes, time) once a second, for the current speed over the
	// last five seconds, as curl's CURR_TIME ring.
	ring  [6]sample
	nring int
}

type sample struct {
	bytes int64
	at    time.Time
}

func newMeter(w io.Writer, start time.Time) *meter {
	return &meter{w: w, start: start, lastSec: -1}
}

// update prints a line if a new second has begun since the last one, or if
// final. dlTotal and ulTotal are -1 when unknown.
func (m *meter) update(now time.Time, dl, dlTotal, ul, ulTotal int64, final bool) {
	if m == nil {
		return
	}
	spent := now.Sub(m.start)
	sec := int64(spent / time.Second)
	if sec == m.lastSec && !final {
		return
	}
	if !m.shown {
		io.WriteString(m.w, "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"+
			"                                 Dload  Upload   Total   Spent    Left  Speed\n")
		m.shown = true
	}
	if sec != m.lastSec {
		m.push(sample{dl + ul, now})
	}
	m.lastSec = sec
	us := max(spent.Microseconds(), 1)
	dlSpeed := dl * 1_000_000 / us
	ulSpeed := ul * 1_000_000 / us
	cur := m.current(dl+ul, now, dlSpeed+ulSpeed)

	var dlPct, ulPct, totPct int64
	expDL, expUL := dl, ul
	var dlEst, ulEst int64
	if dlTotal > 0 {
		dlPct = dl * 100 / dlTotal
		expDL = dlTotal
		if dlSpeed > 0 {
			dlEst = dlTotal / dlSpeed
		}
	}
	if ulTotal > 0 {
		ulPct = ul * 100 / ulTotal
		expUL = ulTotal
		if ulSpeed > 0 {
			ulEst = ulTotal / ulSpeed
		}
	}
	if exp := expDL + expUL; exp > 0 {
		totPct = (dl + ul) * 100 / exp
	}
	est := max(dlEst, ulEst)
	left := int64(0)
	if est > 0 {
		left = est - int64(spent/time.Second)
	}
	end := ""
	if final {
		end = "\n"
	}
	fmt.Fprintf(m.w, "\r%3d %s  %3d %s  %3d %s  %s  %s %s %s %s %s%s",
		totPct, max5(expDL+expUL), dlPct, max5(dl), ulPct, max5(ul), max5(dlSpeed), max5(ulSpeed),
		timeStr(est), timeStr(int64(spent/time.Second)), timeStr(left), max5(cur), end)
}

// push records a once-a-second sample.
func (m *meter) push(s sample) {
	copy(m.ring[1:], m.ring[:len(m.ring)-1])
	m.ring[0] = s
	m.nring = min(m.nring+1, len(m.ring))
}

// current is the speed over the samples of the last five seconds (curl's
// "Current Speed"), or avg while there is only one.
func (m *meter) current(total int64, now time.Time, avg int64) int64 {
	if m.nring < 2 {
		return avg
	}
	old := m.ring[m.nring-1]
	d := now.Sub(old.at)
	if d <= 0 {
		return avg
	}
	return (total - old.bytes) * int64(time.Second) / int64(d)
}

// max5 formats a byte count in at most five characters, as curl's
// max5data.
func max5(n int64) string {
	const k, m, g, t = 1 << 10, 1 << 20, 1 << 30, 1 << 40
	switch {
	case n < 100000:
		return fmt.Sprintf("%5d", n)
	case n < 10000*k:
		return fmt.Sprintf("%4dk", n/k)
	case n < 100*m:
		return fmt.Sprintf("%2d.%dM", n/m, n%m/(m/10))
	case n < 10000*m:
		return fmt.Sprintf("%4dM", n/m)
	case n < 100*g:
		return fmt.Sprintf("%2d.%dG", n/g, n%g/(g/10))
	case n < 10000*g:
		return fmt.Sprintf("%4dG", n/g)
	case n < 10000*t:
		return fmt.Sprintf("%4dT", n/t)
	}
	return fmt.Sprintf("%4dP", n/(1<<50))
}

// timeStr formats seconds as curl's time2str: "H:MM:SS" in eight columns,
// days beyond 99 hours, "--:--:--" for nothing.
func timeStr(s int64) string {
	if s <= 0 {
		return "--:--:--"
	}
	if h := s / 3600; h <= 99 {
		return fmt.Sprintf("%2d:%02d:%02d", h, s%3600/60, s%60)
	}
	d := s / 86400
	if d <= 999 {
		return fmt.Sprintf("%3dd %02dh", d, s%86400/3600)
	}
	return fmt.Sprintf("%7dd", d)
}
