package ticket

import (
	"testing"
)

// TestWatchAndLoopsAreSeries: one connection watched over time (watch(1)
// screens, or a shell loop pasted as one block) is a time series of
// samples, not the same sockets counted several times.
func TestWatchAndLoopsAreSeries(t *testing.T) {
	tests := []struct {
		name, text string
		series     []int
		command    string
		timed      bool
	}{
		{"loop in one block", "loop", []int{0, 1, 2}, "while true; do ss -tn 'dport = :5432'; sleep 2; done", false},
		{"watch screens", "watch", []int{0, 1}, "ss -tn state close-wait", true},
	}
	texts := map[string]string{
		"loop": "The Recv-Q of this one connection keeps growing:\n\n$ while true; do ss -tn 'dport = :5432'; sleep 2; done\n" +
			"State Recv-Q Send-Q Local Address:Port  Peer Address:Port\nESTAB 1000   0      10.0.0.5:40000      10.0.0.7:5432\nESTAB 0      0      10.0.0.5:40002      10.0.0.7:5432\n" +
			"State Recv-Q Send-Q Local Address:Port  Peer Address:Port\nESTAB 50000  0      10.0.0.5:40000      10.0.0.7:5432\nESTAB 0      0      10.0.0.5:40002      10.0.0.7:5432\n" +
			"State Recv-Q Send-Q Local Address:Port  Peer Address:Port\nESTAB 150000 0      10.0.0.5:40000      10.0.0.7:5432\nESTAB 0      0      10.0.0.5:40002      10.0.0.7:5432\n",
		"watch": "Every 2.0s: ss -tn state close-wait                  web01: Fri Dec  4 14:35:07 2026\n\n" +
			"Recv-Q Send-Q Local Address:Port  Peer Address:Port\n1      0      10.0.0.5:8443       10.0.0.9:51000\n1      0      10.0.0.5:8443       10.0.0.9:51002\n\n" +
			"Every 2.0s: ss -tn state close-wait                  web01: Fri Dec  4 14:35:09 2026\n\n" +
			"Recv-Q Send-Q Local Address:Port  Peer Address:Port\n1      0      10.0.0.5:8443       10.0.0.9:51000\n1      0      10.0.0.5:8443       10.0.0.9:51002\n1      0      10.0.0.5:8443       10.0.0.9:51004\n",
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			segs := ExtractSegments([]byte(texts[tt.text]))
			if len(segs) != len(tt.series) {
				t.Fatalf("%d segments, want %d: %+v", len(segs), len(tt.series), segs)
			}
			for i, sg := range segs {
				if sg.Series != tt.series[i] || sg.Command != tt.command || sg.Format == nil || sg.Format.Name != "ss" {
					t.Errorf("segment %d: series %d command %q format %v", i, sg.Series, sg.Command, sg.Format)
				}
				if tt.timed && sg.Time.IsZero() {
					t.Errorf("segment %d: no time from the watch header", i)
				}
			}
		})
	}

}
