package admin

import (
	"bytes"
	"html/template"
	"strconv"
)

// pageData is what the page template shows.
type pageData struct {
	Version  string
	Status   Status
	Errors   FieldErrors
	V        map[string]string // form values
	Token    string
	Notice   string
	File     string
	UptimeHM string
}

// page renders the status and settings page. vals, when not nil, refill
// the form (after a rejected submission); errs are its problems.
func (a *App) page(status int, sid string, errs FieldErrors, vals map[string]string, notice string) *Response {
	d := pageData{Version: a.cfg.Version, Status: a.Status(), Errors: errs, V: vals, Token: a.g.token(sid),
		Notice: notice, File: a.cfg.ConfigFile}
	d.UptimeHM = duration(d.Status.Uptime)
	if d.V == nil {
		d.V = formValues(a.settings)
	}
	if len(errs) > 0 {
		d.Notice = "Nothing was changed: correct the fields marked below."
	}
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, d); err != nil {
		return &Response{Status: 500, Body: []byte("template: " + err.Error())}
	}
	resp := &Response{Status: status, Body: b.Bytes()}
	resp.add("Content-Type", "text/html; charset=utf-8")
	resp.add("Cache-Control", "no-store")
	return resp
}

// formValues are the settings as the form's fields.
func formValues(s Settings) map[string]string {
	v := map[string]string{"hostname": s.Hostname, "mode": "static"}
	if s.Network.DHCP {
		v["mode"] = "dhcp"
	}
	if s.Network.Address.IsValid() {
		v["address"] = s.Network.Address.String()
	}
	if s.Network.Gateway.IsValid() {
		v["gateway"] = s.Network.Gateway.String()
	}
	for i, d := range s.Network.DNS {
		v["dns"+strconv.Itoa(i+1)] = d.String()
	}
	check := func(k string, on bool) {
		if on {
			v[k] = "on"
		}
	}
	t := s.Apps.TFTPD
	check("tftpd_enabled", t.Enabled)
	check("tftpd_writable", t.Writable)
	v["tftpd_root"] = t.Root
	v["tftpd_port"] = strconv.Itoa(int(t.Port))
	check("httpd_enabled", s.Apps.HTTPD.Enabled)
	v["httpd_port"] = strconv.Itoa(int(s.Apps.HTTPD.Port))
	check("iperf_enabled", s.Apps.IPerf.Enabled)
	v["iperf_port"] = strconv.Itoa(int(s.Apps.IPerf.Port))
	return v
}

func duration(secs float64) string {
	s := int64(secs)
	d, h, m := s/86400, s%86400/3600, s%3600/60
	out := strconv.FormatInt(h, 10) + " h " + strconv.FormatInt(m, 10) + " min " + strconv.FormatInt(s%60, 10) + " s"
	if d > 0 {
		out = strconv.FormatInt(d, 10) + " d " + out
	}
	return out
}

var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"err":     func(fe FieldErrors, k string) string { return fe[k] },
	"checked": func(v map[string]string, k string) bool { return v[k] != "" },
	"is":      func(v map[string]string, k, want string) bool { return v[k] == want },
}).Parse(pageHTML))

