package model_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spaceauthz/spaceauthz/internal/auditreplay"
	"github.com/spaceauthz/spaceauthz/internal/model"
	"github.com/spaceauthz/spaceauthz/internal/pgtest"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
	"github.com/spaceauthz/spaceauthz/memstore"
	"github.com/spaceauthz/spaceauthz/pgstore"
	"github.com/spaceauthz/spaceauthz/policy"
)

var (
	seedFlag    = flag.Uint64("model.seed", 0, "seed of the model-based test (0: a new one, logged)")
	episodeFlag = flag.Int("model.episode", -1, "replay only this episode of -model.seed")
	memSteps    = flag.Int("model.memsteps", 10000, "steps on memstore")
	pgSteps     = flag.Int("model.pgsteps", 6000, "steps on pgstore")
	strictFlag  = flag.Bool("model.strict", false, "refuse an actor that names no user before the input checks, an order stricter than the contract's (see model.World.ActorCheckedLate)")
)

// episodeSteps is the length of an episode. The world is small and its
// users drift into and out of its organizations and spaces, so a fresh world
// every few hundred steps keeps the states varied: new account roles, new
// organization and space memberships, new privacy.
const episodeSteps = 250

// tailLength is how many of the last steps a failure prints.
const tailLength = 20

// orgCheckEvery is how often, in steps, every organization membership of
// the world is checked in the store, besides those a step touched: each
// takes a read of its own.
const orgCheckEvery = 25

type store interface {
	membership.Store
	membership.Seeder
}

// TestModel runs random sequences of adds, removes and lists of space
// members, adds and removes of organization members, and direct store
// changes against the service with the default policy and against the
// reference model, on both stores, and requires them to agree after every
// step; at the end of each episode, the store's audit log replayed from the
// episode's fixture, with the direct changes in their places, must give
// exactly the memberships the store holds. A failure prints the seed, the episode, the step and the steps
// before it; -model.seed and -model.episode replay it.
func TestModel(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d", seed)

	t.Run("memstore", func(t *testing.T) {
		t.Parallel()
		run(t, "memstore", memstore.New(), seed, *memSteps, 1)
	})
	t.Run("pgstore", func(t *testing.T) {
		t.Parallel()
		cfg, err := pgxpool.ParseConfig(pgtest.Schema(t, "model"))
		if err != nil {
			t.Fatal(err)
		}
		pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		s, err := pgstore.New(pool)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		// A PostgreSQL read costs a round trip or more: every step checks the
		// space it touched, and every fifth step all of them.
		run(t, "pgstore", s, seed, *pgSteps, 5)
	})
}

// storeStreams keeps the random streams of the two stores apart.
var storeStreams = map[string]uint64{"memstore": 1, "pgstore": 2}

// run plays steps steps on s, episode by episode, checking every space of
// the world in the store every fullCheckEvery steps.
func run(t *testing.T, name string, s store, seed uint64, steps, fullCheckEvery int) {
	authz, err := policy.New()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := membership.NewService(s, authz)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	stats := map[string]int{}
	seen := map[string]bool{} // every membership id the store ever gave
	played := 0
	for ep := 0; ep*episodeSteps < steps; ep++ {
		if *episodeFlag >= 0 && ep != *episodeFlag {
			continue
		}
		e := &episode{
			t: t, ctx: context.Background(), storeName: name, store: s, svc: svc,
			seed: seed, ep: ep, fullCheckEvery: fullCheckEvery,
			rng:     rand.New(rand.NewPCG(seed, storeStreams[name]<<32|uint64(ep))),
			w:       newWorld(ep),
			seen:    seen,
			stats:   stats,
			granted: map[model.Key]grant{}, version: map[string]int{},
			walks: map[string]string{},
		}
		e.setUp()
		n := min(episodeSteps, steps-ep*episodeSteps)
		for e.step = 0; e.step < n; e.step++ {
			e.next()
		}
		e.checkStore(e.allSpaces()...)
		e.checkOrgs(e.allOrgs()...)
		e.checkAuditLog()
		played += n
	}
	keys := slices.Sorted(maps.Keys(stats))
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, stats[k])
	}
	t.Logf("%d steps in %v; outcomes:%s", played, time.Since(start).Round(time.Millisecond), b.String())
}

// grant is a membership the service granted, with the version of its
// user's account role at the time: the annotator pairing holds for it as
// long as neither has changed.
type grant struct{ version int }

type episode struct {
	t              *testing.T
	ctx            context.Context
	storeName      string
	store          store
	svc            *membership.Service
	seed           uint64
	ep, step       int
	fullCheckEvery int
	rng            *rand.Rand

	w    *world
	m    *model.World
	seen map[string]bool
	// granted holds the memberships the service granted that no direct
	// change has overwritten since; version counts each user's account role
	// changes.
	granted map[model.Key]grant
	version map[string]int
	// walks holds, per space, the cursor of the last page listed, when more
	// followed: a later list may follow it.
	walks  map[string]string
	issued []issuedCursor
	// replay follows the store's changelog from the episode's fixture,
	// told of the direct changes, which leave no audit entry.
	replay                         *auditreplay.Replayer
	lateRoleExists, lateUserExists bool // whether the late role and user exist yet

	tail  []string
	stats map[string]int
}

type issuedCursor struct{ cursor, space string }

