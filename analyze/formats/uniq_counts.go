package formats

import (
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// UniqCountsFormat reads the summaries people paste instead of listings:
// `uniq -c` counts of states or of owners.
//
//	netstat -nat | awk '{print $6}' | sort | uniq -c          "   3856 CLOSE_WAIT"
//	ss -tan | awk '{print $1}' | sort | uniq -c               "    412 ESTAB"
//	netstat -apn | grep CLOSE_WAIT | awk '{print $7}' | sort | uniq -c
//	                                                          "   3856 8166/java"
//
// They carry no addresses, so they do not become sockets: the counts go to
// Listing.StateCounts and Listing.OwnerCounts and the report says the
// diagnosis came from counts alone. Owner counts do not say their state;
// the command (grep CLOSE_WAIT, state close-wait) does, when the loader
// knows it (see stateOfCommand); until then they are keyed by "".
var UniqCountsFormat = &parse.Format{
	Name:        "uniq-counts",
	Description: "uniq -c counts of states or pid/program (netstat -nat | awk '{print $6}' | sort | uniq -c)",
	Example:     `   3856 CLOSE_WAIT`,
	Detect:      detectUniqCounts,
	Parse:       parseUniqCounts,
}

var uniqLineRE = regexp.MustCompile(`^\s*(\d{1,10})\s+(\S+)\s*$`)

// uniqJunk are the words awk's column pick makes of netstat's and ss's
// header lines ("Active Internet connections (servers and established)",
// "Proto Recv-Q Send-Q Local Address Foreign Address State").
var uniqJunk = map[string]bool{
	"established)": true, "Foreign": true, "State": true, "Address": true, "servers": true,
	"PID/Program": true, "Recv-Q": true, "Send-Q": true, "Local": true, "Netid": true,
	"connections": true, "(only": true, "Proto": true, "name": true, "Peer": true,
}

// uniqKey classifies the counted word: a state, an owner, junk, or nothing.
func uniqKey(w string) (state, owner string, junk bool) {
	if st, ok := model.CanonicalState(w); ok {
		return st.String(), "", false
	}
	if w == "-" {
		return "", "-", false
	}
	if pid, prog, ok := strings.Cut(w, "/"); ok && pid != "" && prog != "" {
		if _, err := strconv.Atoi(pid); err == nil {
			return "", w, false
		}
	}
	return "", "", uniqJunk[w]
}

func detectUniqCounts(head []string) int {
	rows, keyed := 0, 0
	for _, l := range head {
		m := uniqLineRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		rows++
		if st, owner, _ := uniqKey(m[2]); st != "" || owner != "" {
			keyed++
		}
	}
	if keyed == 0 || rows*10 < len(head)*8 {
		return 0
	}
	if keyed >= 2 && keyed*10 >= rows*6 {
		return 80
	}
	return 40
}

func parseUniqCounts(r io.Reader, out *model.Listing) error {
	sc := parse.NewLineScanner(r)
	any := false
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		m := uniqLineRE.FindStringSubmatch(line)
		if m == nil {
			out.Problemf(sc.Line(), "uniq-counts: expected a count and a word")
			continue
		}
		n, err := strconv.Atoi(m[1])
		if err != nil {
			out.Problemf(sc.Line(), "uniq-counts: bad count")
			continue
		}
		st, owner, junk := uniqKey(m[2])
		switch {
		case st != "":
			out.AddStateCount(st, n)
			any = true
		case owner != "":
			out.AddOwnerCount("", owner, n)
			any = true
		case junk:
			// a header word counted by awk: meaningless
		default:
			out.Problemf(sc.Line(), "uniq-counts: "+strconv.Quote(m[2])+" is neither a TCP state nor pid/program")
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if !any {
		return errNotUniq
	}
	return nil
}

type notUniq struct{}

func (notUniq) Error() string { return "no state or owner counts" }

var errNotUniq error = notUniq{}

var (
	grepStateRE = regexp.MustCompile(`(?i)\bgrep\s+(?:-\w+\s+)*['"]?([A-Z][A-Z_0-9-]+)['"]?`)
	ssStateRE   = regexp.MustCompile(`(?i)\bstate\s+([a-z][a-z0-9-]+)`)
)

// StateOfCommand returns the one TCP state a command line filters on
// ("grep CLOSE_WAIT", "ss -tanp state close-wait"), or "".
func StateOfCommand(cmd string) string {
	for _, re := range []*regexp.Regexp{grepStateRE, ssStateRE} {
		if m := re.FindStringSubmatch(cmd); m != nil {
			if st, ok := model.CanonicalState(m[1]); ok {
				return st.String()
			}
		}
	}
	return ""
}
