package main

import (
	"errors"

	"github.com/lwgo/lwgo/apps/httpconfig/admin"
	"github.com/lwgo/lwgo/rawapi"
)

// Services are the appliance's servers besides the configuration page, run
// on the same stack and loop and switched by the settings' "apps" section.
//
// A service is an admin.AppService; one that needs the loop's clock (a
// retransmission timer, say) also implements poller, and visor's loop polls
// it after the stack. The other engineers' servers (apps/tftpd, apps/iperf,
// apps/httpd) are main packages and so cannot be linked into visor yet;
// until they are split into importable packages, visor lists them as
// missing: the page shows them and refuses to enable them (400), instead
// of pretending they run.
type poller interface {
	Poll(now rawapi.Time) rawapi.Time
}

// missing is a service visor was not built with.
type missing struct {
	name  string
	field string // the settings field that enables it
	on    func(s *admin.Settings) (bool, uint16)
	why   string
}

func (m *missing) Name() string { return m.name }

// Check implements admin.ServiceChecker: enabling it is refused.
func (m *missing) Check(s *admin.Settings, fe admin.FieldErrors) {
	if on, _ := m.on(s); on {
		fe[m.field] = m.name + " is not built into this visor (" + m.why + ")"
	}
}

func (m *missing) Apply(s admin.Settings) error {
	if on, _ := m.on(&s); on {
		return errors.New("not built into this visor")
	}
	return nil
}

func (m *missing) Status(conns []admin.ConnStatus) (admin.ServiceStatus, []admin.ConnStatus) {
	return admin.ServiceStatus{Name: m.name, Detail: "not built into this visor: " + m.why}, conns
}

// services returns visor's services.
func services() []admin.AppService {
	const why = "its server is in package main; it needs an importable package"
	return []admin.AppService{
		&missing{name: "tftpd", field: "apps.tftpd.enabled", why: why,
			on: func(s *admin.Settings) (bool, uint16) { return s.Apps.TFTPD.Enabled, s.Apps.TFTPD.Port }},
		&missing{name: "httpd", field: "apps.httpd.enabled", why: why,
			on: func(s *admin.Settings) (bool, uint16) { return s.Apps.HTTPD.Enabled, s.Apps.HTTPD.Port }},
		&missing{name: "iperf", field: "apps.iperf.enabled", why: why,
			on: func(s *admin.Settings) (bool, uint16) { return s.Apps.IPerf.Enabled, s.Apps.IPerf.Port }},
	}
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
