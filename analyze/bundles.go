package analyze

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Other tools' bundles. tcpsnap reads the files of a sosreport, a SUSE
// supportconfig, a pt-stalk collection or an OSWatcher archive through the
// ordinary pipeline: sosreport names its command outputs after the command
// (sos_commands/networking/ss_-peaonmi, netstat_-W_-neopa, ...), which
// detection or the formats' Paths recognize; supportconfig's
// "#==[ Command ]===" blocks, pt-stalk's "TS <epoch>" and OSWatcher's
// "zzz ***<date>" separators are split by extract.go. This file
// recognizes the layouts (Host.Collector) and what the pipeline must not
// read as the host's own sockets (other network namespaces).

// ptStalkRE matches pt-stalk's file prefix: 2024_01_15_10_30_01-netstat.
var ptStalkRE = regexp.MustCompile(`(^|/)\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d-[a-z_-]+$`)

// collectorOfPath names the tool whose bundle layout a member path shows,
// or "".
func collectorOfPath(rel string) string {
	switch {
	case rel == "":
		return ""
	case strings.HasPrefix(rel, "sos_commands/") || strings.Contains(rel, "/sos_commands/") ||
		strings.HasPrefix(rel, "sos_strings/") || strings.Contains(rel, "/sos_strings/") ||
		strings.Contains(rel, "sos_reports/manifest.json"):
		return "sosreport"
	case strings.Contains(rel, "archive/oswnetstat/") || strings.HasPrefix(rel, "oswnetstat/"):
		return "oswatcher"
	case ptStalkRE.MatchString(rel):
		return "pt-stalk"
	case strings.HasSuffix(rel, "/supportconfig.txt") || rel == "supportconfig.txt" || strings.HasPrefix(rel, "scc_") && strings.HasSuffix(rel, "/network.txt"):
		return "supportconfig"
	}
	return ""
}

// sosNamespace returns the namespace of a sosreport per-namespace path
// (sos_commands/networking/namespaces/<ns>/...).
func sosNamespace(rel string) (string, bool) {
	const marker = "sos_commands/networking/namespaces/"
	i := strings.Index(rel, marker)
	if i < 0 || (i > 0 && rel[i-1] != '/') {
		return "", false
	}
	ns, _, ok := strings.Cut(rel[i+len(marker):], "/")
	return ns, ok && ns != ""
}

// finishCollector sets Host.Collector for foreign bundles, drops the
// bundle's unrelated files from the sources (a sosreport has thousands)
// and notes what was not analyzed.
func (ld *loader) finishCollector() {
	s := ld.snap
	if ld.collector == "" || ld.manifest != nil {
		return
	}
	if s.Host.Collector == "" {
		s.Host.Collector = ld.collector
	}
	if ld.collector == "sosreport" || ld.collector == "supportconfig" || ld.collector == "pt-stalk" || ld.collector == "oswatcher" {
		kept := s.Sources[:0]
		dropped := 0
		for _, src := range s.Sources {
			if src.Format == "" {
				dropped++
				continue
			}
			kept = append(kept, src)
		}
		s.Sources = kept
		if dropped > 0 {
			s.Notes = append(s.Notes, fmt.Sprintf("%s bundle: %d files hold nothing tcpsnap reads and are not listed", ld.collector, dropped))
		}
	}
	if len(ld.namespaces) > 0 {
		var names []string
		for n := range ld.namespaces {
			names = append(names, n)
		}
		sort.Strings(names)
		shown := names
		if len(shown) > 10 {
			shown = shown[:10]
		}
		more := ""
		if len(names) > len(shown) {
			more = fmt.Sprintf(" and %d more", len(names)-len(shown))
		}
		s.Notes = append(s.Notes, fmt.Sprintf("sosreport: only the root network namespace was analyzed; %d other namespaces were collected (%s%s): each is a host of its own, analyze its folder sos_commands/networking/namespaces/<ns>/ separately",
			len(names), strings.Join(shown, ", "), more))
	}
}
