package model

import (
	"testing"
	"unsafe"
)

// A million sockets are read in every pass over a sample: their size is
// the memory traffic of each pass (issue 12). Keep it at 96 bytes.
func TestSocketSize(t *testing.T) {
	if n := unsafe.Sizeof(Socket{}); n != 96 {
		t.Errorf("a Socket is %d bytes, want 96", n)
	}
}

func TestNarrowing(t *testing.T) {
	var s Socket
	for _, tt := range []struct {
		secs float64
		ms   int32
		back float64
	}{{59.67, 59670, 59.67}, {0.123, 123, 0.123}, {-1, -1, -1}, {7200, 7200000, 7200}, {1e12, 1<<31 - 1, 2147483.647}} {
		s.SetTimerSecs(tt.secs)
		if s.TimerMS != tt.ms || s.TimerSecs() != tt.back {
			t.Errorf("SetTimerSecs(%g): %d ms, %g s; want %d, %g", tt.secs, s.TimerMS, s.TimerSecs(), tt.ms, tt.back)
		}
	}
	if ClampQueue(1<<40) != 1<<31-1 || ClampQueue(-5) != -5 || ClampQueue(4096) != 4096 {
		t.Error("ClampQueue")
	}
	if NarrowUID(4294967294) != -1 || NarrowUID(1000) != 1000 || NarrowUID(-1) != -1 {
		t.Error("NarrowUID")
	}
	if NarrowInode(1<<33) != 0 || NarrowInode(123456) != 123456 {
		t.Error("NarrowInode")
	}
	if NarrowRetransmits(40000) != 1<<15-1 || NarrowRetransmits(3) != 3 || NarrowRetransmits(-5) != -1 {
		t.Error("NarrowRetransmits")
	}
}
