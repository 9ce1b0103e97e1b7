package parse

import "testing"

type addrPanic struct{}

func (addrPanic) Error() string { return "fault" }
func (addrPanic) RuntimeError() {}
func (addrPanic) Addr() uintptr { return 0x7f0000000000 }

func TestGoGuarded(t *testing.T) {
	if f := GoGuarded(func() {}); f != nil {
		t.Errorf("no fault: got %v", f)
	}
	if f := GoGuarded(func() { panic(addrPanic{}) }); f == nil {
		t.Error("a fault was not returned")
	}
	defer func() {
		if r := recover(); r != "a bug" {
			t.Errorf("recovered %v, want the bug's panic to go on", r)
		}
	}()
	GoGuarded(func() { panic("a bug") })
}
