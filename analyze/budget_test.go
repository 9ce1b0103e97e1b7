package analyze

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/input"
)

// endlessRows is an ss listing that never ends, as `yes ROW` behind a
// header would be: only a budget can stop it.
type endlessRows struct{ off int }

const endlessHeader = "State Recv-Q Send-Q Local Address:Port Peer Address:Port\n"
const endlessRow = "ESTAB 0 0 10.0.0.1:8443 10.0.0.2:40000\n"

func (e *endlessRows) Read(p []byte) (int, error) {
	for i := range p {
		if e.off < len(endlessHeader) {
			p[i] = endlessHeader[e.off]
		} else {
			p[i] = endlessRow[(e.off-len(endlessHeader))%len(endlessRow)]
		}
		e.off++
	}
	return len(p), nil
}

// TestLineBudget: a stream with no end and no size fails with a limit
// error naming it, within the budget; the budget counts every input of
// one analysis together.
func TestLineBudget(t *testing.T) {
	lim := input.DefaultLimits
	lim.MaxLines = 200_000
	_, err := Load([]string{"-"}, Options{Stdin: &endlessRows{}, Limits: lim})
	if !errors.Is(err, input.ErrLimit) || !strings.Contains(err.Error(), "<stdin>") || !strings.Contains(err.Error(), "200000 lines") {
		t.Fatalf("endless stdin: %v", err)
	}

	dir := t.TempDir()
	var body bytes.Buffer
	body.WriteString("State Recv-Q Send-Q Local Address:Port Peer Address:Port\n")
	for i := 0; i < 60_000; i++ {
		body.WriteString("ESTAB 0 0 10.0.0.1:8443 10.0.0.2:40000\n")
	}
	var args []string
	for _, n := range []string{"a.txt", "b.txt", "c.txt", "d.txt"} {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, body.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	if _, err := Load(args[:3], Options{Limits: lim}); err != nil {
		t.Fatalf("three files within the budget: %v", err)
	}
	if _, err := Load(args, Options{Limits: lim}); !errors.Is(err, input.ErrLimit) {
		t.Fatalf("four files over the budget: %v", err)
	}
}

// TestBinaryRefusedEarly: zeros are refused from their first bytes, not
// after reading up to the decoding limit.
func TestBinaryRefusedEarly(t *testing.T) {
	r := io.LimitReader(zeros{}, 1<<40) // a terabyte of zeros: must not be read
	_, err := Load([]string{"-"}, Options{Stdin: r})
	if err == nil || !strings.Contains(err.Error(), "binary") {
		t.Fatalf("zeros: %v", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
