package rules_test

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze"
	"github.com/tcpsnap/tcpsnap/rules"
)

// The report contract: these rule ids must exist.
var contract = []string{
	"close-wait-leak", "time-wait-churn", "server-time-wait", "ephemeral-port-exhaustion",
	"accept-queue-overflow", "rpc-lookup-churn", "receive-queue-backlog", "send-queue-backlog",
	"fin-wait-2-accumulation", "syn-sent-stall", "syn-recv-flood", "last-ack-accumulation",
}

func TestBuiltinRulesCompile(t *testing.T) {
	specs, err := rules.Load(rules.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := analyze.Compile(specs); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, s := range specs {
		ids[s.ID] = true
	}
	for _, id := range contract {
		if !ids[id] {
			t.Errorf("contract rule %s is missing", id)
		}
	}
	names, _ := fs.Glob(rules.Builtin(), "*")
	for _, n := range names {
		if !strings.HasSuffix(n, ".yaml") {
			t.Errorf("stray file %s among the built-in rules", n)
		}
	}
}