// fail stops the test with everything it takes to replay the failure.
func (e *episode) fail(format string, args ...any) {
	e.t.Helper()
	e.t.Fatalf("%s: model and service disagree at episode %d, step %d (seed %d):\n  %s\n"+
		"replay: go test -race ./internal/model -run 'TestModel/%s$' -model.seed=%d -model.episode=%d\nlast steps:\n  %s",
		e.storeName, e.ep, e.step, e.seed, fmt.Sprintf(format, args...),
		e.storeName, e.seed, e.ep, strings.Join(e.tail, "\n  "))
}

func (e *episode) record(s string) {
	e.tail = append(e.tail, fmt.Sprintf("#%d %s", e.step, s))
	if len(e.tail) > tailLength {
		e.tail = e.tail[1:]
	}
}

func (e *episode) count(op string, c model.Code) {
	if c == model.OK {
		c = "ok"
	}
	e.stats[op+"."+string(c)]++
}

// setUp seeds the store with the episode's world and learns the ids the
// store gave the initial memberships.
func (e *episode) setUp() {
	var f *fixture.Fixture
	f, e.m = e.w.seed(e.rng)
	// The contract refuses an actor id that names no user after the input
	// checks; -model.strict tries the stricter order instead.
	e.m.ActorCheckedLate = !*strictFlag
	if err := fixture.Seed(e.ctx, e.store, f); err != nil {
		e.t.Fatalf("seeding episode %d: %v", e.ep, err)
	}
	start := auditreplay.FromFixture(f)
	start.Users[membership.ID(e.w.late)] = membership.ID(e.w.acctA) // a direct change may create the late user
	e.replay = auditreplay.NewReplayer(start)
	for _, sp := range e.allSpaces() {
		for _, got := range e.read(sp) {
			k := model.Key{Of: string(got.SpaceID), User: string(got.UserID)}
			m, ok := e.m.SpaceMembers[k]
			if !ok {
				e.fail("seeding: the store holds %s in %s, the fixture did not", e.w.name(k.User), e.w.name(k.Of))
			}
			e.newID(string(got.ID))
			m.ID = string(got.ID)
			e.m.SpaceMembers[k] = m
		}
	}
	for _, org := range e.allOrgs() {
		for _, user := range e.allUsers() {
			k := model.Key{Of: org, User: user}
			got := e.readOrgMember(org, user)
			m, ok := e.m.OrgMembers[k]
			switch {
			case got == nil && !ok:
				continue
			case got == nil:
				e.fail("seeding: the store lacks %s in %s", e.w.name(user), e.w.name(org))
			case !ok:
				e.fail("seeding: the store holds %s in %s, the fixture did not", e.w.name(user), e.w.name(org))
			}
			e.newID(string(got.ID))
			m.ID = string(got.ID)
			e.m.OrgMembers[k] = m
		}
	}
	e.checkStore(e.allSpaces()...)
	e.checkOrgs(e.allOrgs()...)
}

func (e *episode) allSpaces() []string { return append(slices.Clone(e.w.spaces), e.w.spaceB) }

func (e *episode) allOrgs() []string { return append(slices.Clone(e.w.orgs), e.w.orgB) }

// allUsers returns every user id of the world that may ever name a user.
func (e *episode) allUsers() []string { return append(slices.Clone(e.w.users), e.w.late, e.w.userB) }

// spacesOf returns the spaces of org, in the order of the world.
func (e *episode) spacesOf(org string) []string {
	var out []string
	for _, s := range e.allSpaces() {
		if e.m.Spaces[s].Org == org {
			out = append(out, s)
		}
	}
	return out
}

// next plays one random step and checks the store afterwards.
func (e *episode) next() {
	var touched string
	switch x := e.rng.IntN(100); {
	case x < 34:
		touched = e.add()
	case x < 47:
		touched = e.remove()
	case x < 64:
		e.list()
	case x < 72:
		e.orgAdd()
	case x < 79:
		e.orgRemove()
	case x < 85:
		e.putOrganizationMember()
	case x < 89:
		e.putUser()
	case x < 93:
		e.putCustomRole()
	default:
		touched = e.putSpaceMember()
	}
	// The model must keep the invariant the stores keep; a step that broke
	// it in the model is a bug of this test, which would hide one of the
	// stores'.
	if o := e.m.Orphans(); len(o) > 0 {
		e.fail("the model holds %s in %s without the membership of its organization", e.w.name(o[0].User), e.w.name(o[0].Of))
	}
	if (e.step+1)%e.fullCheckEvery == 0 {
		e.checkStore(e.allSpaces()...)
	} else if _, ok := e.m.Spaces[touched]; ok {
		e.checkStore(touched)
	}
	if (e.step+1)%orgCheckEvery == 0 {
		e.checkOrgs(e.allOrgs()...)
	}
}

// pick returns one of the choices, by weight: pairs of weight and value.
func pick[T any](rng *rand.Rand, choices ...any) T {
	total := 0
	for i := 0; i < len(choices); i += 2 {
		total += choices[i].(int)
	}
	x := rng.IntN(total)
	for i := 0; i < len(choices); i += 2 {
		if x -= choices[i].(int); x < 0 {
			return choices[i+1].(T)
		}
	}
	panic("unreachable")
}

