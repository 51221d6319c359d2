// Package faulttest runs the fault matrix against a store: every
// operation, through membership.Service and the default policy, with a
// fault injected by package faultstore at every point a call of that
// operation reaches, of every kind. Each answer must be 500 internal or 503
// unavailable (never an allow, never a decision), and the store must be
// exactly as it was before the operation. After every row of an
// operation, its changelog replayed from the world must give exactly what
// the store holds: no fault leaves a change without its audit entry or an
// entry without its change. A store's tests call Run, as they call
// storetest.Run.
package faulttest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/internal/auditreplay"
	"github.com/spaceauthz/spaceauthz/internal/faultstore"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
	"github.com/spaceauthz/spaceauthz/policy"
)

// Store is what the matrix needs of a store: the store under test, and a
// Seeder to write the world into it.
type Store interface {
	membership.Store
	membership.Seeder
}

// Target is a new, empty store to run the matrix on.
type Target struct {
	Store Store
	// Dump, when set, returns everything the store holds, read by the
	// store's own means (pgstore: every row of every table). It is
	// compared before and after each fault, besides the snapshot read
	// through Store.Read, so that a write that no Read shows is caught
	// too.
	Dump func(t *testing.T) any
}

// id makes an ID from a readable name.
func id(name string) membership.ID {
	return membership.ID(base64.StdEncoding.EncodeToString([]byte(name)))
}

// The world: one account and organization with two spaces. The actor is an
// organization ADMIN and a space ADMIN of the private space, so the default
// policy allows every operation below; the other users exercise every kind
// of fact (a custom role held and requested, memberships of both spaces).
var (
	account  = id("Account:1")
	org      = id("Org:1")
	private  = id("Space:private")
	public   = id("Space:public")
	reviewer = id("Role:reviewer")

	actor     = id("User:actor")
	newcomer  = id("User:newcomer") // in the organization, in no space: the add's target
	leaver    = id("User:leaver")   // a member of both spaces: the removes' target
	stayer    = id("User:stayer")
	outsider  = id("User:outsider") // of the account, not of the organization: the organization add's target
	auditor   = id("User:auditor")  // the account ADMIN, who reads the audit log
	users     = []membership.ID{actor, newcomer, leaver, stayer, outsider}
	spaces    = []membership.ID{private, public}
	listLimit = 2 // fewer than the private space's members: the page has more
)

func world() *fixture.Fixture {
	user := func(uid membership.ID, name string) membership.User {
		return membership.User{ID: uid, AccountID: account, Name: name, Email: strings.ToLower(name) + "@example.com", Role: membership.AccountMember}
	}
	orgMember := func(uid membership.ID, role membership.RoleAssignment) membership.OrganizationMember {
		return membership.OrganizationMember{OrganizationID: org, UserID: uid, Role: role}
	}
	spaceMember := func(space, uid membership.ID, role membership.RoleAssignment) fixture.SpaceMember {
		return fixture.SpaceMember{SpaceID: space, UserID: uid, Role: role}
	}
	admin, member, readOnly := membership.Predefined(membership.RoleAdmin), membership.Predefined(membership.RoleMember), membership.Predefined(membership.RoleReadOnly)
	return &fixture.Fixture{
		Accounts: []membership.Account{{ID: account}},
		Users: []membership.User{user(actor, "Ada"), user(newcomer, "Nia"), user(leaver, "Lev"), user(stayer, "Sam"), user(outsider, "Oto"),
			{ID: auditor, AccountID: account, Name: "Aud", Email: "aud@example.com", Role: membership.AccountAdmin}},
		Organizations: []membership.Organization{{ID: org, AccountID: account, Name: "Research"}},
		Roles:         []membership.CustomRole{{ID: reviewer, AccountID: account, Name: "Reviewer", Permissions: []membership.Permission{"PROJECT_READ"}}},
		OrganizationMembers: []membership.OrganizationMember{
			orgMember(actor, admin), orgMember(newcomer, member), orgMember(leaver, member), orgMember(stayer, membership.Custom(reviewer)),
		},
		Spaces: []membership.Space{
			{ID: private, OrganizationID: org, Name: "llm-evals", IsPrivate: true},
			{ID: public, OrganizationID: org, Name: "datasets"},
		},
		SpaceMembers: []fixture.SpaceMember{
			spaceMember(private, actor, admin), spaceMember(private, leaver, member), spaceMember(private, stayer, membership.Custom(reviewer)),
			spaceMember(public, leaver, readOnly), spaceMember(public, stayer, member),
		},
	}
}

