package linearizable

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/spaceauthz/spaceauthz/internal/model"
)

// Outcomes counts what the operations of histories answered, by kind and
// code, so that a test can show that its workload reaches every answer it
// means to check: successes and no-ops, denials, 404s.
type Outcomes map[string]int

// Add counts the operations of h.
func (o Outcomes) Add(h *History) {
	for _, op := range h.Operations {
		in, out := op.Input.(Input), op.Output.(Output)
		code := string(out.Code)
		switch {
		case out.Unexpected != "":
			code = "unexpected"
		case out.Code == model.OK:
			code = "ok"
		}
		o[in.Kind.String()+"."+code]++
	}
}

// String lists the counts in name order.
func (o Outcomes) String() string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(o)) {
		fmt.Fprintf(&b, " %s=%d", k, o[k])
	}
	return strings.TrimSpace(b.String())
}
