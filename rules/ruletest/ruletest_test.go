package ruletest

import "testing"

func TestParseTxtar(t *testing.T) {
	c, fs := ParseTxtar([]byte("want: quiet\nnote\n-- a.txt --\nx\ny\n-- b/c --\n-- d --\nz"))
	if c != "want: quiet\nnote\n" {
		t.Errorf("comment %q", c)
	}
	if len(fs) != 3 || fs[0].Name != "a.txt" || string(fs[0].Data) != "x\ny\n" || fs[1].Name != "b/c" || len(fs[1].Data) != 0 || string(fs[2].Data) != "z" {
		t.Errorf("files %+v", fs)
	}
}

func TestParseExpect(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		want Expect
	}{
		{"want: quiet", true, Expect{}},
		{"from a capture\nwant: fires warning\nwant-title: CLOSE_WAIT", true, Expect{true, "warning", "CLOSE_WAIT"}},
		{"want: fires loud", false, Expect{}},
		{"nothing", false, Expect{}},
		{"want: quiet\nwant: quiet", false, Expect{}},
		{"want: quiet\nwant-title: x", false, Expect{}},
	} {
		got, err := ParseExpect(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("%q: got %+v, %v", tc.in, got, err)
		}
	}
}