// snapshot is everything the store holds about the world.
type snapshot struct {
	// Members are every membership of every space, read as pages.
	Members map[membership.ID][]membership.Membership
	// Facts are the facts of every user about every space: the user, the
	// space and its organization, their roles there, and the custom role.
	Facts []membership.Facts
	// Dump is Target.Dump's, if any.
	Dump any
}

func take(t *testing.T, target Target) snapshot {
	t.Helper()
	ctx := context.Background()
	s := snapshot{Members: map[membership.ID][]membership.Membership{}}
	for _, space := range spaces {
		_, page, err := target.Store.Read(ctx, membership.Query{Operation: membership.OperationList, Actor: actor, SpaceID: space, Page: &membership.PageQuery{Limit: 1000}})
		if err != nil {
			t.Fatalf("snapshot: reading the members of %s: %v", space, err)
		}
		s.Members[space] = page.Members
		for _, user := range users {
			q := membership.Query{Operation: membership.OperationAdd, Actor: user, SpaceID: space, UserID: user, Role: membership.Custom(reviewer)}
			f, _, err := target.Store.Read(ctx, q)
			if err != nil {
				t.Fatalf("snapshot: reading the facts of %s in %s: %v", user, space, err)
			}
			s.Facts = append(s.Facts, *f)
		}
	}
	if target.Dump != nil {
		s.Dump = target.Dump(t)
	}
	return s
}

// operation is one of the library's operations, as the matrix runs it.
type operation struct {
	name   string
	points []faultstore.Point
	// run performs it and describes its answer when it succeeds.
	run func(ctx context.Context, svc *membership.Service) (string, error)
	// check checks the store after the operation succeeded; nil when it
	// must not have changed.
	check func(t *testing.T, target Target)
}

var operations = []operation{
	{
		name:   "add",
		points: []faultstore.Point{faultstore.BeforeWrite, faultstore.BeforeDecide, faultstore.AfterDecide},
		run: func(ctx context.Context, svc *membership.Service) (string, error) {
			m, err := svc.AddUserToSpace(ctx, membership.AddUserRequest{Actor: actor, SpaceID: private, UserID: newcomer, Role: membership.Custom(reviewer)})
			return fmt.Sprintf("200, membership added (%s)", m.Role.DisplayName), err
		},
		check: func(t *testing.T, target Target) {
			m := existing(t, target, newcomer)
			if m == nil || m.Role != membership.Custom(reviewer) {
				t.Errorf("after the add, the newcomer's membership is %+v, want the custom role %s", m, reviewer)
			}
		},
	},
	{
		name:   "remove",
		points: []faultstore.Point{faultstore.BeforeWrite, faultstore.BeforeDecide, faultstore.AfterDecide},
		run: func(ctx context.Context, svc *membership.Service) (string, error) {
			return "204, membership removed", svc.RemoveUserFromSpace(ctx, membership.RemoveUserRequest{Actor: actor, SpaceID: private, UserID: leaver})
		},
		check: func(t *testing.T, target Target) {
			if m := existing(t, target, leaver); m != nil {
				t.Errorf("after the remove, the leaver is still a member: %+v", m)
			}
		},
	},
	{
		name:   "org_add",
		points: []faultstore.Point{faultstore.BeforeWrite, faultstore.BeforeDecide, faultstore.AfterDecide},
		run: func(ctx context.Context, svc *membership.Service) (string, error) {
			m, err := svc.AddUserToOrganization(ctx, membership.AddOrganizationUserRequest{Actor: actor, OrganizationID: org, UserID: outsider, Role: membership.Custom(reviewer)})
			return fmt.Sprintf("200, organization membership added (%s)", m.Role.DisplayName), err
		},
		check: func(t *testing.T, target Target) {
			m := organizationMember(t, target, outsider)
			if m == nil || m.Role != membership.Custom(reviewer) {
				t.Errorf("after the add, the outsider's organization membership is %+v, want the custom role %s", m, reviewer)
			}
		},
	},
	{
		// The cascade: a fault anywhere leaves the organization
		// membership and both space memberships of the leaver.
		name:   "org_remove",
		points: []faultstore.Point{faultstore.BeforeWrite, faultstore.BeforeDecide, faultstore.AfterDecide},
		run: func(ctx context.Context, svc *membership.Service) (string, error) {
			return "204, organization and space memberships removed",
				svc.RemoveUserFromOrganization(ctx, membership.RemoveOrganizationUserRequest{Actor: actor, OrganizationID: org, UserID: leaver})
		},
		check: func(t *testing.T, target Target) {
			if m := organizationMember(t, target, leaver); m != nil {
				t.Errorf("after the removal, the leaver is still in the organization: %+v", m)
			}
			s := take(t, target)
			for space, members := range s.Members {
				for _, m := range members {
					if m.UserID == leaver {
						t.Errorf("after the removal, the leaver is still a member of %s: %+v", space, m)
					}
				}
			}
		},
	},
	{
		name:   "list",
		points: []faultstore.Point{faultstore.BeforeRead, faultstore.AfterRead},
		run: func(ctx context.Context, svc *membership.Service) (string, error) {
			page, err := svc.ListSpaceMembers(ctx, membership.ListMembersRequest{Actor: actor, SpaceID: private, Limit: listLimit})
			if err == nil && (len(page.Members) != listLimit || !page.HasMore) {
				err = fmt.Errorf("a page of %d members, has_more %v; want %d, true", len(page.Members), page.HasMore, listLimit)
			}
			return fmt.Sprintf("200, page of %d, has_more", len(page.Members)), err
		},
	},
	{
		name:   "audit",
		points: []faultstore.Point{faultstore.BeforeRead, faultstore.AfterRead},
		run: func(ctx context.Context, svc *membership.Service) (string, error) {
			page, err := svc.ListAuditLogs(ctx, membership.ListAuditLogsRequest{Actor: auditor})
			return fmt.Sprintf("200, page of %d entries", len(page.Logs)), err
		},
	},
}