func (e *episode) anyOf(ids []string) string { return ids[e.rng.IntN(len(ids))] }

// actor is mostly a user of A, sometimes B's user, someone who is no user
// (yet, or ever), or no actor at all.
func (e *episode) actor() string {
	return pick[string](e.rng,
		80, e.anyOf(e.w.users),
		5, e.w.userB,
		4, e.w.late,
		4, e.w.nobody,
		4, "",
		3, e.anyOf(notIDs[1:]))
}

func (e *episode) space() string {
	return pick[string](e.rng,
		88, e.anyOf(e.w.spaces),
		5, e.w.spaceB,
		4, e.w.noSpace,
		3, e.anyOf(notIDs))
}

func (e *episode) org() string {
	return pick[string](e.rng,
		85, e.anyOf(e.w.orgs),
		5, e.w.orgB,
		5, e.w.noOrg,
		5, e.anyOf(notIDs))
}

func (e *episode) target(actor string) string {
	return pick[string](e.rng,
		72, e.anyOf(e.w.users),
		10, actor,
		5, e.w.userB,
		5, e.w.late,
		4, e.w.nobody,
		4, e.anyOf(notIDs))
}

// role is any predefined role, a custom role (of A, late, of B, or none at
// all), or now and then a malformed assignment.
func (e *episode) role() model.Role {
	x := e.rng.IntN(100)
	switch {
	case x < 50:
		return model.P(e.anyOf([]string{model.Admin, model.Member, model.ReadOnly, model.Annotator}))
	case x < 94:
		return model.C(pick[string](e.rng, 70, e.anyOf(e.w.roles), 15, e.w.roleB, 15, e.w.noRole))
	}
	return e.anyOfRoles(
		model.Role{},
		model.Role{Kind: model.Predefined, Name: "OWNER"},
		model.Role{Kind: model.Predefined},
		model.Role{Kind: model.Predefined, Name: model.Member, ID: e.w.roles[0]},
		model.Role{Kind: model.Custom},
		model.Role{Kind: model.Custom, ID: e.w.roles[0], Name: model.Member},
		model.Role{Kind: model.Custom, ID: e.anyOf(notIDs[1:])},
	)
}

func (e *episode) anyOfRoles(rs ...model.Role) model.Role { return rs[e.rng.IntN(len(rs))] }

func (e *episode) spelling() membership.Spelling {
	return membership.Spelling(e.rng.IntN(2))
}

// outcome compares the service's answer with the model's code.
// The model's view of the people of a step is printed with a disagreement:
// who they are in the account, the organization and the space.
func (e *episode) outcome(what string, want model.Code, err error, space string, people ...string) {
	e.t.Helper()
	e.outcomeWith(what, want, err, func() string { return e.describe(space, people...) })
}

// outcomeWith is outcome with the model's view drawn by view, only on a
// disagreement.
func (e *episode) outcomeWith(what string, want model.Code, err error, view func() string) {
	e.t.Helper()
	got, status := model.OK, 200
	if err != nil {
		var me *membership.Error
		if !errors.As(err, &me) {
			e.fail("%s: the service answered %v, not a *membership.Error", what, err)
		}
		got, status = model.Code(me.Code), me.Status
	}
	e.record(fmt.Sprintf("%s → %s", what, codeName(got)))
	if got != want || status != model.Status(want) {
		e.fail("%s: the service answered %s (%d), the model %s (%d); error: %v\n  the model's view:%s",
			what, codeName(got), status, codeName(want), model.Status(want), err, view())
	}
}

// describe tells what the model knows of the space and of each user there.
func (e *episode) describe(space string, users ...string) string {
	var b strings.Builder
	sp, ok := e.m.Spaces[space]
	if !ok {
		fmt.Fprintf(&b, "\n    space %s: none", e.w.name(space))
	} else {
		fmt.Fprintf(&b, "\n    space %s: organization %s, private %v", e.w.name(space), e.w.name(sp.Org), sp.Private)
	}
	for _, u := range users {
		user, ok := e.m.Users[u]
		if !ok {
			fmt.Fprintf(&b, "\n    %s: no user", e.w.name(u))
			continue
		}
		fmt.Fprintf(&b, "\n    %s: account %s %s", e.w.name(u), e.w.name(user.Account), user.Role)
		if r, ok := e.m.OrgMembers[model.Key{Of: sp.Org, User: u}]; ok {
			fmt.Fprintf(&b, "; organization role %s", e.roleDetail(r.Role))
		}
		if m, ok := e.m.SpaceMembers[model.Key{Of: space, User: u}]; ok {
			fmt.Fprintf(&b, "; space role %s", e.roleDetail(m.Role))
		}
	}
	return b.String()
}

// describeOrg tells what the model knows of the organization and of each
// user there, with their memberships of its spaces.
func (e *episode) describeOrg(org string, users ...string) string {
	var b strings.Builder
	if acct, ok := e.m.Orgs[org]; !ok {
		fmt.Fprintf(&b, "\n    organization %s: none", e.w.name(org))
	} else {
		fmt.Fprintf(&b, "\n    organization %s: account %s", e.w.name(org), e.w.name(acct))
	}
	for _, u := range users {
		user, ok := e.m.Users[u]
		if !ok {
			fmt.Fprintf(&b, "\n    %s: no user", e.w.name(u))
			continue
		}
		fmt.Fprintf(&b, "\n    %s: account %s %s", e.w.name(u), e.w.name(user.Account), user.Role)
		if m, ok := e.m.OrgMembers[model.Key{Of: org, User: u}]; ok {
			fmt.Fprintf(&b, "; organization role %s", e.roleDetail(m.Role))
		}
		for _, s := range e.spacesOf(org) {
			if m, ok := e.m.SpaceMembers[model.Key{Of: s, User: u}]; ok {
				fmt.Fprintf(&b, "; %s role %s", e.w.name(s), e.roleDetail(m.Role))
			}
		}
	}
	return b.String()
}

