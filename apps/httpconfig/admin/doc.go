// Package admin is the appliance's configuration server: the logic of
// apps/httpconfig and apps/visor, on lwgo's raw TCP API.
//
// It shows and edits the appliance's Settings (network: DHCP or a static
// address, gateway and DNS servers; the host name; the services' settings;
// the administrator's password) and its Status (uptime, interfaces and
// their counters, the DHCP lease, the stack's counters, TCP connections
// with their state, the services), as an HTML page without scripts or
// external assets and as JSON:
//
//	GET  /                 the page (status and the settings form)
//	POST /config           the form (application/x-www-form-urlencoded)
//	GET  /api/config       the settings; the X-CSRF-Token field carries the session's token
//	PUT  /api/config       replace the settings (JSON)
//	POST /api/config       merge into the settings (JSON: present fields replace)
//	GET  /api/status       the status
//	GET  /api/csrf         {"token": …} for scripts
//	GET  /files/…          the TFTP root, read-only (listing and downloads)
//	GET  /style.css        the page's style sheet
//
// Changes are validated (400 with the problems per field), applied to the
// running stack (Stack.SetAddr, a DHCP client started or released, the DNS
// resolver's servers, the services) and, with a configuration file, saved
// atomically. Network changes are applied once the response has been
// acknowledged, since they may move the server away from its client.
//
// Access needs HTTP Basic authentication (constant-time comparison);
// state-changing requests need the session's CSRF token and a same-origin
// Origin or Referer (see auth.go). Every response carries a
// Content-Security-Policy of default-src 'self', X-Frame-Options DENY and
// nosniff; the page and the API are no-store.
//
// The App (handler.go) turns Requests into Responses without any network,
// for tests; the Server (server.go) runs it on the raw TCP API:
// event-driven, MaxConns connections served at once with a request buffer
// each, MaxQueued more waiting unread (their data refused, lwIP-style),
// the rest reset; requests parsed strictly and bounded (431, 413, 414,
// 411, 501, 505), stalled clients timed out from the connections' Poll
// callbacks (408, idle close, reset of a stalled reader), HTTP/1.1
// keep-alive and pipelining, a lingering close.
//
// # Not implemented
//
// TLS (facts/apps.md §7: an HTTPS admin page needs the TLS work first), a
// login form and logout (Basic only), rate limiting of failed logins,
// chunked request bodies (501), Range requests, IPv6.
package admin