// existing reads the membership of user in the private space.
func existing(t *testing.T, target Target, user membership.ID) *membership.Membership {
	t.Helper()
	f, _, err := target.Store.Read(context.Background(), membership.Query{Operation: membership.OperationRemove, Actor: actor, SpaceID: private, UserID: user})
	if err != nil {
		t.Fatal(err)
	}
	return f.Existing
}

// organizationMember reads the organization membership of user.
func organizationMember(t *testing.T, target Target, user membership.ID) *membership.OrganizationMember {
	t.Helper()
	f, _, err := target.Store.Read(context.Background(), membership.Query{Operation: membership.OperationOrgRemove, Actor: actor, OrganizationID: org, UserID: user})
	if err != nil {
		t.Fatal(err)
	}
	return f.TargetOrganizationMember
}

var kinds = []faultstore.Kind{faultstore.Fail, faultstore.Unavailable, faultstore.Timeout, faultstore.Cancel}

// want is the answer the library gives to each kind of fault: a failure of
// no class is hidden behind 500; an outage, or a deadline that ran out, is
// 503 (a retry may succeed); a cancelled request is the caller's doing, and
// the library does not call that an outage.
func want(k faultstore.Kind) (*membership.Error, error) {
	switch k {
	case faultstore.Fail:
		return membership.ErrInternal, faultstore.ErrInjected
	case faultstore.Unavailable:
		return membership.ErrUnavailable, faultstore.ErrInjected
	case faultstore.Timeout:
		return membership.ErrUnavailable, context.DeadlineExceeded
	default:
		return membership.ErrInternal, context.Canceled
	}
}

// row is one line of the printed matrix.
type row struct {
	op, point, fault, outcome string
}

