package fleet

import (
	"fmt"
	"html/template"
	"io"
	"strings"
)

// WriteHTML writes the fleet summary as one self-contained page: no
// script and nothing loaded (a Content-Security-Policy says so to the
// browser), the rules as bars of affected hosts split by severity, each
// rule's top hosts and what they share, the connections whose both ends
// are in the fleet, and the hosts that failed. html/template escapes every
// string from the inputs.
func WriteHTML(w io.Writer, s *Summary) error {
	type bar struct {
		Rule                            string
		Hosts, Critical, Warning, Info  int
		CritW, WarnW, InfoW, Y          float64
		Top                             []TopHost
		Programs, Ports, Dests, Kernels string
		Settings                        string
	}
	most := 1
	for _, r := range s.Rules {
		most = max(most, r.Hosts)
	}
	var bars []bar
	for i, id := range s.RuleOrder {
		r := s.Rules[id]
		scale := 600 / float64(most)
		bars = append(bars, bar{Rule: id, Hosts: r.Hosts, Critical: r.Critical, Warning: r.Warning, Info: r.Info,
			CritW: float64(r.Critical) * scale, WarnW: float64(r.Warning) * scale, InfoW: float64(r.Info) * scale,
			Y: float64(i) * 24, Top: r.Top,
			Programs: counts(r.Shared.Programs), Ports: counts(r.Shared.Ports), Dests: counts(r.Shared.Destinations), Kernels: counts(r.Shared.Kernels), Settings: counts(r.Shared.Settings)})
	}
	return fleetPage.Execute(w, map[string]any{"S": s, "Bars": bars, "ChartH": len(bars)*24 + 4})
}

// counts renders "java (12), nginx (3)", at most five.
func counts(cs []Count) string {
	var parts []string
	for i, c := range cs {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("%d more", len(cs)-5))
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%d)", c.Value, c.Hosts))
	}
	return strings.Join(parts, ", ")
}

var fleetPage = template.Must(template.New("fleet").Funcs(template.FuncMap{
	"add": func(a, b float64) float64 { return a + b },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>tcpsnap fleet: {{.S.Hosts}} hosts</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#1b1b1b}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%}td,th{padding:.25rem .5rem;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}
td.n{text-align:right}.crit{color:#a40000}.warn{color:#8a5300}.info{color:#0a5a8a}
svg{width:100%;height:auto}.sev{font-weight:700}
@media print{h2{break-after:avoid}}
</style></head><body>
<h1>tcpsnap fleet</h1>
<p>{{.S.Hosts}} hosts, {{.S.Failed}} failed · {{len .Bars}} {{if eq (len .Bars) 1}}rule{{else}}rules{{end}} fired · {{len .S.Correlations}} {{if eq (len .S.Correlations) 1}}service{{else}}services{{end}} with both ends in the fleet</p>
{{if .Bars}}<h2 id="rules">Hosts per rule</h2>
<svg viewBox="0 0 900 {{.ChartH}}" role="img" aria-label="hosts per rule, by severity" data-bars="{{len .Bars}}">
{{range .Bars}}<text x="0" y="{{add .Y 16}}" font-size="13">{{.Rule}}</text>
<rect data-bar x="290" y="{{add .Y 4}}" width="{{.CritW}}" height="16" fill="#a40000"><title>{{.Critical}} critical</title></rect>
<rect data-bar x="{{add 290 .CritW}}" y="{{add .Y 4}}" width="{{.WarnW}}" height="16" fill="#d08a00"><title>{{.Warning}} warning</title></rect>
<rect data-bar x="{{add (add 290 .CritW) .WarnW}}" y="{{add .Y 4}}" width="{{.InfoW}}" height="16" fill="#3b8ec2"><title>{{.Info}} info</title></rect>
{{end}}</svg>
<table><tr><th>rule</th><th>hosts</th><th class="crit">critical</th><th class="warn">warning</th><th class="info">info</th></tr>
{{range .Bars}}<tr><td><a href="#r-{{.Rule}}">{{.Rule}}</a></td><td class="n">{{.Hosts}}</td><td class="n">{{.Critical}}</td><td class="n">{{.Warning}}</td><td class="n">{{.Info}}</td></tr>
{{end}}</table>
{{range .Bars}}<h2 id="r-{{.Rule}}">{{.Rule}}: {{.Hosts}} hosts</h2>
<table>{{range .Top}}<tr><td class="sev {{if eq .Severity "critical"}}crit{{else if eq .Severity "warning"}}warn{{else}}info{{end}}">{{.Severity}}</td><td>{{.Host}}</td><td>{{.Title}}</td></tr>
{{end}}</table>
{{if .Programs}}<p>programs: {{.Programs}}</p>{{end}}{{if .Ports}}<p>local ports: {{.Ports}}</p>{{end}}{{if .Dests}}<p>destinations: {{.Dests}}</p>{{end}}{{if .Kernels}}<p>kernels: {{.Kernels}}</p>{{end}}{{if .Settings}}<p>settings: {{.Settings}}</p>{{end}}
{{end}}{{else}}<p>No rule fired on any host.</p>{{end}}
{{if .S.Correlations}}<h2 id="ends">Both ends in this fleet</h2>
<ul>{{range .S.Correlations}}<li>{{.Text}}</li>{{end}}</ul>{{end}}
{{if .S.FailedHosts}}<h2 id="failed">Failed ({{len .S.FailedHosts}})</h2>
<table>{{range .S.FailedHosts}}<tr><td>{{.Path}}</td><td>{{.Error}}</td></tr>{{end}}</table>{{end}}
</body></html>
`))
