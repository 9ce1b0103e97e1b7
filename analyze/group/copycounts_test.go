package group

import (
	"reflect"
	"testing"
)

// TestCopyCounts holds copyCounts to Group's fields: every field is
// either a count add may change, which it copies, or one that names or
// describes the group, which it leaves alone. A field added to Group
// must be put in one list or the other.
func TestCopyCounts(t *testing.T) {
	names := map[string]bool{}
	for _, f := range []string{"Kind", "Key", "Owner", "Process", "PID", "OwnerKnown", "OwnerInferred",
		"LocalAddr", "LocalPort", "RemoteAddr", "RemotePort", "Remote", "Loopback", "LocalPeer", "RemoteOwner",
		"Listening", "PortsUsed", "RemoteHosts", "TopRemotes", "UpstreamRate", "FDs", "FDLimit",
		"LocalPortsUsed", "MaxDestPortsUsed", "CountsOnly", "FromEvidence", "Claimed", "Messages", "Basis",
		"src", "tallyOnce", "t", "num", "owners", "tallied"} {
		names[f] = true
	}
	src := &Group{}
	sv := reflect.ValueOf(src).Elem()
	typ := sv.Type()
	counts := 0
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if names[f.Name] {
			continue
		}
		counts++
		v := sv.Field(i)
		switch v.Kind() {
		case reflect.Int, reflect.Int64:
			v.SetInt(int64(1000 + i))
		case reflect.Float64:
			v.SetFloat(float64(1000+i) + 0.5)
		case reflect.Bool:
			v.SetBool(true)
		default:
			t.Fatalf("field %s (%s) is neither a count nor in the list of names", f.Name, f.Type)
		}
	}
	if counts < 45 {
		t.Fatalf("only %d count fields: the list of names is too long", counts)
	}
	dst := newGroup("process", "an unknown process on :80")
	dst.Owner, dst.LocalPort, dst.num = "an unknown process on :80", 80, 7
	dv := reflect.ValueOf(dst).Elem()
	before := make([]any, typ.NumField())
	for i := range before {
		if typ.Field(i).IsExported() { // unexported names are not compared (sync.Once, tallies)
			before[i] = dv.Field(i).Interface()
		}
	}
	dst.copyCounts(src)
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		want := sv.Field(i).Interface()
		if names[f.Name] {
			want = before[i]
		}
		if got := dv.Field(i).Interface(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v after copyCounts, want %v", f.Name, got, want)
		}
	}
}
