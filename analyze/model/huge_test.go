package model

import "testing"

// AdviseHugePages is advice: any slice, empty or large, stays usable.
func TestAdviseHugePages(t *testing.T) {
	AdviseHugePages([]Socket(nil))
	AdviseHugePages(make([]Socket, 0, 10))
	big := make([]Socket, 0, 100_000) // 12.8 MB
	AdviseHugePages(big)
	big = big[:cap(big)]
	for i := range big {
		big[i].PID = i
	}
	if big[99_999].PID != 99_999 {
		t.Fatal("the slice lost its contents")
	}
}
