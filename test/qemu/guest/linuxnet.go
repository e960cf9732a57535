//go:build linux

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/lwgo/lwgo/test/internal/stream"
)

// linuxTCP is the comparison case: the same TCP exchange as the tcp case,
// but through the Linux kernel's own e1000 driver and TCP stack in the same
// kind of guest (e1000.ko from the same kernel package, loaded from the
// initramfs), so the host can compare throughput in one run.
func linuxTCP(args map[string]string, deadline time.Time) error {
	n, err := strconv.ParseInt(arg(args, "bytes", strconv.Itoa(64<<20)), 0, 64)
	if err != nil {
		return err
	}
	addr, err := netip.ParsePrefix(arg(args, "ip", "198.18.0.2/24"))
	if err != nil {
		return err
	}
	peer := arg(args, "peer", "198.18.0.1:5001")
	f, err := os.Open("/lib/modules/e1000.ko")
	if err != nil {
		return err
	}
	err = finitModule(int(f.Fd()))
	f.Close()
	if err != nil {
		return fmt.Errorf("finit_module e1000.ko: %w", err)
	}
	logf("linux: e1000.ko loaded")
	ifname := ""
	for ifname == "" && time.Now().Before(deadline) {
		ents, _ := os.ReadDir("/sys/class/net")
		for _, e := range ents {
			if e.Name() != "lo" {
				ifname = e.Name()
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ifname == "" {
		return errors.New("no network interface appeared")
	}
	if err := ifconfig(ifname, addr); err != nil {
		return err
	}
	logf("linux: %s up with %v", ifname, addr)
	var c net.Conn
	for {
		d := net.Dialer{Timeout: 2 * time.Second}
		c, err = d.Dial("tcp4", peer)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("dial %s: %w", peer, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer c.Close()
	logf("first frame sent") // the kernel's, for the host's timing line
	c.SetDeadline(deadline)
	start := time.Now()
	logf("tcp: connected %v -> %v", c.LocalAddr(), c.RemoteAddr())
	txSum := make(chan string, 1)
	txErr := make(chan error, 1)
	go func() {
		g := stream.New(stream.GuestToHost)
		h := sha256.New()
		buf := make([]byte, 256<<10)
		for sent := int64(0); sent < n; {
			k := int(min(int64(len(buf)), n-sent))
			g.Fill(buf[:k])
			h.Write(buf[:k])
			if _, err := c.Write(buf[:k]); err != nil {
				txErr <- err
				return
			}
			sent += int64(k)
		}
		txSum <- hex.EncodeToString(h.Sum(nil))
		txErr <- c.(*net.TCPConn).CloseWrite()
	}()
	g := stream.New(stream.HostToGuest)
	h := sha256.New()
	buf := make([]byte, 256<<10)
	want := make([]byte, len(buf))
	var rcvd int64
	bad := int64(-1)
	for {
		k, err := c.Read(buf)
		if k > 0 {
			h.Write(buf[:k])
			g.Fill(want[:k])
			for i := 0; bad < 0 && i < k; i++ {
				if buf[i] != want[i] {
					bad = rcvd + int64(i)
				}
			}
			rcvd += int64(k)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read after %d bytes: %w", rcvd, err)
		}
	}
	if err := <-txErr; err != nil {
		return fmt.Errorf("write: %w", err)
	}
	el := time.Since(start)
	logf("tcp: %d bytes each way with %v in %v (%.1f MB/s both directions)", n, peer,
		el.Round(time.Millisecond), float64(2*n)/el.Seconds()/1e6)
	logf("tcp: sent sha256 %s", <-txSum)
	logf("tcp: received sha256 %s", hex.EncodeToString(h.Sum(nil)))
	if bad >= 0 || rcvd != n {
		return fmt.Errorf("received %d of %d bytes, first wrong byte at %d", rcvd, n, bad)
	}
	return nil
}

// ifconfig gives ifname the address and brings it up (SIOCSIFADDR,
// SIOCSIFNETMASK, SIOCSIFFLAGS), as ifconfig(8) would.
func ifconfig(ifname string, p netip.Prefix) error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	set := func(req uintptr, a netip.Addr) error {
		var r ifreq
		copy(r.name[:], ifname)
		r.data[0] = syscall.AF_INET // sockaddr_in.sin_family, little-endian u16
		a4 := a.As4()
		copy(r.data[4:8], a4[:])
		return ioctl(fd, req, &r)
	}
	if err := set(syscall.SIOCSIFADDR, p.Addr()); err != nil {
		return fmt.Errorf("SIOCSIFADDR: %w", err)
	}
	mask := netip.AddrFrom4([4]byte(net.CIDRMask(p.Bits(), 32)))
	if err := set(syscall.SIOCSIFNETMASK, mask); err != nil {
		return fmt.Errorf("SIOCSIFNETMASK: %w", err)
	}
	var r ifreq
	copy(r.name[:], ifname)
	if err := ioctl(fd, syscall.SIOCGIFFLAGS, &r); err != nil {
		return fmt.Errorf("SIOCGIFFLAGS: %w", err)
	}
	flags := uint16(r.data[0]) | uint16(r.data[1])<<8 | syscall.IFF_UP
	r.data[0], r.data[1] = byte(flags), byte(flags>>8)
	if err := ioctl(fd, syscall.SIOCSIFFLAGS, &r); err != nil {
		return fmt.Errorf("SIOCSIFFLAGS: %w", err)
	}
	return nil
}
