package group

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/model"
)

// TestCopyCounts holds mergeCounts into a new group (how an unknown
// owner's process group takes its port group's counts) to Group's
// fields: every field is either a count add may change, which it copies,
// or one that names or describes the group, which it leaves alone. A field added to Group
// must be put in one list or the other.
func TestCopyCounts(t *testing.T) {
	names := nameFields()
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
	dst.mergeCounts(src)
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
			t.Errorf("%s: %v after mergeCounts into a new group, want %v", f.Name, got, want)
		}
	}
}

// TestSharedOwner names what holds a destination no one process holds
// more than half of, names included or not.
func TestSharedOwner(t *testing.T) {
	type own struct {
		name string
		pid  int
		n    int
	}
	cases := []struct {
		owners []own
		want   string
	}{
		{[]own{{"nginx", 11, 5}, {"nginx", 12, 5}, {"nginx", 13, 5}}, "nginx (3 processes)"},
		{[]own{{"a", 1, 5}, {"b", 2, 5}, {"c", 3, 4}, {"d", 4, 4}, {"e", 5, 1}}, "a group of 5 processes (a, b, c, 2 more programs)"},
		{[]own{{"", 4410, 5}, {"", 1204, 5}, {"", 3308, 5}, {"", 9000, 5}}, "a group of 4 processes (pids 1204, 3308, 4410, 1 more)"},
		{[]own{{"nginx", 11, 6}, {"nginx", 12, 5}}, ""}, // a majority: that process
		{[]own{{"nginx", 11, 5}}, ""}, // one process
		{[]own{{"nginx", 11, 5}, {"", 0, 500}, {"nginx", 12, 5}}, "nginx (2 processes)"}, // TIME_WAIT has no owner
	}
	// One process whose sockets are partly listed, partly inferred: its
	// two halves are one process, and it holds most.
	cases = append(cases, struct {
		owners []own
		want   string
	}{[]own{{"nginx", 11, 3}, {"nginx", -11, 3}, {"nginx", 12, 4}}, "nginx (pid 11)"})
	// Many owners first, for the scratch reused below to hold leftovers.
	var many []own
	for pid := 1; pid <= 40; pid++ {
		many = append(many, own{fmt.Sprintf("w%d", pid%3), 100 + pid, 1 + pid%5})
	}
	cases = append([]struct {
		owners []own
		want   string
	}{{many, "a group of 40 processes (w0, w1, w2)"}}, cases...)
	group := func(owners []own) *Group {
		g := newGroup("destination", "x")
		for _, o := range owners {
			id := model.Owner{PID: o.pid, Name: model.Intern(o.name)}
			if o.pid < 0 { // inferred
				id.PID, id.Inferred = -o.pid, true
			}
			g.owners.Add(id, o.n, o.n, maxTracked)
		}
		return g
	}
	var scratch ownerScratch // shared by the groups in turn, as aggregateServices does
	for _, tc := range cases {
		g := group(tc.owners)
		g.pickOwner()
		want := tc.want
		if want == "" {
			want = OwnerName(g.Process, g.PID) // the largest holder
		}
		if g.Owner != want {
			t.Errorf("%v: owner %q, want %q", tc.owners, g.Owner, want)
		}
		reused := group(tc.owners)
		reused.pickOwnerWith(&scratch)
		if reused.Owner != g.Owner || reused.Process != g.Process || reused.PID != g.PID || reused.OwnerInferred != g.OwnerInferred {
			t.Errorf("%v: with a reused scratch %q (%s, %d, %v), alone %q (%s, %d, %v)", tc.owners,
				reused.Owner, reused.Process, reused.PID, reused.OwnerInferred, g.Owner, g.Process, g.PID, g.OwnerInferred)
		}
	}
}

