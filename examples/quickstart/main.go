// Command quickstart shows spaceauthz at work without HTTP: it seeds an
// in-memory store with the built-in demo fixture, then adds users to a
// space, removes one and lists the space's members, then adds a user to an
// organization and removes one with their space memberships, with one
// denied request for each check of each operation, in check order, and
// prints what happened to each as a transport would answer it.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
	"github.com/spaceauthz/spaceauthz/memstore"
	"github.com/spaceauthz/spaceauthz/policy"
)

// The demo fixture's IDs (see membership/fixture/demo.json).
const (
	ada, grace, linus, barbara = "VXNlcjox", "VXNlcjoy", "VXNlcjoz", "VXNlcjo0"
	alan, ann, ken, eve        = "VXNlcjo1", "VXNlcjo2", "VXNlcjo3", "VXNlcjo4"
	nobody                     = "VXNlcjo5OQ==" // User:99, who does not exist
	llmEvals, redTeam          = "U3BhY2U6MQ==", "U3BhY2U6Mg=="
	research                   = "T3JnOjE="
	reviewer                   = "Um9sZToy"
)

// step is one request: who asks, which operation, in which space or
// organization, and what the operation takes.
type step struct {
	what  string
	actor membership.ID
	op    membership.Operation
	space string // the space, or for an organization operation the organization
	body  string // the JSON body of an add
	user  string // the user a remove removes
	query string // the query string of a list, which walks every page
}

// add, remove and list build the steps of each operation.
func add(what string, actor membership.ID, space, body string) step {
	return step{what: what, actor: actor, op: membership.OperationAdd, space: space, body: body}
}

func remove(what string, actor membership.ID, space, user string) step {
	return step{what: what, actor: actor, op: membership.OperationRemove, space: space, user: user}
}

func list(what string, actor membership.ID, space, query string) step {
	return step{what: what, actor: actor, op: membership.OperationList, space: space, query: query}
}

// orgAdd and orgRemove build the steps of the organization operations.
func orgAdd(what string, actor membership.ID, org, body string) step {
	return step{what: what, actor: actor, op: membership.OperationOrgAdd, space: org, body: body}
}

func orgRemove(what string, actor membership.ID, org, user string) step {
	return step{what: what, actor: actor, op: membership.OperationOrgRemove, space: org, user: user}
}

// predefined and custom are the bodies of an add.
func predefined(user, typ, name string) string {
	return `{"user_id":"` + user + `","role":{"type":"` + typ + `","name":"` + name + `"}}`
}

func custom(user, typ, id string) string {
	return `{"user_id":"` + user + `","role":{"type":"` + typ + `","id":"` + id + `"}}`
}