// The page: plain HTML forms, no scripts, one same-origin stylesheet, so
// that the Content-Security-Policy "default-src 'self'" holds.
const pageHTML = `<!doctype html>
<html lang=en>
<meta charset=utf-8>
<meta name=viewport content="width=device-width, initial-scale=1">
<title>{{.Status.Hostname}} · lwgo visor</title>
<link rel=stylesheet href=/style.css>
<header><h1>{{.Status.Hostname}}</h1><p>lwgo visor{{with .Version}} {{.}}{{end}} · up {{.UptimeHM}}</p></header>
{{with .Notice}}<p class=notice>{{.}}</p>{{end}}
{{with .Status.LastApply}}<p class=error>Applying the last change failed: {{.}}</p>{{end}}

<section>
<h2>Status</h2>
<table>
<tr><th>Interface<th>MAC<th>MTU<th>Address<th>Gateway<th>Link<th>Frames in / out<th>Bytes in / out<th>Drops in / out
{{range .Status.Interfaces}}<tr><td>{{.Name}}<td>{{.MAC}}<td>{{.MTU}}<td>{{if .Address.IsValid}}{{.Address}}{{else}}none{{end}}<td>{{if .Gateway.IsValid}}{{.Gateway}}{{else}}none{{end}}<td>{{if .LinkUp}}up{{else}}down{{end}}<td>{{.Counters.RxFrames}} / {{.Counters.TxFrames}}<td>{{.Counters.RxBytes}} / {{.Counters.TxBytes}}<td>{{.Counters.RxDrops}} / {{.Counters.TxDrops}}
{{end}}</table>
{{with .Status.DHCP}}<p>DHCP: {{.State}}{{if .Address.IsValid}}, lease of {{.Address}} from {{.Server}} for {{.LeaseSecs}} s, {{.LeftSecs}} s left (renewal in {{.RenewSecs}} s){{end}}</p>{{else}}<p>DHCP: off (static address)</p>{{end}}
<p>DNS servers: {{range .Status.DNS}}{{.}} {{else}}none{{end}}</p>
<p>Packet buffers: {{.Status.Pool.Free}} of {{.Status.Pool.Cap}} free.
 IP: {{.Status.Stack.IP.Recv}} in, {{.Status.Stack.IP.Xmit}} out, {{.Status.Stack.IP.Drop}} dropped.
 TCP: {{.Status.TCP.Recv}} segments in, {{.Status.TCP.Xmit}} out, {{.Status.TCP.Retransmits}} retransmitted, {{.Status.TCP.Established}} connections established.
 This server: {{.Status.Server.Requests}} requests, {{.Status.Server.Active}} connections served now, {{.Status.Server.Queued}} waiting.</p>
<table>
<tr><th>Service<th>State<th>Port<th>Detail
{{range .Status.Services}}<tr><td>{{.Name}}<td>{{if .Running}}running{{else if .Enabled}}enabled, not running{{else}}off{{end}}<td>{{if .Port}}{{.Port}}{{end}}<td>{{.Detail}}
{{end}}</table>
<h3>TCP connections</h3>
<table>
<tr><th>Service<th>Local<th>Remote<th>State<th>SRTT ms<th>RTO ms<th>cwnd<th>In flight<th>Queued<th>Retransmits
{{range .Status.Connections}}<tr><td>{{.Service}}<td>{{.Local}}<td>{{.Remote}}<td>{{.State}}<td>{{printf "%.1f" .SRTTms}}<td>{{printf "%.0f" .RTOms}}<td>{{.Cwnd}}<td>{{.InFlight}}<td>{{.Queued}}<td>{{.Retransmits}}
{{end}}</table>
<p><a href=/api/status>Status as JSON</a> · <a href=/api/config>Settings as JSON</a> · <a href=/files/>Files</a></p>
</section>

<section>
<h2>Settings</h2>
<form method=post action=/config>
<input type=hidden name=csrf value="{{.Token}}">
<fieldset><legend>Host</legend>
<label>Host name <input name=hostname value="{{index .V "hostname"}}" required maxlength=253></label>
{{with err .Errors "hostname"}}<span class=error>{{.}}</span>{{end}}
</fieldset>
<fieldset><legend>Network</legend>
<label><input type=radio name=mode value=dhcp {{if is .V "mode" "dhcp"}}checked{{end}}> DHCP</label>
<label><input type=radio name=mode value=static {{if is .V "mode" "static"}}checked{{end}}> Static</label><br>
<label>Address/prefix <input name=address value="{{index .V "address"}}" placeholder=198.18.0.2/24></label>
{{with err .Errors "network.address"}}<span class=error>{{.}}</span>{{end}}<br>
<label>Gateway <input name=gateway value="{{index .V "gateway"}}" placeholder="none"></label>
{{with err .Errors "network.gateway"}}<span class=error>{{.}}</span>{{end}}<br>
<label>DNS <input name=dns1 value="{{index .V "dns1"}}"></label>
<label>DNS <input name=dns2 value="{{index .V "dns2"}}"></label>
{{with err .Errors "network.dns"}}<span class=error>{{.}}</span>{{end}}
<p class=hint>With DHCP, empty DNS fields take the lease's servers. A new address takes effect after this page's answer has been sent: the browser follows to it.</p>
</fieldset>
<fieldset><legend>Services</legend>
<label><input type=checkbox name=tftpd_enabled {{if checked .V "tftpd_enabled"}}checked{{end}}> TFTP server</label>
<label>root <input name=tftpd_root value="{{index .V "tftpd_root"}}" placeholder=/srv/tftp></label>
<label>UDP port <input name=tftpd_port value="{{index .V "tftpd_port"}}" size=5></label>
<label><input type=checkbox name=tftpd_writable {{if checked .V "tftpd_writable"}}checked{{end}}> accept uploads</label>
{{with err .Errors "apps.tftpd.enabled"}}<span class=error>{{.}}</span>{{end}}{{with err .Errors "apps.tftpd.root"}}<span class=error>{{.}}</span>{{end}}{{with err .Errors "apps.tftpd.port"}}<span class=error>{{.}}</span>{{end}}<br>
<label><input type=checkbox name=httpd_enabled {{if checked .V "httpd_enabled"}}checked{{end}}> hello-world web server</label>
<label>TCP port <input name=httpd_port value="{{index .V "httpd_port"}}" size=5></label>
{{with err .Errors "apps.httpd.enabled"}}<span class=error>{{.}}</span>{{end}}{{with err .Errors "apps.httpd.port"}}<span class=error>{{.}}</span>{{end}}<br>
<label><input type=checkbox name=iperf_enabled {{if checked .V "iperf_enabled"}}checked{{end}}> iperf 2 server</label>
<label>TCP port <input name=iperf_port value="{{index .V "iperf_port"}}" size=5></label>
{{with err .Errors "apps.iperf.enabled"}}<span class=error>{{.}}</span>{{end}}{{with err .Errors "apps.iperf.port"}}<span class=error>{{.}}</span>{{end}}
</fieldset>
<fieldset><legend>Administrator password</legend>
<label>New <input type=password name=password autocomplete=new-password></label>
<label>Again <input type=password name=password2 autocomplete=new-password></label>
{{with err .Errors "password"}}<span class=error>{{.}}</span>{{end}}
<p class=hint>Leave empty to keep the current one.</p>
</fieldset>
<p><button type=submit>Apply</button>
{{if .File}}Changes are saved to {{.File}}.{{else}}Changes last until the appliance stops (no configuration file).{{end}}</p>
</form>
</section>
`

const styleCSS = `body{font:15px/1.4 system-ui,sans-serif;max-width:70em;margin:1em auto;padding:0 1em;color:#222}
header{border-bottom:2px solid #246;margin-bottom:1em}header h1{margin:0;color:#246}header p{margin:.2em 0 .5em;color:#666}
table{border-collapse:collapse;margin:.5em 0;font-size:13px}th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left}
th{background:#eef2f7}fieldset{border:1px solid #ccc;margin:.8em 0;padding:.5em 1em}legend{font-weight:bold;color:#246}
label{display:inline-block;margin:.2em 1em .2em 0}input[name=address],input[name=tftpd_root]{width:14em}
.error{color:#b00;font-weight:bold}.notice{background:#ffe;border:1px solid #cc8;padding:.5em}.hint{color:#666;font-size:13px}
button{font-size:15px;padding:.3em 1.5em}
`
