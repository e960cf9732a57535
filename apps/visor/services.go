package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/lwgo/lwgo/apps/httpconfig/admin"
	"github.com/lwgo/lwgo/apps/httpd/httpserver"
	"github.com/lwgo/lwgo/apps/iperf/iperf2"
	"github.com/lwgo/lwgo/apps/tftpd/tftp"
	"github.com/lwgo/lwgo/rawapi"
)

// Services are the appliance's servers besides the configuration page, run
// on the same stack and loop and switched by the settings' "apps" section.
//
// A service is an admin.AppService and an admin.StackService (admin.Start
// hands it the stack before the first Apply); one that needs the loop's
// clock (a retransmission timer, say) also implements poller, and visor's
// loop polls it after the stack. Apply starts a service that the settings
// enable, restarts it when its settings change, and closes its endpoints
// when they disable it.
//
// tftpd (apps/tftpd/tftp) and iperf (apps/iperf/iperf2's server) are
// event-driven on the raw API. httpd (apps/httpd/httpserver) is written on
// the sequential API; it runs as a task of a rawapi.Tasks runner, whose
// blocking calls park the task instead of polling the stack, and visor's
// loop resumes it after each poll: the same server code as the httpd
// command, on visor's stack and loop.
type poller interface {
	Poll(now rawapi.Time) rawapi.Time
}

// services returns visor's services; log, when not nil, receives the
// servers' own logs (tftpd's transfers, iperf's reports).
func services(log io.Writer) []admin.AppService {
	return []admin.AppService{
		&tftpService{log: log},
		&httpdService{log: log},
		&iperfService{log: log},
	}
}

// closeServices stops the services that run (visor's exit).
func closeServices(svcs []admin.AppService) {
	for _, sv := range svcs {
		if c, ok := sv.(interface{ Close() }); ok {
			c.Close()
		}
	}
}

// tftpService runs tftp.Server.
type tftpService struct {
	s   *rawapi.Stack
	n   *rawapi.Netif
	log io.Writer
	cfg admin.TFTPD // the settings srv runs with
	srv *tftp.Server
	err error // of the last start
}

func (t *tftpService) Name() string { return "tftpd" }

// Attach implements admin.StackService.
func (t *tftpService) Attach(s *rawapi.Stack, n *rawapi.Netif) { t.s, t.n = s, n }

// Apply implements admin.AppService.
func (t *tftpService) Apply(s admin.Settings) error {
	want := s.Apps.TFTPD
	if t.srv != nil && want == t.cfg {
		return nil
	}
	t.Close()
	t.err = nil
	if !want.Enabled {
		return nil
	}
	if t.s == nil {
		return errors.New("no stack")
	}
	cfg := tftp.Config{Root: want.Root, Write: want.Writable, Port: want.Port, MaxTransfers: 16, Log: t.log}
	if t.n != nil {
		cfg.MaxBlockSize = t.n.MTU - 32 // IPv4 20, UDP 8, TFTP 4: no fragmented blocks
	}
	srv, err := tftp.NewServer(t.s, cfg)
	if err != nil {
		t.err = err
		return err
	}
	t.srv, t.cfg = srv, want
	return nil
}

// Close stops the server: every transfer is abandoned and the ports close.
func (t *tftpService) Close() {
	if t.srv != nil {
		t.srv.Close()
		t.srv = nil
	}
}

// Poll runs the transfers' retransmission timers.
func (t *tftpService) Poll(now rawapi.Time) rawapi.Time {
	if t.srv == nil {
		return rawapi.Never
	}
	return t.srv.Poll(now)
}

func (t *tftpService) Status(conns []admin.ConnStatus) (admin.ServiceStatus, []admin.ConnStatus) {
	ss := admin.ServiceStatus{Name: t.Name()}
	switch {
	case t.srv != nil:
		st := t.srv.Stats
		ss.Enabled, ss.Running, ss.Port = true, true, t.cfg.Port
		w := "read-only"
		if t.cfg.Writable {
			w = "writable"
		}
		ss.Detail = fmt.Sprintf("%s (%s); %d transfers now, %d requests, %d completed, %d failed, %d retransmits",
			t.cfg.Root, w, t.srv.Active(), st.Requests, st.Completed, st.Failed, st.Retransmits)
	case t.err != nil:
		ss.Enabled, ss.Detail = true, "not running: "+t.err.Error()
	}
	return ss, conns
}

// iperfService runs iperf2.Server.
type iperfService struct {
	s       *rawapi.Stack
	log     io.Writer
	port    uint16
	srv     *iperf2.Server
	err     error
	results int
	bytes   int64
	tcps    []rawapi.TCP // scratch for Status
}

func (p *iperfService) Name() string { return "iperf" }

// Attach implements admin.StackService.
func (p *iperfService) Attach(s *rawapi.Stack, _ *rawapi.Netif) { p.s = s }