// Run runs the fault matrix on stores that open returns: one per
// operation, seeded with the world. It logs the matrix as a table.
func Run(t *testing.T, open func(t *testing.T) Target) {
	engine, err := policy.New()
	if err != nil {
		t.Fatal(err)
	}
	results := make([][]row, len(operations))
	t.Run("matrix", func(t *testing.T) {
		for i, op := range operations {
			t.Run(op.name, func(t *testing.T) {
				t.Parallel()
				target := open(t)
				if err := fixture.Seed(context.Background(), target.Store, world()); err != nil {
					t.Fatalf("seeding: %v", err)
				}
				// The faults first, on the seeded world; the control
				// last, since it changes the store.
				for _, p := range op.points {
					for _, k := range kinds {
						f := faultstore.Fault{Point: p, Kind: k, Call: 1}
						outcome := "(not run)"
						t.Run(fmt.Sprintf("%v/%v", p, k), func(t *testing.T) {
							outcome = runFault(t, engine, target, op, f)
						})
						results[i] = append(results[i], row{op.name, p.String(), k.String(), outcome})
					}
				}
				outcome := "(not run)"
				t.Run("no fault", func(t *testing.T) {
					outcome = runControl(t, engine, target, op)
				})
				results[i] = append(results[i], row{op.name, "none", "none", outcome})
				// No fault left a change without its entry, or an entry
				// without its change: the changelog replays to the store.
				auditreplay.Check(t, context.Background(), target.Store, world())
			})
		}
	})
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "operation\tpoint\tfault\toutcome")
	for _, rows := range results {
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.op, r.point, r.fault, r.outcome)
		}
	}
	tw.Flush()
	t.Logf("fault matrix:\n%s", b.String())
}

// runFault runs op with fault f and checks the answer and the store; it
// returns the outcome for the table.
func runFault(t *testing.T, engine *policy.Engine, target Target, op operation, f faultstore.Fault) string {
	before := take(t, target)
	fs := faultstore.New(target.Store, f)
	svc, err := membership.NewService(fs, engine)
	if err != nil {
		t.Fatal(err)
	}
	_, err = op.run(context.Background(), svc)
	after := take(t, target)

	if fs.Fired() != 1 {
		t.Errorf("the fault fired %d times, want once: the operation never reached %v", fs.Fired(), f.Point)
	}
	outcome := Describe(err)
	wantErr, wantCause := want(f.Kind)
	var e *membership.Error
	switch {
	case err == nil:
		t.Errorf("%v answered success, want %d %s", f, wantErr.Status, wantErr.Code)
	case !errors.As(err, &e):
		t.Errorf("%v answered %v, which is not a *membership.Error", f, err)
	case e.Status != http.StatusInternalServerError && e.Status != http.StatusServiceUnavailable:
		t.Errorf("%v answered %d %s (%v), want 500 or 503", f, e.Status, e.Code, err)
	case e.Code != wantErr.Code:
		t.Errorf("%v answered %d %s (%v), want %d %s", f, e.Status, e.Code, err, wantErr.Status, wantErr.Code)
	case !errors.Is(err, wantCause):
		t.Errorf("%v answered %v, which does not keep its cause, %v", f, err, wantCause)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("%v changed the store (-before +after):\n%s", f, diff)
		outcome += ", store CHANGED"
	} else {
		outcome += ", store unchanged"
	}
	return outcome
}

// runControl runs op with no fault: it must succeed, so that each row of
// the matrix fails because of its fault and not of the world.
func runControl(t *testing.T, engine *policy.Engine, target Target, op operation) string {
	before := take(t, target)
	fs := faultstore.New(target.Store, faultstore.Fault{})
	svc, err := membership.NewService(fs, engine)
	if err != nil {
		t.Fatal(err)
	}
	outcome, err := op.run(context.Background(), svc)
	if err != nil {
		t.Fatalf("with no fault, %s answered %v, want success", op.name, err)
	}
	if fs.Fired() != 0 {
		t.Errorf("a zero fault fired %d times", fs.Fired())
	}
	if op.check != nil {
		op.check(t, target)
	} else if diff := cmp.Diff(before, take(t, target)); diff != "" {
		t.Errorf("%s changed the store (-before +after):\n%s", op.name, diff)
	}
	return outcome
}

// Describe is an answer as a fault table shows it: success, or the status
// and code of a typed error.
func Describe(err error) string {
	var e *membership.Error
	switch {
	case err == nil:
		return "success"
	case errors.As(err, &e):
		return fmt.Sprintf("%d %s", e.Status, e.Code)
	}
	return fmt.Sprintf("untyped error %q", err)
}