// TestLocalPeerFromListener: a destination whose address only a
// listener shows (the sockets accepted from it are on exactly its
// address) is one of the host's own, as is one a connected socket shows.
func TestLocalPeerFromListener(t *testing.T) {
	sock := func(st model.State, local, remote string) model.Socket {
		s := model.NewSocket()
		s.State, s.Local, s.Remote = st, model.MustParseAddrPort(local), model.MustParseAddrPort(remote)
		return s
	}
	smp := &model.Sample{Sockets: []model.Socket{
		sock(model.Listen, "10.0.0.5:8080", "0.0.0.0:0"),
		sock(model.Established, "10.0.0.5:8080", "10.0.0.7:40000"),  // accepted: exactly the listener's address
		sock(model.Established, "10.0.0.7:40000", "10.0.0.5:8080"),  // this host's client of it
		sock(model.Established, "10.0.0.7:40001", "192.0.2.1:443"),  // a remote service
		sock(model.Established, "10.0.0.9:40002", "10.0.0.7:5432"),  // to an address a connected socket shows
		sock(model.Established, "10.0.0.7:5432", "192.0.2.2:50000"), // (a client of 10.0.0.7:5432 elsewhere)
	}}
	gs := Aggregate(smp, nil, nil, 32768, 60999)
	want := map[string]bool{"10.0.0.5:8080": true, "192.0.2.1:443": false, "10.0.0.7:5432": true}
	for _, g := range gs.Destinations {
		w, ok := want[g.Remote]
		if !ok {
			continue
		}
		delete(want, g.Remote)
		if g.LocalPeer != w {
			t.Errorf("destination %s: LocalPeer %v, want %v", g.Remote, g.LocalPeer, w)
		}
	}
	if len(want) > 0 {
		t.Errorf("no destination groups for %v", want)
	}
}

// Past maxOwners a group's owner tally drops owners and says so: the
// shared owner and the owner lists read "+".
func TestOwnerTallyFull(t *testing.T) {
	g := newGroup("destination", "x")
	for pid := 1; pid <= maxOwners+500; pid++ {
		g.owners.Add(model.Owner{PID: pid, Name: model.Intern(fmt.Sprintf("w%d", pid%4))}, 1, 1, maxOwners)
	}
	g.src = &tallySource{} // lets the owner lists be kept
	g.pickOwner()
	if want := "a group of " + model.Thousands(maxOwners) + "+ processes (w0, w1, w2, 1+ more programs)"; g.Owner != want {
		t.Errorf("owner %q, want %q", g.Owner, want)
	}
	for _, list := range []string{g.Owners(), g.LiveOwners()} {
		if want := fmt.Sprintf(", %d+ more", maxOwners-3); !strings.HasSuffix(list, want) {
			t.Errorf("owner list %q, want it to end in %q", list, want)
		}
	}
	// At the bound nothing was dropped.
	g = newGroup("destination", "x")
	for pid := 1; pid <= maxOwners; pid++ {
		g.owners.Add(model.Owner{PID: pid, Name: model.Intern("w")}, 1, 1, maxOwners)
	}
	g.pickOwner()
	if want := "w (" + model.Thousands(maxOwners) + " processes)"; g.Owner != want {
		t.Errorf("owner %q, want %q", g.Owner, want)
	}
}

// nameFields lists the fields of Group that name or describe a group
// rather than count its sockets (TestCopyCounts, TestMergeCounts).
func nameFields() map[string]bool {
	names := map[string]bool{}
	for _, f := range []string{"Kind", "Key", "Owner", "Process", "PID", "OwnerKnown", "OwnerInferred",
		"LocalAddr", "LocalPort", "RemoteAddr", "RemotePort", "Remote", "Loopback", "LocalPeer", "RemoteOwner",
		"Listening", "PortsUsed", "RemoteHosts", "TopRemotes", "UpstreamRate", "FDs", "FDLimit",
		"LocalPortsUsed", "MaxDestPortsUsed", "CountsOnly", "FromEvidence", "Claimed", "Messages", "Basis",
		"src", "tallyOnce", "t", "num", "owners", "tallied", "rolled", "listed", "manyPrograms", "later"} {
		names[f] = true
	}
	return names
}