func (e *episode) roleDetail(r model.Role) string {
	if r.Kind != model.Custom {
		return e.w.roleName(r)
	}
	cr, ok := e.m.Roles[r.ID]
	if !ok {
		return e.w.roleName(r) + " (missing)"
	}
	return fmt.Sprintf("%s (account %s, %v)", e.w.roleName(r), e.w.name(cr.Account), cr.Perms)
}

func codeName(c model.Code) string {
	if c == model.OK {
		return "ok"
	}
	return string(c)
}

// newID checks that id, which the store just gave a new membership, is an ID
// it never gave before.
func (e *episode) newID(id string) {
	e.t.Helper()
	if !model.IsID(id) {
		e.fail("the store gave a membership the id %q, which is not an ID", id)
	}
	if e.seen[id] {
		e.fail("the store gave a new membership the id %q, which it gave before", id)
	}
	e.seen[id] = true
}

// someone returns, now and then, a user the model says may do what ok
// tells (so that allowed operations are frequent enough to matter), and
// otherwise anyone at all, fallback.
func (e *episode) someone(ok func(u string) bool, fallback func() string) string {
	return e.someonePct(40, ok, fallback)
}

// someonePct is someone with pct percent for a user ok tells.
func (e *episode) someonePct(pct int, ok func(u string) bool, fallback func() string) string {
	if e.rng.IntN(100) < pct {
		var them []string
		for _, u := range append(e.usersOfA(), e.w.userB) {
			if ok(u) {
				them = append(them, u)
			}
		}
		if len(them) > 0 {
			return e.anyOf(them)
		}
	}
	return fallback()
}

func (e *episode) add() string {
	space, role := e.space(), e.role()
	actor := e.someone(func(u string) bool {
		return e.m.IsSpaceAdmin(u, space) || e.m.Holds(u, space, model.RoleBindingCreate)
	}, e.actor)
	org := e.m.Spaces[space].Org
	user := e.someone(func(u string) bool {
		_, ok := e.m.OrgMembers[model.Key{Of: org, User: u}]
		return ok
	}, func() string { return e.target(actor) })
	sp := e.spelling()
	what := fmt.Sprintf("add actor=%s space=%s user=%s role=%s", e.w.name(actor), e.w.name(space), e.w.name(user), e.w.roleName(role))
	want := e.m.Add(actor, space, user, role)
	got, err := e.svc.AddUserToSpace(e.ctx, membership.AddUserRequest{
		Actor: membership.ID(actor), SpaceID: membership.ID(space), UserID: membership.ID(user), Role: assignment(role, sp),
	})
	e.outcome(what, want, err, space, actor, user)
	e.count("add", want)
	if want != model.OK {
		return space
	}
	// Only an actor with authority changes a membership: a separate,
	// plainer statement of check 5 than the walk through the checks.
	if !e.m.MayAdd(actor, space, user, role) {
		e.fail("%s succeeded, but the actor has no authority for it", what)
	}
	k := model.Key{Of: space, User: user}
	old, existed := e.m.SpaceMembers[k]
	switch {
	case string(got.UserID) != user || string(got.SpaceID) != space:
		e.fail("%s answered the membership of %s in %s", what, got.UserID, got.SpaceID)
	case !sameRole(got.Role, role) || got.Role.Spelling != sp:
		e.fail("%s answered the role %+v", what, got.Role)
	case role.Kind == model.Custom && got.Role.DisplayName != e.m.Roles[role.ID].Name,
		role.Kind == model.Predefined && got.Role.DisplayName != "":
		e.fail("%s answered the display name %q, want %q", what, got.Role.DisplayName, e.m.Roles[role.ID].Name)
	case existed && string(got.ID) != old.ID:
		e.fail("%s gave the existing membership %s the new id %s", what, old.ID, got.ID)
	}
	if !existed {
		e.newID(string(got.ID))
	}
	e.m.PutMember(space, user, role, string(got.ID))
	e.granted[k] = grant{version: e.version[user]}
	return space
}

func (e *episode) remove() string {
	space := e.space()
	actor := e.someone(func(u string) bool {
		return e.m.IsSpaceAdmin(u, space) || e.m.Holds(u, space, model.RoleBindingDelete)
	}, e.actor)
	user := e.someone(func(u string) bool {
		_, ok := e.m.SpaceMembers[model.Key{Of: space, User: u}]
		return ok
	}, func() string { return e.target(actor) })
	what := fmt.Sprintf("remove actor=%s space=%s user=%s", e.w.name(actor), e.w.name(space), e.w.name(user))
	want := e.m.Remove(actor, space, user)
	err := e.svc.RemoveUserFromSpace(e.ctx, membership.RemoveUserRequest{
		Actor: membership.ID(actor), SpaceID: membership.ID(space), UserID: membership.ID(user),
	})
	e.outcome(what, want, err, space, actor, user)
	e.count("remove", want)
	if want != model.OK {
		return space
	}
	if !e.m.MayRemove(actor, space, user) {
		e.fail("%s succeeded, but the actor has no authority for it", what)
	}
	e.m.DeleteMember(space, user)
	delete(e.granted, model.Key{Of: space, User: user})
	return space
}

