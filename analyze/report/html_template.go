package report

import "html/template"

// htmlCSS colours the states with a palette readable by colour-blind
// readers (Okabe–Ito and Tol); the charts' tables and tooltips give the
// same numbers in words. Print drops the backgrounds, opens <details>
// and keeps the severity as text.
const htmlCSS = `
:root{color-scheme:light}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1b1f24;background:#f5f6f8}
main{max-width:920px;margin:0 auto;padding:12px 14px 32px}
h1{font-size:1.35rem;line-height:1.25;margin:.4rem 0 .3rem;overflow-wrap:anywhere}
h2{font-size:1.15rem;margin:1.8rem 0 .5rem;padding-bottom:.2rem;border-bottom:2px solid #d5d9df}
h3{font-size:1rem;margin:1rem 0 .3rem}
p,li,td,th,summary,h3{overflow-wrap:anywhere}
.about{margin:0 0 .4rem;color:#3b434d}
nav{font-size:.9rem;margin:.2rem 0 0}
nav a{color:#1f5fad;margin-right:.8rem;white-space:nowrap}
.sev{display:inline-block;font-weight:700;font-size:.78rem;letter-spacing:.05em;line-height:1.3;padding:1px 6px;border:2px solid currentColor;border-radius:4px;background:#fff;vertical-align:.1em}
.critical .sev,.sev.critical{color:#a5001c}
.warning .sev,.sev.warning{color:#9a4a00}
.info .sev,.sev.info{color:#1f5fad}
.card{background:#fff;border:1px solid #d5d9df;border-left:7px solid #1f5fad;border-radius:6px;padding:10px 14px 12px;margin:12px 0}
.card.critical{border-left-color:#c8102e}
.card.warning{border-left-color:#e08a00}
.card h3{font-size:1.05rem;line-height:1.35;margin:.35rem 0 .3rem}
.meta{font-size:.85rem;color:#4a535e;margin:0 0 .4rem}
.card p{margin:.45rem 0}
.card ul{margin:.2rem 0;padding-left:1.3rem}
.label{font-weight:700}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.3rem 0}
th,td{text-align:left;vertical-align:top;padding:3px 8px 3px 0;border-bottom:1px solid #e3e6ea}
th{font-weight:600;color:#3b434d}
.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
table.ev{max-width:28rem;line-height:1.3}
table.ev td{padding:2px 8px 2px 0}
code{font:.88em/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;overflow-wrap:anywhere}
details{margin:.4rem 0}
summary{cursor:pointer;font-weight:600;color:#2d343c}
.left-out,.none{font-style:italic;color:#3b434d}
figure{margin:.4rem 0 .8rem}
figcaption{font-size:.85rem;color:#4a535e}
svg.chart{display:block;width:100%;max-width:500px;height:auto;overflow:hidden}
svg.chart text{font:13px "DejaVu Sans",system-ui,sans-serif;fill:#1b1f24}
svg.chart text.small{font-size:11px}
svg.chart text.total{font-weight:700}
svg.chart line{stroke:#c9ced5;stroke-width:1}
svg[id^="chart-top"] rect{stroke:#fff;stroke-width:.6}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:.15rem 1rem;padding:0;margin:.3rem 0;font-size:.85rem}
.legend svg{width:.8rem;height:.8rem;vertical-align:-.08rem;margin-right:.3rem}
.s-ESTABLISHED{fill:#009e73}.s-SYN_SENT{fill:#56b4e9}.s-SYN_RECV{fill:#0072b2}.s-FIN_WAIT1{fill:#cc79a7}
.s-FIN_WAIT2{fill:#e69f00}.s-TIME_WAIT{fill:#8c8c8c}.s-CLOSE{fill:#4d4d4d}.s-CLOSE_WAIT{fill:#d55e00}
.s-LAST_ACK{fill:#882255}.s-LISTEN{fill:#332288}.s-CLOSING{fill:#aa4499}.s-BOUND{fill:#44aa99}
.s-IDLE{fill:#bbbbbb}.s-UNKNOWN{fill:#ddcc77}
footer{margin-top:2rem;font-size:.8rem;color:#5a636e}
@media (max-width:480px){main{padding:8px 10px 24px}h1{font-size:1.2rem}.card{padding:8px 10px 10px}}
@media print{
body{background:none;font-size:10.5pt;color:#000}
main{max-width:none;padding:0}
nav{display:none}
.card{border-color:#888;break-inside:avoid-page}
.sev{background:none}
summary{list-style:none;font-weight:700}
details::details-content{content-visibility:visible;display:block}
svg.chart rect{print-color-adjust:exact;-webkit-print-color-adjust:exact}
}
`

var htmlTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="generator" content="tcpsnap">
<title>{{.Title}}</title>
<style>` + htmlCSS + `</style>
</head>
<body>
<main>
<header>
<h1>{{.H1}}</h1>
<p class="about">{{range $i, $a := .About}}{{if $i}} · {{end}}{{$a}}{{end}}{{range .Counts}} · <span class="sev {{.Severity}}">{{.N}} {{.Severity}}</span>{{end}}{{if .NoFindings}} · no findings{{end}}</p>
<nav><a href="#findings">Findings</a>{{if .Gaps}}<a href="#could-not-check">Could not check</a>{{end}}<a href="#states">States</a>{{if .Timeline}}<a href="#samples">Samples</a>{{end}}{{if .Tops}}<a href="#largest">Largest</a>{{end}}<a href="#sources">Sources</a>{{if .Notes}}<a href="#notes">Notes</a>{{end}}{{if .Problems}}<a href="#problems">Problems</a>{{end}}</nav>
</header>

<section id="findings">
<h2>Findings</h2>
{{- if .NoFindings}}
<p class="none">{{.NoFindings}}</p>
{{- end}}
{{- range .Findings}}
<article class="card {{.Severity}}">
<span class="sev">{{.Label}}</span>
<h3>{{.Title}}</h3>
<p class="meta">rule <code>{{.Rule}}</code>{{if .CountsOnly}} · from counts, no socket listing: run <code>ss -tanp</code> for ports, queues and peers{{end}}</p>
{{- if .Evidence}}
<table class="ev"><thead><tr><th>evidence</th><th class="num">value</th></tr></thead><tbody>
{{- range .Evidence}}
<tr><td>{{.Name}}</td><td class="num">{{.Value}}</td></tr>
{{- end}}
</tbody></table>
{{- end}}
{{- if .Why}}
<p><span class="label">Why.</span> {{.Why}}</p>
{{- end}}
{{- if .Fix}}
<p><span class="label">Fix.</span> {{.Fix}}</p>
{{- end}}
{{- if .Ignore}}
<p class="label">Ignore:</p>
<ul>
{{- range .Ignore}}
<li>{{.}}</li>
{{- end}}
</ul>
{{- end}}
{{- if .Basis}}
<details><summary>Where the numbers came from</summary>
<ul>
{{- range .Basis}}
<li>{{.}}</li>
{{- end}}
</ul>
</details>
{{- end}}
{{- if .AlsoCount}}
<details><summary>The same in {{.AlsoCount}} more</summary>
<ul>
{{- range .Also}}
<li>{{.}}</li>
{{- end}}
{{- if .AlsoMore}}
<li>and {{.AlsoMore}} more (tcpsnap analyze -f json counts them)</li>
{{- end}}
</ul>
</details>
{{- end}}
</article>
{{- end}}
{{- if .LeftOut}}
<p class="left-out">{{.LeftOut}}</p>
{{- end}}
</section>
{{- if .Gaps}}

<section id="could-not-check">
<h2>Could not check</h2>
<ul>
{{- range .Gaps}}
<li><span class="label">{{.What}}</span>: {{.Why}}; run <code>{{.Command}}</code></li>
{{- end}}
</ul>
</section>
{{- end}}

<section id="states">
<h2>States</h2>
{{- if .NoSockets}}
<p class="none">No TCP sockets.</p>
{{- else}}
<figure>
{{template "chart" .States}}
<figcaption>Sockets by state in the latest sample.</figcaption>
</figure>
<details><summary>As a table</summary>
<table><thead><tr><th>state</th><th class="num">sockets</th></tr></thead><tbody>
{{- range .StateRows}}
<tr><td>{{.Name}}</td><td class="num">{{.Value}}</td></tr>
{{- end}}
</tbody></table>
</details>
{{- end}}
</section>
{{- if .Timeline}}

