package policy

import (
	"fmt"
	"strings"
	"testing"

	"github.com/spaceauthz/spaceauthz/internal/golden"
)

// TestFieldsTableInDocs: the table of the input document in the docs is
// the one the schema describes, so that the two cannot drift.
func TestFieldsTableInDocs(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("| member of input | type | holds |\n|---|---|---|\n")
	for _, f := range Fields() {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", f.Path, f.Type, f.Doc)
	}
	golden.CheckSection(t, "../docs/contract.md", "<!-- input-fields:begin -->", "<!-- input-fields:end -->", []byte(b.String()))
}