// Apply implements admin.AppService.
func (p *iperfService) Apply(s admin.Settings) error {
	want := s.Apps.IPerf
	if p.srv != nil && want.Enabled && want.Port == p.port {
		return nil
	}
	p.Close()
	p.err = nil
	if !want.Enabled {
		return nil
	}
	if p.s == nil {
		return errors.New("no stack")
	}
	out := p.log
	if out == nil {
		out = io.Discard
	}
	srv, err := iperf2.NewServer(p.s, want.Port, 16, out, 'a')
	if err != nil {
		p.err = err
		return err
	}
	srv.OnResult = func(r iperf2.Result) {
		p.results++
		p.bytes += r.Bytes
	}
	p.srv, p.port = srv, want.Port
	return nil
}

// Close stops listening and resets the tests in progress.
func (p *iperfService) Close() {
	if p.srv != nil {
		p.srv.Close()
		p.srv = nil
	}
}

func (p *iperfService) Status(conns []admin.ConnStatus) (admin.ServiceStatus, []admin.ConnStatus) {
	ss := admin.ServiceStatus{Name: p.Name()}
	switch {
	case p.srv != nil:
		ss.Enabled, ss.Running, ss.Port = true, true, p.port
		ss.Detail = fmt.Sprintf("%d tests done, %d bytes received", p.results, p.bytes)
		p.tcps = p.srv.Conns(p.tcps[:0])
		for _, c := range p.tcps {
			conns = append(conns, admin.ConnInfo("iperf", c))
		}
	case p.err != nil:
		ss.Enabled, ss.Detail = true, "not running: "+p.err.Error()
	}
	return ss, conns
}

// httpdService runs httpserver.Server as the one task of a rawapi.Tasks
// runner of its own, made at each start and closed at each stop.
type httpdService struct {
	s     *rawapi.Stack
	log   io.Writer
	tasks *rawapi.Tasks
	srv   *httpserver.Server
	err   error
	tcps  []rawapi.TCP // scratch for Status
}

func (h *httpdService) Name() string { return "httpd" }

// Attach implements admin.StackService.
func (h *httpdService) Attach(s *rawapi.Stack, _ *rawapi.Netif) { h.s = s }

// Apply implements admin.AppService.
func (h *httpdService) Apply(s admin.Settings) error {
	want := s.Apps.HTTPD
	if h.srv != nil && want.Enabled && want.Port == h.srv.Port() {
		return nil
	}
	h.Close()
	h.err = nil
	if !want.Enabled {
		return nil
	}
	if h.s == nil {
		return errors.New("no stack")
	}
	cfg := httpserver.Config{Port: want.Port, MaxClients: 16, Backlog: 16, Log: h.log}
	tasks := rawapi.NewTasks(h.s)
	srv, err := httpserver.NewServer(tasks.NewSeq(cfg.SeqConfig()), cfg)
	if err != nil {
		h.err = err
		return err
	}
	tasks.Go(func() { srv.Serve(func() bool { return false }) }) // until Close
	h.tasks, h.srv = tasks, srv
	return nil
}

// Close ends the server's task, then stops listening and resets its
// clients.
func (h *httpdService) Close() {
	if h.srv != nil {
		h.tasks.Close()
		h.srv.Close()
		h.tasks, h.srv = nil, nil
	}
}

// Poll resumes the server's task when it can go on.
func (h *httpdService) Poll(now rawapi.Time) rawapi.Time {
	if h.tasks == nil {
		return rawapi.Never
	}
	return h.tasks.Poll(now)
}

func (h *httpdService) Status(conns []admin.ConnStatus) (admin.ServiceStatus, []admin.ConnStatus) {
	ss := admin.ServiceStatus{Name: h.Name()}
	switch {
	case h.srv != nil:
		st := h.srv.Stats
		ss.Enabled, ss.Running, ss.Port = true, true, h.srv.Port()
		ss.Detail = fmt.Sprintf("%d connections, %d requests, %d body bytes, %d timeouts",
			st.Accepted, st.Requests, st.BodyBytes, st.Timeouts)
		h.tcps = h.srv.Conns(h.tcps[:0])
		for _, c := range h.tcps {
			conns = append(conns, admin.ConnInfo("httpd", c))
		}
	case h.err != nil:
		ss.Enabled, ss.Detail = true, "not running: "+h.err.Error()
	}
	return ss, conns
}

// loop is what visor's hosted.Run polls: the stack, then the services that
// have timers of their own.
type loop struct {
	s        *rawapi.Stack
	services []admin.AppService
}

func (l loop) Poll(now rawapi.Time) rawapi.Time {
	next := l.s.Poll(now)
	for _, sv := range l.services {
		if p, ok := sv.(poller); ok {
			next = min(next, p.Poll(now))
		}
	}
	return next
}
