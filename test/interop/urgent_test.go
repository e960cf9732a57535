package interop

import (
	"strings"
	"testing"
	"time"

	"github.com/lwgo/lwgo/rawapi"
)

// urgentConn collects what the peer sends and the urgent signals; once it
// has "helloU" it answers "world" with "X" as urgent data.
type urgentConn struct {
	rawapi.DefaultHandler
	got     []byte
	signals []int
	done    chan string
}

func (u *urgentConn) Urgent(c rawapi.TCP, n int) error {
	u.signals = append(u.signals, n)
	return nil
}

func (u *urgentConn) Recv(c rawapi.TCP, p *rawapi.Buf, err error) error {
	if p == nil {
		return c.Close()
	}
	u.got = append(u.got, p.Bytes()...)
	c.Recved(p.Len())
	p.Free()
	if string(u.got) == "helloU" {
		c.Write([]byte("world"), rawapi.WriteMore)
		c.Write([]byte("X"), rawapi.WriteUrgent)
		select {
		case u.done <- string(u.got):
		default:
		}
	}
	return nil
}

// TestUrgentDataWithLinux (RFC 9293 §3.8.5, RFC 6093): urgent data both
// ways with Linux, whose socket API (MSG_OOB, SO_OOBINLINE off) takes the
// last urgent byte out of band; the pointers agree when Linux's out-of-band
// byte is exactly the urgent byte each side wrote.
func TestUrgentDataWithLinux(t *testing.T) {
	r := newRig(t, rigConfig{}, python())
	u := &urgentConn{done: make(chan string, 1)}
	r.listen(7100, func() rawapi.TCPHandler { return u })
	script := `
import select, socket, sys
s = socket.create_connection((sys.argv[1], 7100), timeout=10)
s.sendall(b"hello")
s.send(b"U", socket.MSG_OOB)
data, oob = b"", b""
while len(data) < 5 or not oob:
    r, _, x = select.select([s], [], [s], 10)
    if not r and not x:
        break
    if x and not oob:
        try:
            oob = s.recv(1, socket.MSG_OOB)
        except OSError:
            pass
    if r:
        try:
            d = s.recv(100)
        except OSError:
            d = b""
        data += d
print(data.decode(), oob.decode())
s.close()
`
	out := strings.TrimSpace(r.run(30*time.Second, python(), "-c", script, r.addr.String()))
	var got string
	select {
	case got = <-u.done:
	case <-time.After(10 * time.Second):
	}
	var signals []int
	r.do(func() { signals = append(signals, u.signals...) })
	// The signal counts from the next byte Recv delivers to the byte
	// after "U": 1 if "hello" came first in its own segment, 6 if Linux
	// sent "helloU" in one.
	if got != "helloU" || len(signals) == 0 || signals[0] != 1 && signals[0] != 6 {
		t.Fatalf("lwgo got %q (urgent data inline), urgent signals %v: want \"helloU\" and a first signal up to the byte after U", got, signals)
	}
	if out != "world X" {
		t.Fatalf("Linux read %q, want in-band \"world\" and out-of-band \"X\"", out)
	}
}
