package samples_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze"
)

// fleetSummary runs tcpsnap fleet's analysis over args.
func fleetSummary(t *testing.T, args ...string) *analyze.FleetSummary {
	t.Helper()
	rs := compileRules(t)
	jobs, err := analyze.ExpandFleet(args, nil)
	if err != nil {
		t.Fatal(err)
	}
	fl, err := analyze.RunFleet(context.Background(), jobs, analyze.FleetOptions{Rules: rs})
	if err != nil {
		t.Fatal(err)
	}
	return analyze.SummarizeFleet(fl)
}

// checkBothEnds wants the leaking server on srv-1 matched with its
// client on app-1.
func checkBothEnds(t *testing.T, s *analyze.FleetSummary, min int) {
	t.Helper()
	if len(s.Correlations) != 1 {
		t.Fatalf("%d correlations, want 1: %+v", len(s.Correlations), s.Correlations)
	}
	c := s.Correlations[0]
	if c.Server.Host != "srv-1" || c.Server.States["CLOSE_WAIT"] < min {
		t.Errorf("server end %+v: want srv-1 with at least %d CLOSE_WAIT", c.Server, min)
	}
	if c.Clients.Hosts != 1 || c.Clients.States["FIN_WAIT2"] < min {
		t.Errorf("client ends %+v: want one host (app-1) with at least %d FIN_WAIT2", c.Clients, min)
	}
}

// TestFleetTwoHosts: the shipped two-host capture, through fleet.
func TestFleetTwoHosts(t *testing.T) {
	s := fleetSummary(t, "fleet-two-hosts")
	if s.Hosts != 2 || s.Failed != 0 {
		t.Fatalf("%d hosts, %d failed; want 2 and 0", s.Hosts, s.Failed)
	}
	checkBothEnds(t, s, 300)
	var text, js bytes.Buffer
	if err := analyze.WriteFleetText(&text, s); err != nil {
		t.Fatal(err)
	}
	if err := analyze.WriteFleetJSON(&js, s); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "fleet-two-hosts.summary.txt", text.Bytes())
	checkGolden(t, "fleet-two-hosts.summary.json", js.Bytes())
}

// TestFleetTwoHostsLive re-creates the two hosts (as root) with
// repro/two-hosts.sh, captures each with tcpsnap collect, and checks
// that fleet matches the ends again.
func TestFleetTwoHostsLive(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces)")
	}
	for _, tool := range []string{"ip", "ss", "unshare"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip("needs " + tool)
		}
	}
	out := t.TempDir()
	cmd := exec.Command("bash", filepath.Join("repro", "two-hosts.sh"), out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("two-hosts.sh: %v\n%s", err, msg)
	}
	checkBothEnds(t, fleetSummary(t, out), 250)
}