// list asks for a page, mostly small ones, often following the walk of the
// space, now and then with a cursor of another space or none that was ever
// issued.
func (e *episode) list() {
	space := e.space()
	actor := e.someone(func(u string) bool { return e.m.CanRead(u, space) }, e.actor)
	limit := pick[int](e.rng, 30, 1, 25, 2, 15, 3, 10, 0, 10, 100, 4, 5, 3, -1, 3, 101)
	cursor, cursorName := "", "none"
	switch x := e.rng.IntN(100); {
	case x < 45:
	case x < 88:
		if c, ok := e.walks[space]; ok {
			cursor, cursorName = c, "walk"
		}
	case x < 94:
		var others []issuedCursor
		for _, c := range e.issued {
			if c.space != space {
				others = append(others, c)
			}
		}
		if len(others) > 0 {
			c := others[e.rng.IntN(len(others))]
			cursor, cursorName = c.cursor, "of "+e.w.name(c.space)
		}
	default:
		cursor = e.anyOf([]string{"bm90IGEgY3Vyc29y", "m1:", "%%%"})
		cursorName = fmt.Sprintf("%q", cursor)
	}
	what := fmt.Sprintf("list actor=%s space=%s limit=%d cursor=%s", e.w.name(actor), e.w.name(space), limit, cursorName)
	want, members, more := e.m.List(actor, space, limit, cursor)
	page, err := e.svc.ListSpaceMembers(e.ctx, membership.ListMembersRequest{
		Actor: membership.ID(actor), SpaceID: membership.ID(space), Limit: limit, Cursor: cursor,
	})
	if err == nil {
		what += fmt.Sprintf(" (%d members, has_more=%v)", len(page.Members), page.HasMore)
	}
	e.outcome(what, want, err, space, actor)
	e.count("list", want)
	if want != model.OK {
		return
	}
	if len(page.Members) != len(members) || page.HasMore != more {
		e.fail("%s: the service listed %s has_more=%v, the model %s has_more=%v",
			what, e.pageNames(page.Members), page.HasMore, e.modelNames(members), more)
	}
	for i, got := range page.Members {
		want := members[i]
		if string(got.UserID) != want.User || string(got.ID) != want.ID || string(got.SpaceID) != space ||
			!sameRole(got.Role, want.Role) || got.Role.Spelling != membership.SpellingUpper {
			e.fail("%s: member %d is %+v, the model has %s with id %s and role %s",
				what, i, got, e.w.name(want.User), want.ID, e.w.roleName(want.Role))
		}
	}
	switch {
	case page.HasMore != (page.NextCursor != ""):
		e.fail("%s: has_more=%v with next_cursor %q", what, page.HasMore, page.NextCursor)
	case page.HasMore:
		last := members[len(members)-1].User
		e.m.Issued(page.NextCursor, space, last)
		e.walks[space] = page.NextCursor
		e.issued = append(e.issued, issuedCursor{page.NextCursor, space})
	default:
		delete(e.walks, space)
	}
}

func (e *episode) pageNames(ms []membership.Membership) string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = e.w.name(string(m.UserID))
	}
	return "[" + strings.Join(names, " ") + "]"
}

func (e *episode) modelNames(ms []model.Listed) string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = e.w.name(m.User)
	}
	return "[" + strings.Join(names, " ") + "]"
}

// usersOfA returns the users of A that exist now.
func (e *episode) usersOfA() []string {
	if e.lateUserExists {
		return append(slices.Clone(e.w.users), e.w.late)
	}
	return e.w.users
}

// putOrganizationMember changes or adds an organization role of a user of A,
// to any role: custom roles of B, missing ones and the late one included
// (an organization membership may name a role that does not exist). A
// Seeder only upserts, so it cannot leave a space membership without its
// organization membership.
func (e *episode) putOrganizationMember() {
	org, user := e.anyOf(e.w.orgs), e.anyOf(e.usersOfA())
	var role model.Role
	if e.rng.IntN(100) < 55 {
		role = model.P(pick[string](e.rng, 30, model.Admin, 25, model.Member, 25, model.ReadOnly, 20, model.Annotator))
	} else {
		role = model.C(pick[string](e.rng, 75, e.anyOf(e.w.roles), 15, e.w.roleB, 10, e.w.noRole))
	}
	e.record(fmt.Sprintf("store: organization role of %s in %s := %s", e.w.name(user), e.w.name(org), e.w.roleName(role)))
	e.catchUpAuditLog()
	put := assignment(role, e.spelling())
	err := e.store.PutOrganizationMember(e.ctx, membership.OrganizationMember{
		OrganizationID: membership.ID(org), UserID: membership.ID(user), Role: put,
	})
	if err != nil {
		e.fail("PutOrganizationMember: %v", err)
	}
	e.replay.PutOrganizationMember(membership.ID(org), membership.ID(user), put)
	k := model.Key{Of: org, User: user}
	old, existed := e.m.OrgMembers[k]
	got := e.readOrgMember(org, user)
	switch {
	case got == nil:
		e.fail("PutOrganizationMember of %s in %s stored nothing", e.w.name(user), e.w.name(org))
	case existed && string(got.ID) != old.ID:
		e.fail("PutOrganizationMember gave the existing membership %s the new id %s", old.ID, got.ID)
	case !existed:
		e.newID(string(got.ID))
	}
	e.m.PutOrgMember(org, user, role, string(got.ID))
	delete(e.granted, k)
	e.checkOrgMember(org, user)
	e.count("store.organization_member", model.OK)
}

