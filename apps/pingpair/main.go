// Command pingpair runs two lwgo stacks in one process, joined by an
// in-memory Ethernet wire, and makes them ping each other and exchange UDP
// datagrams, printing what happens and the stacks' counters. It is the
// smallest complete lwgo program: no OS network, no root, virtual time.
//
//	go run ./apps/pingpair [-n 5] [-size 56] [-loss 0.1] [-pcap out.pcap]
package main

import (
	"flag"
	"fmt"
	"net/netip"
	"os"

	"github.com/lwgo/lwgo/netif"
	"github.com/lwgo/lwgo/netif/fault"
	"github.com/lwgo/lwgo/netif/pcap"
	"github.com/lwgo/lwgo/netif/pipe"
	"github.com/lwgo/lwgo/rawapi"
)

func main() {
	count := flag.Int("n", 5, "echo requests each way")
	size := flag.Int("size", 56, "echo payload bytes (above 1472 the datagrams are fragmented)")
	loss := flag.Float64("loss", 0, "probability that the wire drops a frame, each way")
	pcapFile := flag.String("pcap", "", "record stack A's traffic to this pcap file")
	flag.Parse()
	if err := run(*count, *size, *loss, *pcapFile); err != nil {
		fmt.Fprintln(os.Stderr, "pingpair:", err)
		os.Exit(1)
	}
}

func run(count, size int, loss float64, pcapFile string) error {
	clk := &rawapi.ManualClock{}
	wa, wb := pipe.New(pipe.Config{QueueLen: 256})
	var da, db netif.Device = wa, wb
	if loss > 0 {
		da = fault.New(wa, clk, fault.Config{Seed: 1, DropRate: loss})
		db = fault.New(wb, clk, fault.Config{Seed: 2, DropRate: loss})
	}
	if pcapFile != "" {
		f, err := os.Create(pcapFile)
		if err != nil {
			return err
		}
		defer f.Close()
		da = pcap.New(da, pcap.NewWriter(f, clk, 0))
	}
	a, b := rawapi.New(rawapi.Config{Seed: 1}), rawapi.New(rawapi.Config{Seed: 2})
	na, err := a.AddNetif(da, rawapi.NetifConfig{Name: "a0", Addr: netip.MustParsePrefix("192.0.2.1/24")})
	if err != nil {
		return err
	}
	nb, err := b.AddNetif(db, rawapi.NetifConfig{Name: "b0", Addr: netip.MustParsePrefix("192.0.2.2/24")})
	if err != nil {
		return err
	}
	a.SetUp(na)
	b.SetUp(nb)
	// step runs both stacks for d of virtual time.
	step := func(d rawapi.Duration) {
		end := clk.Now().Add(d)
		for clk.Now() < end {
			a.Poll(clk.Now())
			b.Poll(clk.Now())
			clk.Advance(rawapi.Millisecond)
		}
	}
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i)
	}
	for _, dir := range []struct {
		name     string
		from, to *rawapi.Stack
		dst      string
	}{{"A→B", a, b, "192.0.2.2"}, {"B→A", b, a, "192.0.2.1"}} {
		replies := 0
		sentAt := map[uint16]rawapi.Time{}
		p, err := dir.from.NewPing(func(p rawapi.Ping, from netip.Addr, seq uint16, ttl uint8, data []byte) {
			replies++
			fmt.Printf("%s: %d bytes from %v: icmp_seq=%d ttl=%d time=%v ms (virtual)\n",
				dir.name, len(data), from, seq, ttl, clk.Now().Sub(sentAt[seq])/rawapi.Millisecond)
		})
		if err != nil {
			return err
		}
		for seq := range count {
			sentAt[uint16(seq)] = clk.Now()
			if err := p.Send(netip.MustParseAddr(dir.dst), uint16(seq), payload); err != nil {
				fmt.Printf("%s: send %d: %v\n", dir.name, seq, err)
			}
			step(rawapi.Second)
		}
		p.Close()
		fmt.Printf("%s: %d requests, %d replies\n", dir.name, count, replies)
	}
	// UDP: B echoes on port 7, A sends a few datagrams.
	echo, err := b.NewUDP()
	if err != nil {
		return err
	}
	if err := echo.Bind(netip.Addr{}, 7); err != nil {
		return err
	}
	echo.SetRecv(func(u rawapi.UDP, p *rawapi.Buf, src netip.AddrPort, dst netip.Addr) {
		u.SendTo(p.Bytes(), src)
		p.Free()
	})
	cli, err := a.NewUDP()
	if err != nil {
		return err
	}
	echoed := 0
	cli.SetRecv(func(u rawapi.UDP, p *rawapi.Buf, src netip.AddrPort, dst netip.Addr) {
		echoed++
		p.Free()
	})
	for range count {
		if err := cli.SendTo(payload, netip.MustParseAddrPort("192.0.2.2:7")); err != nil {
			fmt.Println("udp send:", err)
		}
		step(100 * rawapi.Millisecond)
	}
	fmt.Printf("UDP: %d datagrams sent, %d echoed\n\n", count, echoed)
	sa, sb := a.Stats(), b.Stats()
	fmt.Printf("stack A counters:\n%s\nstack B counters:\n%s", sa.String(), sb.String())
	return nil
}