// TestMergeCounts holds mergeCounts to add: random sockets of every
// state and fact, counted into one group and split over two merged,
// give the same counts. Every count field must change in some round
// (a field added to Group and to add, but not to mergeCounts, fails).
func TestMergeCounts(t *testing.T) {
	names := nameFields()
	r := rand.New(rand.NewPCG(5, 6))
	states := []model.State{model.Established, model.SynSent, model.SynRecv, model.FinWait1, model.FinWait2, model.TimeWait,
		model.Close, model.CloseWait, model.LastAck, model.Listen, model.Closing, model.Bound}
	changed := map[string]bool{}
	for round := 0; round < 200; round++ {
		whole, a, b := newGroup("destination", "x"), newGroup("destination", "x"), newGroup("destination", "x")
		fresh := reflect.ValueOf(newGroup("destination", "x")).Elem()
		for range r.IntN(40) {
			s := model.Socket{State: states[r.IntN(len(states))], RecvQ: []int32{0, 0, 1, 2, 700, 40000}[r.IntN(6)], SendQ: int32(r.IntN(3) * r.IntN(5000)),
				Retransmits: int16(r.IntN(3) * r.IntN(6)), TimerMS: -1}
			if r.IntN(2) == 0 {
				s.PID = 100 + r.IntN(3)
			}
			if r.IntN(3) == 0 {
				s.Timer = model.TimerTimeWait
				s.TimerMS = int32(r.IntN(60_000))
			}
			s.BacklogKnown = s.State == model.Listen && r.IntN(2) == 0
			x := sockFacts{persistent: r.IntN(3) == 0, recvStuck: r.IntN(4) == 0, sendStuck: r.IntN(4) == 0,
				idleNoKA: r.IntN(4) == 0, external: r.IntN(3) == 0, noPeer: r.IntN(4) == 0, lastRcv: int32(r.IntN(3)*r.IntN(900_000) - 1)}
			server := r.IntN(2) == 0
			whole.add(&s, server, &x)
			if r.IntN(2) == 0 {
				a.add(&s, server, &x)
			} else {
				b.add(&s, server, &x)
			}
		}
		a.mergeCounts(b)
		wv, av := reflect.ValueOf(whole).Elem(), reflect.ValueOf(a).Elem()
		for i := 0; i < wv.NumField(); i++ {
			f := wv.Type().Field(i)
			if names[f.Name] {
				continue
			}
			if !f.IsExported() {
				t.Fatalf("%s: an unexported field neither in the list of names nor compared: a count? merge it and compare it here", f.Name)
			}
			want, got := wv.Field(i).Interface(), av.Field(i).Interface()
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d: %s is %v merged, %v counted whole", round, f.Name, got, want)
			}
			if !reflect.DeepEqual(want, fresh.Field(i).Interface()) {
				changed[f.Name] = true
			}
		}
	}
	for i := 0; i < reflect.TypeFor[Group]().NumField(); i++ {
		if f := reflect.TypeFor[Group]().Field(i); f.IsExported() && !names[f.Name] && !changed[f.Name] {
			t.Errorf("%s never changed: make the random sockets count into it", f.Name)
		}
	}
}

// TestOwnerName: the display name of an owner, and no allocation for an
// unknown one (a /proc listing's million listeners each ask for it).
func TestOwnerName(t *testing.T) {
	for _, c := range []struct {
		proc string
		pid  int
		want string
	}{{"java", 8166, "java (pid 8166)"}, {"java", 0, "java"}, {"", 42, "pid 42"}, {"", 0, "an unknown process"}, {"", -1, "an unknown process"}} {
		if got := OwnerName(c.proc, c.pid); got != c.want {
			t.Errorf("OwnerName(%q, %d) = %q, want %q", c.proc, c.pid, got, c.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = OwnerName("", 0) }); n != 0 {
		t.Errorf("OwnerName of an unknown owner allocates %v times", n)
	}
}