// putUser changes the account role of a user of A, or creates the late one.
func (e *episode) putUser() {
	user := e.anyOf(append(slices.Clone(e.w.users), e.w.late))
	role := pickAccountRole(e.rng)
	e.record(fmt.Sprintf("store: account role of %s := %s", e.w.name(user), role))
	if err := e.store.PutUser(e.ctx, userRecord(user, e.w.acctA, role)); err != nil {
		e.fail("PutUser: %v", err)
	}
	if user == e.w.late {
		e.lateUserExists = true
	}
	e.m.Users[user] = model.User{Account: e.w.acctA, Role: role}
	e.version[user]++
	e.count("store.user", model.OK)
}

// putCustomRole redraws a custom role's permissions (and display name), or
// creates the late role.
func (e *episode) putCustomRole() {
	id := pick[string](e.rng, 85, e.anyOf(e.w.roles), 15, e.w.roleB)
	account := e.w.acctA
	if id == e.w.roleB {
		account = e.w.acctB
	}
	var perms []string
	for _, p := range []string{model.RoleBindingCreate, model.RoleBindingDelete, model.RoleBindingRead, "PROJECT_READ"} {
		if e.rng.IntN(2) == 0 {
			perms = append(perms, p)
		}
	}
	e.rng.Shuffle(len(perms), func(i, j int) { perms[i], perms[j] = perms[j], perms[i] })
	name := fmt.Sprintf("%s-%d", e.w.roleBaseNames[id], e.step)
	e.record(fmt.Sprintf("store: custom role %s := %v", name, perms))
	if err := e.store.PutCustomRole(e.ctx, roleRecord(id, account, name, perms)); err != nil {
		e.fail("PutCustomRole: %v", err)
	}
	if id == e.w.lateRole {
		e.lateRoleExists = true
	}
	e.m.Roles[id] = model.CustomRole{Account: account, Name: name, Perms: perms}
	e.count("store.custom_role", model.OK)
}

// putSpaceMember sets a space role of a user of A directly, with no
// decision: any predefined role, or a custom role of A that exists (a
// space membership's custom role must exist in the space's account), to a
// member of the space's organization (the store refuses anyone else).
func (e *episode) putSpaceMember() string {
	space := e.anyOf(e.w.spaces)
	org := e.m.Spaces[space].Org
	var members []string
	for _, u := range e.usersOfA() {
		if _, ok := e.m.OrgMembers[model.Key{Of: org, User: u}]; ok {
			members = append(members, u)
		}
	}
	if len(members) == 0 {
		return ""
	}
	user := e.anyOf(members)
	var role model.Role
	if e.rng.IntN(100) < 60 {
		role = model.P(pick[string](e.rng, 30, model.Admin, 25, model.Member, 25, model.ReadOnly, 20, model.Annotator))
	} else {
		roles := e.w.roles[:len(e.w.roles)-1]
		if e.lateRoleExists {
			roles = e.w.roles
		}
		role = model.C(e.anyOf(roles))
	}
	e.record(fmt.Sprintf("store: space role of %s in %s := %s", e.w.name(user), e.w.name(space), e.w.roleName(role)))
	e.catchUpAuditLog()
	put := assignment(role, e.spelling())
	got, err := e.store.PutSpaceMember(e.ctx, membership.ID(space), membership.ID(user), put)
	if err != nil {
		e.fail("PutSpaceMember: %v", err)
	}
	e.replay.PutSpaceMember(membership.ID(space), membership.ID(user), put)
	k := model.Key{Of: space, User: user}
	if old, ok := e.m.SpaceMembers[k]; ok {
		if string(got.ID) != old.ID {
			e.fail("PutSpaceMember gave the existing membership %s the new id %s", old.ID, got.ID)
		}
	} else {
		e.newID(string(got.ID))
	}
	e.m.PutMember(space, user, role, string(got.ID))
	delete(e.granted, k)
	e.count("store.space_member", model.OK)
	return space
}

// read returns every membership of space as the store holds it, in the
// store's order, through a plain read with no decision.
func (e *episode) read(space string) []membership.Membership {
	e.t.Helper()
	_, page, err := e.store.Read(e.ctx, membership.Query{
		Operation: membership.OperationList, Actor: membership.ID(e.w.users[0]), SpaceID: membership.ID(space),
		Page: &membership.PageQuery{Limit: membership.MaxPageSize},
	})
	if err != nil {
		e.fail("reading the members of %s: %v", e.w.name(space), err)
	}
	if page.More {
		e.fail("%s has more than %d members: the world is too large for one read", e.w.name(space), membership.MaxPageSize)
	}
	return page.Members
}

