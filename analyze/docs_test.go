package analyze

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/engine"
	"github.com/tcpsnap/tcpsnap/analyze/group"
)

// TestRulesDocCoversEnv keeps docs/rules.md in sync with the rule
// environment: every exported field and method of Group and Facts must be
// mentioned there as `Name` or `Name(`.
func TestRulesDocCoversEnv(t *testing.T) {
	data, err := os.ReadFile("../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	mentioned := func(name string) bool {
		return strings.Contains(doc, "`"+name+"`") || strings.Contains(doc, "`"+name+"(") || strings.Contains(doc, ", `"+name+"`")
	}
	for _, typ := range []reflect.Type{reflect.TypeOf(group.Group{}), reflect.TypeOf(engine.Facts{})} {
		for i := 0; i < typ.NumField(); i++ {
			if f := typ.Field(i); f.IsExported() && !mentioned(f.Name) {
				t.Errorf("docs/rules.md does not document %s.%s", typ.Name(), f.Name)
			}
		}
		pt := reflect.PointerTo(typ)
		for i := 0; i < pt.NumMethod(); i++ {
			if m := pt.Method(i); !mentioned(m.Name) {
				t.Errorf("docs/rules.md does not document %s.%s()", typ.Name(), m.Name)
			}
		}
	}
}
