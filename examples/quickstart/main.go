// Command quickstart shows spaceauthz at work: it seeds an in-memory store
// with the built-in demo fixture, then performs a series of adds, one
// allowed and one denied for each rule of SPEC section 3, and prints what
// happened to each.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
	"github.com/spaceauthz/spaceauthz/memstore"
	"github.com/spaceauthz/spaceauthz/policy"
)

// The demo fixture's IDs (see membership/fixture/demo.json).
const (
	ada, grace, linus, barbara = "VXNlcjox", "VXNlcjoy", "VXNlcjoz", "VXNlcjo0"
	alan, ann, ken             = "VXNlcjo1", "VXNlcjo2", "VXNlcjo3"
	llmEvals, redTeam          = "U3BhY2U6MQ==", "U3BhY2U6Mg=="
	reviewer                   = "Um9sZToy"
)

// step is one add: who asks, in which space, with which JSON body.
type step struct {
	what  string
	actor membership.ID
	space string
	body  string
}

var steps = []step{
	{"Linus, a space admin, makes Ann (an annotator) an annotator", linus, llmEvals, `{"user_id":"` + ann + `","role":{"type":"predefined","name":"annotator"}}`},
	{"Ada, the account admin, makes Barbara read-only (an upsert: same id)", ada, llmEvals, `{"user_id":"` + barbara + `","role":{"type":"PREDEFINED","name":"READ_ONLY"}}`},
	{"Alan, who may create role bindings, gives Grace the custom Reviewer role", alan, llmEvals, `{"user_id":"` + grace + `","role":{"type":"custom","id":"` + reviewer + `"}}`},
	{"1. nobody is signed in", "", llmEvals, `{"user_id":"` + ann + `","role":{"type":"predefined","name":"member"}}`},
	{"2. the user id is not an ID", ada, llmEvals, `{"user_id":"user-7","role":{"type":"predefined","name":"member"}}`},
	{"3. type and name mix spellings", ada, llmEvals, `{"user_id":"` + grace + `","role":{"type":"PREDEFINED","name":"member"}}`},
	{"4. Barbara cannot see the private red-team space", barbara, redTeam, `{"user_id":"` + grace + `","role":{"type":"predefined","name":"member"}}`},
	{"5. Barbara is no space admin", barbara, llmEvals, `{"user_id":"` + grace + `","role":{"type":"predefined","name":"member"}}`},
	{"6. no such user", ada, llmEvals, `{"user_id":"VXNlcjo5OQ==","role":{"type":"predefined","name":"member"}}`},
	{"7. no such custom role", ada, llmEvals, `{"user_id":"` + grace + `","role":{"type":"custom","id":"Um9sZTo5OQ=="}}`},
	{"8. Ken is not in the space's organization", ada, llmEvals, `{"user_id":"` + ken + `","role":{"type":"predefined","name":"member"}}`},
	{"9. Ann, an annotator, can only be an annotator", ada, llmEvals, `{"user_id":"` + ann + `","role":{"type":"predefined","name":"member"}}`},
	{"10. only annotators can be annotators", ada, llmEvals, `{"user_id":"` + grace + `","role":{"type":"predefined","name":"annotator"}}`},
}

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer) error {
	store := memstore.New()
	if err := fixture.Seed(ctx, store, fixture.Demo()); err != nil {
		return err
	}
	engine, err := policy.New()
	if err != nil {
		return err
	}
	svc, err := membership.NewService(store, engine)
	if err != nil {
		return err
	}
	for _, s := range steps {
		fmt.Fprintf(w, "%s\n    %s\n", s.what, outcome(ctx, svc, s))
	}
	return nil
}

// outcome performs one step and describes the answer as a transport would
// send it: the status, then the membership or the error.
func outcome(ctx context.Context, svc *membership.Service, s step) string {
	req, err := membership.ParseAddUserRequest(s.actor, s.space, []byte(s.body))
	if err == nil {
		var m membership.Membership
		if m, err = svc.AddUserToSpace(ctx, req); err == nil {
			body, _ := json.Marshal(m)
			return "200 " + string(body)
		}
	}
	var e *membership.Error
	if !errors.As(err, &e) {
		return "500 " + err.Error()
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Detail)
}
