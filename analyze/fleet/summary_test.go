package fleet

import (
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/engine"
)

// TestSharedCountsFolded: a finding's folded subjects are shared across
// hosts as its own are: two hosts whose envoy churns to the same two
// services, each finding led by another one, share both.
func TestSharedCountsFolded(t *testing.T) {
	dest := func(remote string) engine.Subject {
		return engine.Subject{Kind: "destination", Process: "envoy", PID: 100, Remote: remote}
	}
	host := func(name, lead, folded string) *Host {
		return &Host{Host: name, Path: name, States: map[string]int{}, Findings: []Finding{{
			Rule: "time-wait-churn", Severity: engine.Warning, Title: "t", Subject: dest(lead),
			Also: []engine.Subject{dest(folded)}, AlsoCount: 1, Evidence: "{}"}}}
	}
	f := &Fleet{Hosts: []*Host{host("a", "192.0.2.1:5432", "192.0.2.2:6379"), host("b", "192.0.2.2:6379", "192.0.2.1:5432")}}
	rs := Summarize(f).Rules["time-wait-churn"]
	if rs == nil {
		t.Fatal("no summary for time-wait-churn")
	}
	got := map[string]int{}
	for _, c := range rs.Shared.Destinations {
		got[c.Value] = c.Hosts
	}
	if got["192.0.2.1:5432"] != 2 || got["192.0.2.2:6379"] != 2 {
		t.Errorf("shared destinations %+v, want both on 2 hosts", rs.Shared.Destinations)
	}
	if len(rs.Shared.Programs) != 1 || rs.Shared.Programs[0].Hosts != 2 {
		t.Errorf("shared programs %+v, want envoy on 2 hosts", rs.Shared.Programs)
	}
}
