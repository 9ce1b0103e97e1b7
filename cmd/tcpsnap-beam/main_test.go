package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/tcpsnap/tcpsnap/analyze"
)

func TestMain(m *testing.M) {
	beam.Init()
	os.Exit(m.Run())
}

// The pipeline on Beam's Prism runner writes the same files, byte for
// byte, as tcpsnap fleet --out on the same inputs: every shipped sample
// as a host, a folder of bundles, a missing path and a broken bundle.
func TestPipelineMatchesFleet(t *testing.T) {
	dir := t.TempDir()
	var args []string
	samples, _ := filepath.Glob("../../samples/*")
	for _, s := range samples {
		if st, err := os.Stat(s); err == nil && st.IsDir() && filepath.Base(s) != "repro" && filepath.Base(s) != "tickets" {
			abs, _ := filepath.Abs(s)
			args = append(args, abs)
		}
	}
	if len(args) < 10 {
		t.Fatalf("only %d sample hosts", len(args))
	}
	broken := filepath.Join(dir, "broken.tar.gz")
	if err := os.WriteFile(broken, []byte("\x1f\x8b\x08\x00 cut short"), 0o644); err != nil {
		t.Fatal(err)
	}
	args = append(args, broken, filepath.Join(dir, "no-such-bundle.tgz"))
	list := filepath.Join(dir, "inputs.txt")
	var b bytes.Buffer
	for _, a := range args {
		b.WriteString(a + "\n")
	}
	if err := os.WriteFile(list, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	beamOut := filepath.Join(dir, "beam")
	if err := run(context.Background(), list, beamOut, "", "", io.Discard); err != nil {
		t.Fatal(err)
	}

	// The same with tcpsnap fleet's own code.
	rs, err := analyze.LoadRules("")
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := analyze.ExpandFleet(args, nil)
	if err != nil {
		t.Fatal(err)
	}
	spill, err := analyze.NewFleetSpill(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer spill.Close()
	fl, err := analyze.RunFleet(context.Background(), jobs, analyze.FleetOptions{Rules: rs, Spill: spill})
	if err != nil {
		t.Fatal(err)
	}
	fleetOut := filepath.Join(dir, "fleet")
	if err := analyze.WriteFleetDir(fleetOut, fl, analyze.SummarizeFleet(fl), spill); err != nil {
		t.Fatal(err)
	}
	if fl.Failed() != 2 {
		t.Errorf("%d hosts failed, want the broken and the missing bundle", fl.Failed())
	}
	for _, name := range []string{"summary.json", "hosts.ndjson", "hosts.parquet", "findings.parquet"} {
		want, err := os.ReadFile(filepath.Join(fleetOut, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(beamOut, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s from the pipeline differs from tcpsnap fleet's (%d bytes against %d)", name, len(got), len(want))
		}
	}
}