// checkStore checks the invariants on what the store holds in the spaces:
// exactly the model's memberships (so nothing changed that the model did not
// allow), one per user, in user id order, with distinct ids; and no
// membership the service granted breaks the annotator pairing, for as long
// as its user's account role is the one it was granted under.
func (e *episode) checkStore(spaces ...string) {
	e.t.Helper()
	ids := map[membership.ID]bool{}
	for _, space := range spaces {
		got := e.read(space)
		want := e.m.Members(space)
		for i, m := range got {
			if i > 0 && got[i-1].UserID >= m.UserID {
				e.fail("the store holds %s twice in %s, or out of order", e.w.name(string(m.UserID)), e.w.name(space))
			}
			if ids[m.ID] {
				e.fail("two memberships share the id %s", m.ID)
			}
			ids[m.ID] = true
		}
		if len(got) != len(want) {
			e.fail("the store holds %s in %s, the model %s", e.pageNames(got), e.w.name(space), e.modelNames(want))
		}
		for i, m := range got {
			w := want[i]
			if string(m.UserID) != w.User || string(m.ID) != w.ID || string(m.SpaceID) != space || !sameRole(m.Role, w.Role) {
				e.fail("the store holds %+v in %s, the model %s with id %s and role %s",
					m, e.w.name(space), e.w.name(w.User), w.ID, e.w.roleName(w.Role))
			}
			k := model.Key{Of: space, User: w.User}
			g, ok := e.granted[k]
			if !ok || g.version != e.version[w.User] {
				continue
			}
			annotatorUser := e.m.Users[w.User].Role == model.AccountAnnotator
			annotatorRole := w.Role.Kind == model.Predefined && w.Role.Name == model.Annotator
			if annotatorUser != annotatorRole {
				e.fail("the service granted %s (account role %s) the role %s in %s",
					e.w.name(w.User), e.m.Users[w.User].Role, e.w.roleName(w.Role), e.w.name(space))
			}
		}
	}
}

// orgAdd adds a user to an organization, often one who is not a member yet
// (so that users removed come back), often with a role the pairing admits.
func (e *episode) orgAdd() {
	org := e.org()
	actor := e.someone(func(u string) bool { return e.m.IsOrgAdmin(u, org) }, e.actor)
	user := e.someonePct(50, func(u string) bool {
		_, ok := e.m.OrgMembers[model.Key{Of: org, User: u}]
		return !ok && u != e.w.userB
	}, func() string { return e.target(actor) })
	role := e.role()
	if u, ok := e.m.Users[user]; ok && e.rng.IntN(100) < 30 {
		if u.Role == model.AccountAnnotator {
			role = model.P(model.Annotator)
		} else {
			role = pick[model.Role](e.rng, 20, model.P(model.Admin), 30, model.P(model.Member), 20, model.P(model.ReadOnly),
				30, model.C(e.anyOf(e.w.roles)))
		}
	}
	sp := e.spelling()
	what := fmt.Sprintf("org_add actor=%s org=%s user=%s role=%s", e.w.name(actor), e.w.name(org), e.w.name(user), e.w.roleName(role))
	want := e.m.OrgAdd(actor, org, user, role)
	got, err := e.svc.AddUserToOrganization(e.ctx, membership.AddOrganizationUserRequest{
		Actor: membership.ID(actor), OrganizationID: membership.ID(org), UserID: membership.ID(user), Role: assignment(role, sp),
	})
	e.outcomeWith(what, want, err, func() string { return e.describeOrg(org, actor, user) })
	e.count("org_add", want)
	if want != model.OK {
		return
	}
	if !e.m.IsOrgAdmin(actor, org) {
		e.fail("%s succeeded, but the actor is no organization admin", what)
	}
	k := model.Key{Of: org, User: user}
	old, existed := e.m.OrgMembers[k]
	switch {
	case string(got.UserID) != user || string(got.OrganizationID) != org:
		e.fail("%s answered the membership of %s in %s", what, got.UserID, got.OrganizationID)
	case !sameRole(got.Role, role) || got.Role.Spelling != sp:
		e.fail("%s answered the role %+v", what, got.Role)
	case role.Kind == model.Custom && got.Role.DisplayName != e.m.Roles[role.ID].Name,
		role.Kind == model.Predefined && got.Role.DisplayName != "":
		e.fail("%s answered the display name %q, want %q", what, got.Role.DisplayName, e.m.Roles[role.ID].Name)
	case existed && string(got.ID) != old.ID:
		e.fail("%s gave the existing membership %s the new id %s", what, old.ID, got.ID)
	}
	if !existed {
		e.newID(string(got.ID))
	}
	e.m.PutOrgMember(org, user, role, string(got.ID))
	e.granted[k] = grant{version: e.version[user]}
	// An organization add leaves the user's space memberships alone.
	e.checkOrgMember(org, user)
	e.checkStore(e.spacesOf(org)...)
}

