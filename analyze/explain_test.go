package analyze

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/engine"
	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/rules"
)

func TestExplain(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n")
	b.WriteString("LISTEN 0 128 127.0.0.1:9090 0.0.0.0:* users:((\"srv\",pid=10,fd=3))\n")
	for i := 0; i < 25; i++ {
		b.WriteString("CLOSE-WAIT 1 0 127.0.0.1:9090 127.0.0.1:" + model.Itoa(40000+i) + " users:((\"srv\",pid=10,fd=" + model.Itoa(5+i) + "))\n")
	}
	for i := 0; i < 30; i++ { // 30 one-socket client processes: quiet, mostly hidden
		b.WriteString("ESTAB 0 0 127.0.0.1:" + model.Itoa(50000+i) + " 10.0.0.1:443 users:((\"c" + model.Itoa(i) + "\",pid=" + model.Itoa(100+i) + ",fd=3))\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "ss.txt"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	snap, err := Load([]string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	specs, err := rules.Load(rules.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	rs, err := engine.Compile(specs)
	if err != nil {
		t.Fatal(err)
	}
	var r *engine.Rule
	for _, x := range rs {
		if x.Spec.ID == "close-wait-leak" {
			r = x
		}
	}
	ex := engine.Explain(snap, r)
	if ex.Total != 31 || ex.Fired != 1 || len(ex.Groups) != engine.ExplainGroups {
		t.Fatalf("total %d fired %d shown %d", ex.Total, ex.Fired, len(ex.Groups))
	}
	g := ex.Groups[0]
	if g.Severity != "warning" || !strings.Contains(g.Title, "25 CLOSE_WAIT") || len(g.Levels) != 2 || g.Levels[1].Value != true {
		t.Errorf("first group: %+v", g)
	}
	if ex.Groups[1].Severity != "" || !strings.Contains(ex.Groups[1].Why, "quiet") {
		t.Errorf("second group: %+v", ex.Groups[1])
	}
}