// The steps, by operation: what is allowed first, then one denial per
// check, numbered as the checks run. The store keeps what each step wrote,
// so later steps see it: Ann, added first, is removed later, and the list
// shows the space as the adds and the remove left it.
var groups = []struct {
	title string
	steps []step
}{
	{"Add a user to a space", []step{
		add("Linus, a space admin, makes Ann (an annotator) an annotator", linus, llmEvals, predefined(ann, "predefined", "annotator")),
		add("Ada, the account admin, makes Barbara read-only (an upsert: same id)", ada, llmEvals, predefined(barbara, "PREDEFINED", "READ_ONLY")),
		add("Alan, who may create role bindings, gives Grace the custom Reviewer role", alan, llmEvals, custom(grace, "custom", reviewer)),
		add("1. nobody is signed in", "", llmEvals, predefined(ann, "predefined", "member")),
		add("2. the user id is not an ID", ada, llmEvals, predefined("user-7", "predefined", "member")),
		add("3. type and name mix spellings", ada, llmEvals, predefined(grace, "PREDEFINED", "member")),
		add("4. Barbara cannot see the private red-team space", barbara, redTeam, predefined(grace, "predefined", "member")),
		add("5. Barbara is no space admin", barbara, llmEvals, predefined(grace, "predefined", "member")),
		add("5. Alan may give custom roles, but not to Linus, a space admin", alan, llmEvals, custom(linus, "custom", reviewer)),
		add("6. no such user", ada, llmEvals, predefined(nobody, "predefined", "member")),
		add("7. no such custom role", ada, llmEvals, custom(grace, "custom", "Um9sZTo5OQ==")),
		add("8. Ken is not in the space's organization", ada, llmEvals, predefined(ken, "predefined", "member")),
		add("9. Ann, an annotator, can only be an annotator", ada, llmEvals, predefined(ann, "predefined", "member")),
		add("10. only annotators can be annotators", ada, llmEvals, predefined(grace, "predefined", "annotator")),
	}},
	{"Remove a user from a space", []step{
		remove("Linus, a space admin, removes Ann", linus, llmEvals, ann),
		remove("1. nobody is signed in", "", llmEvals, barbara),
		remove("2. the user id is not an ID", ada, llmEvals, "user-7"),
		remove("3. Barbara cannot see the private red-team space", barbara, redTeam, grace),
		remove("4. Alan may create role bindings, but not delete them", alan, llmEvals, barbara),
		remove("5. no such user", ada, llmEvals, nobody),
		remove("6. Ann is no member any more", linus, llmEvals, ann),
	}},
	{"List a space's members", []step{
		list("Barbara, a member, lists llm-evals two at a time", barbara, llmEvals, "limit=2"),
		list("1. nobody is signed in", "", llmEvals, ""),
		list("2. the space id is not an ID", ada, "space-1", ""),
		list("3. the limit is from 1 to 100", ada, llmEvals, "limit=0"),
		list("4. Barbara cannot see the private red-team space", barbara, redTeam, ""),
	}},
	{"Add a user to an organization", []step{
		orgAdd("Grace, an organization admin, adds Ken to Research as a member", grace, research, predefined(ken, "predefined", "member")),
		orgAdd("Ada, the account admin, makes Ken read-only (an upsert: same id)", ada, research, predefined(ken, "PREDEFINED", "READ_ONLY")),
		orgAdd("1. nobody is signed in", "", research, predefined(ken, "predefined", "member")),
		orgAdd("2. the organization id is not an ID", ada, "org-1", predefined(ken, "predefined", "member")),
		orgAdd("3. the user id is missing", ada, research, `{"role":{"type":"predefined","name":"member"}}`),
		orgAdd("4. Eve, of another account, cannot see Research", eve, research, predefined(ken, "predefined", "member")),
		orgAdd("5. Barbara, a member, is no organization admin", barbara, research, predefined(ken, "predefined", "member")),
		orgAdd("6. no such user", grace, research, predefined(nobody, "predefined", "member")),
		orgAdd("7. no such custom role", grace, research, custom(ken, "custom", "Um9sZTo5OQ==")),
		orgAdd("8. Ann, an annotator, can only be an annotator", grace, research, predefined(ann, "predefined", "member")),
		orgAdd("9. only annotators can be annotators", grace, research, predefined(ken, "predefined", "annotator")),
	}},
	{"Remove a user from an organization, and from its spaces", []step{
		orgRemove("Grace removes Barbara from Research, and so from llm-evals", grace, research, barbara),
		list("Ada lists llm-evals: Barbara went with the organization", ada, llmEvals, ""),
		orgRemove("1. nobody is signed in", "", research, ken),
		orgRemove("2. the user id is not an ID", grace, research, "user-7"),
		orgRemove("3. Eve, of another account, cannot see Research", eve, research, ken),
		orgRemove("4. Linus, a member, is no organization admin", linus, research, ken),
		orgRemove("5. no such user", grace, research, nobody),
		orgRemove("6. Barbara is no member any more", grace, research, barbara),
	}},
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
	for i, g := range groups {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "== %s\n", g.title)
		for _, s := range g.steps {
			fmt.Fprintf(w, "%s\n    %s\n", s.what, outcome(ctx, svc, s))
		}
	}
	return nil
}

// outcome performs one step and describes the answer as a transport would
// send it: the status, then the membership, the page or the error. A list
// follows next_cursor to the last page, one line per page.
func outcome(ctx context.Context, svc *membership.Service, s step) string {
	switch s.op {
	case membership.OperationAdd:
		req, err := membership.ParseAddUserRequest(s.actor, s.space, []byte(s.body))
		if err != nil {
			return describe(err)
		}
		m, err := svc.AddUserToSpace(ctx, req)
		if err != nil {
			return describe(err)
		}
		body, _ := json.Marshal(m)
		return "200 " + string(body)
	case membership.OperationRemove:
		req, err := membership.ParseRemoveUserRequest(s.actor, s.space, s.user)
		if err != nil {
			return describe(err)
		}
		if err := svc.RemoveUserFromSpace(ctx, req); err != nil {
			return describe(err)
		}
		return "204 (no content)"
	case membership.OperationList:
		params, err := url.ParseQuery(s.query)
		if err != nil {
			return describe(err)
		}
		var pages []string
		for {
			req, err := membership.ParseListMembersRequest(s.actor, s.space, params)
			if err != nil {
				return describe(err)
			}
			page, err := svc.ListSpaceMembers(ctx, req)
			if err != nil {
				return describe(err)
			}
			body, _ := json.Marshal(page)
			pages = append(pages, "200 "+string(body))
			if !page.HasMore {
				return strings.Join(pages, "\n    ")
			}
			params.Set("cursor", page.NextCursor)
		}
	case membership.OperationOrgAdd:
		req, err := membership.ParseAddOrganizationUserRequest(s.actor, s.space, []byte(s.body))
		if err != nil {
			return describe(err)
		}
		m, err := svc.AddUserToOrganization(ctx, req)
		if err != nil {
			return describe(err)
		}
		body, _ := json.Marshal(m)
		return "200 " + string(body)
	case membership.OperationOrgRemove:
		req, err := membership.ParseRemoveOrganizationUserRequest(s.actor, s.space, s.user)
		if err != nil {
			return describe(err)
		}
		if err := svc.RemoveUserFromOrganization(ctx, req); err != nil {
			return describe(err)
		}
		return "204 (no content)"
	}
	return "unknown operation " + s.op.String()
}

// describe renders an error as its status, error_code and detail.
func describe(err error) string {
	var e *membership.Error
	if !errors.As(err, &e) {
		return "500 " + err.Error()
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Detail)
}