// orgRemove removes a user from an organization, most often one who holds
// memberships of its spaces, so that the cascade has something to do.
func (e *episode) orgRemove() {
	org := e.org()
	actor := e.someone(func(u string) bool { return e.m.IsOrgAdmin(u, org) }, e.actor)
	spaces := e.spacesOf(org)
	holds := func(u string) bool {
		for _, s := range spaces {
			if _, ok := e.m.SpaceMembers[model.Key{Of: s, User: u}]; ok {
				return true
			}
		}
		return false
	}
	member := func(u string) bool {
		_, ok := e.m.OrgMembers[model.Key{Of: org, User: u}]
		return ok
	}
	user := e.someonePct(50, holds, func() string {
		return e.someonePct(40, member, func() string { return e.target(actor) })
	})
	what := fmt.Sprintf("org_remove actor=%s org=%s user=%s", e.w.name(actor), e.w.name(org), e.w.name(user))
	want := e.m.OrgRemove(actor, org, user)
	view := e.describeOrg(org, actor, user) // before the cascade changes it
	err := e.svc.RemoveUserFromOrganization(e.ctx, membership.RemoveOrganizationUserRequest{
		Actor: membership.ID(actor), OrganizationID: membership.ID(org), UserID: membership.ID(user),
	})
	e.outcomeWith(what, want, err, func() string { return view })
	e.count("org_remove", want)
	if want != model.OK {
		return
	}
	if !e.m.IsOrgAdmin(actor, org) {
		e.fail("%s succeeded, but the actor is no organization admin", what)
	}
	gone := e.m.DeleteOrgMember(org, user)
	delete(e.granted, model.Key{Of: org, User: user})
	for _, k := range gone {
		delete(e.granted, k)
	}
	e.stats["org_remove.cascaded"] += len(gone)
	e.checkOrgMember(org, user)
	e.checkStore(spaces...)
}

// readOrgMember returns the membership of user in org as the store holds
// it, or nil, through a plain read with no decision.
func (e *episode) readOrgMember(org, user string) *membership.OrganizationMember {
	e.t.Helper()
	f, _, err := e.store.Read(e.ctx, membership.Query{
		Operation: membership.OperationOrgRemove, Actor: membership.ID(e.w.users[0]),
		OrganizationID: membership.ID(org), UserID: membership.ID(user),
	})
	if err != nil {
		e.fail("reading the membership of %s in %s: %v", e.w.name(user), e.w.name(org), err)
	}
	if f.Organization == nil {
		e.fail("reading the membership of %s in %s: the store holds no such organization", e.w.name(user), e.w.name(org))
	}
	return f.TargetOrganizationMember
}

// checkOrgs checks every organization membership of the orgs in the store.
func (e *episode) checkOrgs(orgs ...string) {
	e.t.Helper()
	ids := map[membership.ID]bool{}
	for _, org := range orgs {
		for _, user := range e.allUsers() {
			if got := e.checkOrgMember(org, user); got != nil {
				if ids[got.ID] {
					e.fail("two organization memberships share the id %s", got.ID)
				}
				ids[got.ID] = true
			}
		}
	}
}

// checkOrgMember checks that the store holds the model's membership of
// user in org, with its id and role, or none when the model has none; and
// that a membership the organization add granted keeps the annotator
// pairing, for as long as its user's account role is the one it was
// granted under. It returns what the store holds.
func (e *episode) checkOrgMember(org, user string) *membership.OrganizationMember {
	e.t.Helper()
	k := model.Key{Of: org, User: user}
	got := e.readOrgMember(org, user)
	want, ok := e.m.OrgMembers[k]
	switch {
	case got == nil && !ok:
		return nil
	case got == nil:
		e.fail("the store lacks the membership of %s in %s, the model has it with id %s and role %s",
			e.w.name(user), e.w.name(org), want.ID, e.w.roleName(want.Role))
	case !ok:
		e.fail("the store holds %+v, the model has no membership of %s in %s", *got, e.w.name(user), e.w.name(org))
	case string(got.ID) != want.ID || string(got.UserID) != user || string(got.OrganizationID) != org || !sameRole(got.Role, want.Role):
		e.fail("the store holds %+v, the model the membership of %s in %s with id %s and role %s",
			*got, e.w.name(user), e.w.name(org), want.ID, e.w.roleName(want.Role))
	}
	if g, ok := e.granted[k]; ok && g.version == e.version[user] {
		annotatorUser := e.m.Users[user].Role == model.AccountAnnotator
		annotatorRole := want.Role.Kind == model.Predefined && want.Role.Name == model.Annotator
		if annotatorUser != annotatorRole {
			e.fail("the service granted %s (account role %s) the role %s in %s",
				e.w.name(user), e.m.Users[user].Role, e.w.roleName(want.Role), e.w.name(org))
		}
	}
	return got
}

// catchUpAuditLog replays the entries committed since the last replay,
// before a direct change that leaves none, so that each entry meets the
// state it was committed on.
func (e *episode) catchUpAuditLog() {
	e.t.Helper()
	if err := e.replay.CatchUp(e.ctx, e.store); err != nil {
		e.fail("replaying the audit log: %v", err)
	}
}

// checkAuditLog checks that the changelog, replayed from the episode's
// fixture with the direct changes in their places, gives exactly the
// memberships the store holds.
func (e *episode) checkAuditLog() {
	e.t.Helper()
	diff, err := e.replay.Compare(e.ctx, e.store)
	switch {
	case err != nil:
		e.fail("replaying the audit log: %v", err)
	case diff != "":
		e.fail("the audit log replayed is not what the store holds (-store +replayed):\n%s", diff)
	}
}
