// Package rawapi is what applications use: lwIP's raw callback API under Go
// names. It re-exports the core's types (Stack, UDP, Ping, Buf, errors) so
// that programs import this package and netif, never core itself.
//
// # Setup
//
//	s := rawapi.New(rawapi.Config{Seed: entropy})          // lwip_init
//	n, err := s.AddNetif(dev, rawapi.NetifConfig{           // netif_add
//		Addr: netip.MustParsePrefix("192.0.2.10/24"),
//		Gateway: netip.MustParseAddr("192.0.2.1"),
//	})
//	s.SetUp(n)                                              // netif_set_up
//	for {
//		next := s.Poll(now())                              // netif poll + sys_check_timeouts
//		sleep until next, or until the device has frames
//	}
//
// platform/hosted runs that loop on an OS.
//
// # Rules
//
// Everything runs on the goroutine that calls Poll: callbacks run inside
// Poll, and every other call must be made from that goroutine, between Polls
// or inside callbacks (or from a Tasks task, which runs only while that
// goroutine has handed control to it). Handles (UDP, Ping) are small values with a
// generation; after Close they are stale and every method returns ErrClosed,
// never touching an endpoint that reuses the slot.
//
// Buffers: a UDP receive function owns the *Buf it is given and must Free it
// exactly once (lwIP's udp_recv contract). Data passed to SendTo stays the
// caller's; the call copies what it needs.
//
// Errors are the comparable constants below, mirroring lwIP's err_t; nil is
// ERR_OK.
//
// # lwIP to Go
//
//	udp_new                  s.NewUDP()
//	udp_bind                 u.Bind(addr, port)        port 0: ephemeral (RFC 6056)
//	udp_connect/disconnect   u.Connect(raddr), u.Disconnect()
//	udp_send, udp_sendto     u.Send(p), u.SendTo(p, raddr)
//	udp_recv                 u.SetRecv(fn)
//	udp_remove               u.Close()
//	raw_new(IP_PROTO_ICMP)   s.NewPing(fn)             echo requests and replies
//	raw_sendto               p.Send(dst, seq, data)
//	etharp_add_static_entry  s.AddStaticARP(n, ip, mac)
//	stats_display            s.Stats().String()
//
//	tcp_new                  s.NewTCP()
//	tcp_arg + tcp_recv/sent/poll/err   c.SetHandler(h)   h implements TCPHandler
//	tcp_bind                 c.Bind(addr, port)
//	tcp_listen_with_backlog  c.Listen(backlog) → TCPListener; c goes stale
//	tcp_accept               l.SetAcceptor(a)
//	tcp_connect              c.Connect(raddr)          result: Connected or Err
//	tcp_write, tcp_output    c.Write(p, flags), c.Output()
//	tcp_recved               c.Recved(n)               an int: no 16-bit limit
//	tcp_sndbuf               c.SendBuffer()            a Write of that many bytes succeeds
//	tcp_sndqueuelen          c.SendQueueLen()          in bytes
//	tcp_mss                  c.MSS()
//	tcp_poll                 c.SetPollInterval(d)
//	tcp_nagle_disable        c.SetNoDelay(true)
//	SOF_KEEPALIVE            c.SetKeepAlive(on, idle, interval, count)
//	tcp_shutdown             c.CloseRead(), c.CloseWrite()
//	tcp_close                c.Close()                 the handle goes stale
//	tcp_abort                c.Abort()
//
//	dhcp_start               d, _ := rawapi.NewDHCP(s, n, cfg); d.Start()
//	dhcp_stop                d.Stop()                  the address goes; no message
//	dhcp_release             d.Release()               DHCPRELEASE, then Stop
//	dhcp_renew               d.Renew()
//	dhcp_supplied_address    _, ok := d.Lease()
//	netif status callback    DHCPConfig.OnEvent        bound, renewed, lost, declined
//	dns_init                 r, _ := rawapi.NewDNS(s, cfg)
//	dns_setserver            r.SetServer(i, addr)      DHCPConfig.DNS = r: from option 6
//	dns_gethostbyname        r.GetHostByName(name, found)  at once, or ErrInProgress and found later
//	dns_local_addhost        r.AddHost(name, addr)
//	dns_local_removehost     r.RemoveHost(name)
//
// # Sequential programs
//
// Seq is the sequential API (uSock's): blocking Dial, Accept, Recv, Send
// with timeouts. A program that owns its loop makes one with NewSeq, and
// its blocking calls poll the stack themselves. A program that shares a
// loop with others (raw-API servers, more sequential programs) runs as a
// task of a Tasks runner instead, as uSock's tasks did on an RTOS:
//
//	r := rawapi.NewTasks(s)
//	q := r.NewSeq(rawapi.SeqConfig{})
//	r.Go(func() { serve(q) })          // blocking calls park the task
//	loop: next := min(s.Poll(now), r.Poll(now))   // Poll resumes the tasks that can go on
//	r.Close()                          // parked calls return ErrClosed; tasks return
//
// Tasks are coroutines with strict handoff: only the loop owner or one task
// runs at a time, so the rules above hold unchanged. See Seq and Tasks.
//
// # TCP callbacks
//
// TCPHandler methods run inside Poll. Recv gets in-order data, or nil at end
// of stream; returning nil takes the buffer (Free it, Recved the bytes),
// any other error refuses it and the stack offers it again later. Sent
// reports bytes the peer acknowledged. Err reports the end of a connection
// that did not close by itself: the handle is already stale. A callback
// that called Abort returns ErrAbort.
package rawapi