<section id="samples">
<h2>Samples</h2>
<figure>
{{template "chart" .Timeline}}
{{template "legend" .TimeLegend}}
<figcaption>Sockets by state in each sample, oldest first.</figcaption>
</figure>
<details><summary>As a table</summary>
<table><thead><tr><th>sample</th>{{range .TimeStates}}<th class="num">{{.}}</th>{{end}}</tr></thead><tbody>
{{- range .TimeRows}}
<tr><td>{{.Sample}}</td>{{range .Counts}}<td class="num">{{.}}</td>{{end}}</tr>
{{- end}}
</tbody></table>
</details>
</section>
{{- end}}
{{- if .Tops}}

<section id="largest">
<h2>Largest holders of sockets</h2>
{{- range .Tops}}
<section id="{{.ID}}">
<h3>{{.Title}}</h3>
<figure>
{{template "chart" .Chart}}
{{template "legend" .Legend}}
</figure>
<details><summary>As a table</summary>
<table><thead><tr><th>{{.What}}</th><th class="num">sockets</th><th>by state</th></tr></thead><tbody>
{{- range .Rows}}
<tr><td>{{.Name}}</td><td class="num">{{.Sockets}}</td><td>{{.States}}</td></tr>
{{- end}}
</tbody></table>
</details>
</section>
{{- end}}
</section>
{{- end}}

<section id="sources">
<h2>Sources</h2>
{{- if .Sources}}
<details><summary>{{.SourcesTotal}} input{{if ne .SourcesTotal 1}}s{{end}}{{if .SourcesIn}} in <code>{{.SourcesIn}}</code>{{end}}</summary>
<ul>
{{- range .Sources}}
<li><code>{{.Path}}</code> ({{.Desc}})</li>
{{- end}}
{{- if .SourcesMore}}
<li class="left-out">and {{.SourcesMore}} more</li>
{{- end}}
</ul>
</details>
{{- else}}
<p class="none">No input was read.</p>
{{- end}}
</section>
{{- if .Notes}}

<section id="notes">
<h2>Notes</h2>
<ul>
{{- range .Notes}}
<li>{{.}}</li>
{{- end}}
{{- if .NotesMore}}
<li class="left-out">and {{.NotesMore}} more notes (tcpsnap analyze -f json lists them)</li>
{{- end}}
</ul>
</section>
{{- end}}
{{- if .Problems}}

<section id="problems">
<h2>Problems</h2>
<p>Parts of the input that could not be used:</p>
<ul>
{{- range .Problems}}
<li>{{.}}</li>
{{- end}}
{{- if .ProblemsMore}}
<li class="left-out">and {{.ProblemsMore}} more problems (tcpsnap analyze -f json lists them)</li>
{{- end}}
</ul>
</section>
{{- end}}

<footer>Written by tcpsnap analyze -f html from the report {{.Schema}}; -f json gives the same report for tools.</footer>
</main>
</body>
</html>
{{define "chart"}}<svg class="chart" id="{{.ID}}" data-bars="{{.Bars}}" viewBox="0 0 {{.W}} {{.H}}" role="img" aria-label="{{.Label}}">
<title>{{.Label}}</title>
{{- range .Lines}}
<line x1="{{.X1}}" y1="{{.Y1}}" x2="{{.X2}}" y2="{{.Y2}}"/>
{{- end}}
{{- range .Rects}}
<rect data-bar class="{{.Class}}" x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}"><title>{{.Title}}</title></rect>
{{- end}}
{{- range .Texts}}
<text x="{{.X}}" y="{{.Y}}" text-anchor="{{.Anchor}}"{{if .Class}} class="{{.Class}}"{{end}}>{{.Text}}</text>
{{- end}}
</svg>{{end}}
{{define "legend"}}<ul class="legend">
{{- range .}}
<li><svg viewBox="0 0 10 10" aria-hidden="true"><rect class="{{.Class}}" width="10" height="10"/></svg>{{.Name}}</li>
{{- end}}
</ul>{{end}}`))
