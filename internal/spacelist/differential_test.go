package spacelist_test

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/spaceauthz/spaceauthz/internal/pgtest"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
	"github.com/spaceauthz/spaceauthz/memstore"
	"github.com/spaceauthz/spaceauthz/pgstore"
	"github.com/spaceauthz/spaceauthz/policy"
)

var (
	seedFlag    = flag.Uint64("spacelist.seed", 0, "seed of the differential test (0: a new one, logged)")
	caseFlag    = flag.Int("spacelist.case", -1, "replay only this case of -spacelist.seed")
	memCases    = flag.Int("spacelist.memcases", 250, "cases on memstore")
	pgCasesFlag = flag.Int("spacelist.pgcases", 60, "cases on pgstore")
)

type store interface {
	membership.Store
	membership.Seeder
}

// TestListMatchesGetSpace: on random worlds, under random host rules, for
// random callers and filters, a walk of every page of ListSpaces lists
// exactly the spaces GetSpace answers for, narrowed by the filters, each
// once and in id order. Where every host rule is one the engine should
// translate, the read filter must be exact, so that the list is the
// store's query alone. A failure names the seed and the case;
// -spacelist.seed and -spacelist.case replay it.
func TestListMatchesGetSpace(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (replay: go test ./internal/spacelist/ -spacelist.seed=%d, and -spacelist.case=N for one case)", seed, seed)
	var stats exactness
	t.Run("memstore", func(t *testing.T) {
		t.Parallel()
		runCases(t, seed, *memCases, &stats, func(t *testing.T) store { return memstore.New() })
	})
	t.Run("pgstore", func(t *testing.T) {
		t.Parallel()
		s := newPGStore(t) // skipped without a database, as pgtest.DSN says
		runCases(t, seed, *pgCasesFlag, nil, func(*testing.T) store { return s })
	})
	t.Cleanup(func() { stats.log(t) })
}

// newPGStore returns a migrated store in a schema of its own. Every case's
// ids are its own, so that the cases share it.
func newPGStore(t *testing.T) *pgstore.Store {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(pgtest.Schema(t, "spacelist"))
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
	return s
}

// runCases runs n cases, in parallel, each on the store newStore returns.
func runCases(t *testing.T, seed uint64, n int, stats *exactness, newStore func(*testing.T) store) {
	for c := range n {
		if *caseFlag >= 0 && c != *caseFlag {
			continue
		}
		t.Run(strconv.Itoa(c), func(t *testing.T) {
			t.Parallel()
			runCase(t, seed, c, newStore(t), stats)
		})
	}
}

func id(name string) membership.ID {
	return membership.ID(base64.StdEncoding.EncodeToString([]byte(name)))
}

// world is one case's records. Its ids carry the case's number, so that
// cases sharing a store never meet.
type world struct {
	fixture *fixture.Fixture
	// late are organization memberships that a fixture refuses (a custom
	// role of another account, or of none), seeded after it.
	late   []membership.OrganizationMember
	spaces []membership.Space
	users  []membership.User
	orgs   []membership.Organization
	// missing ids: of a user, of an organization.
	noUser, noOrg membership.ID
}

// The pieces that space names are made of: mixed case, letters whose
// folding goes beyond ASCII (the Kelvin sign, the long s, the sharp s,
// Greek final sigma), accents.
var namePieces = []string{
	"Alpha", "beta", "ÉTÉ", "été", "straße", "STRASSE", "\u212Aelvin", "kelvin", "x-ray", "Xylo",
	"Δέλτα", "δέλτας", "ΣΊΣΥΦΟΣ", "evals", "RED", "red-team", "\u017Ftar", "Ünï", "llm", "Ω", "ω9",
}

var (
	accountRoles = []membership.AccountRole{membership.AccountAdmin, membership.AccountMember, membership.AccountAnnotator}
	roleNames    = []membership.PredefinedRole{membership.RoleAdmin, membership.RoleMember, membership.RoleReadOnly, membership.RoleAnnotator}
	permissions  = []membership.Permission{membership.PermissionRoleBindingCreate, "ROLE_BINDING_DELETE", "PROJECT_READ"}
	emails       = []string{"a@x.io", "ada@example.com", "grace.hopper@example.com", "k@example.org"}
)

func newWorld(r *rand.Rand, c int) *world {
	w := &world{fixture: &fixture.Fixture{}}
	name := func(kind string, i ...int) membership.ID {
		s := fmt.Sprintf("c%d/%s", c, kind)
		for _, n := range i {
			s += ":" + strconv.Itoa(n)
		}
		return id(s)
	}
	w.noUser, w.noOrg = name("User:none"), name("Org:none")
	f := w.fixture
	accounts := 1 + r.IntN(2)
	var roles [][]membership.CustomRole
	for a := range accounts {
		acc := membership.Account{ID: name("Account", a)}
		f.Accounts = append(f.Accounts, acc)
		var own []membership.CustomRole
		for i := range 1 + r.IntN(3) {
			var perms []membership.Permission
			for _, p := range permissions {
				if r.IntN(2) == 0 {
					perms = append(perms, p)
				}
			}
			own = append(own, membership.CustomRole{ID: name("Role", a, i), AccountID: acc.ID, Name: "role", Permissions: perms})
		}
		roles = append(roles, own)
		f.Roles = append(f.Roles, own...)
	}
	for a, acc := range f.Accounts {
		var users []membership.User
		for i := range 3 + r.IntN(4) {
			u := membership.User{ID: name("User", a, i), AccountID: acc.ID, Name: "U" + strconv.Itoa(i), Email: emails[r.IntN(len(emails))], Role: accountRoles[r.IntN(len(accountRoles))]}
			users = append(users, u)
		}
		f.Users = append(f.Users, users...)
		for o := range 2 + r.IntN(3) {
			org := membership.Organization{ID: name("Org", a, o), AccountID: acc.ID, Name: namePieces[r.IntN(len(namePieces))]}
			f.Organizations = append(f.Organizations, org)
			members := map[membership.ID]bool{}
			for _, u := range users {
				if r.IntN(3) == 0 {
					continue
				}
				m := membership.OrganizationMember{OrganizationID: org.ID, UserID: u.ID}
				late := false
				switch k := r.IntN(10); {
				case k < 6:
					m.Role = membership.Predefined(roleNames[r.IntN(len(roleNames))])
				case k < 8 || k == 8 && accounts == 1:
					m.Role = membership.Custom(roles[a][r.IntN(len(roles[a]))].ID)
				case k == 8:
					other := roles[1-a]
					m.Role, late = membership.Custom(other[r.IntN(len(other))].ID), true
				default:
					m.Role, late = membership.Custom(name("Role:none")), true
				}
				if late {
					w.late = append(w.late, m)
					continue
				}
				f.OrganizationMembers = append(f.OrganizationMembers, m)
				members[u.ID] = true
			}
			for s := range 1 + r.IntN(5) {
				sp := membership.Space{ID: name("Space", a, o, s), OrganizationID: org.ID, Name: spaceName(r), IsPrivate: r.IntN(2) == 0}
				f.Spaces = append(f.Spaces, sp)
				for _, u := range users {
					if !members[u.ID] || r.IntN(3) != 0 {
						continue
					}
					role := membership.Predefined(roleNames[r.IntN(len(roleNames))])
					if r.IntN(3) == 0 {
						role = membership.Custom(roles[a][r.IntN(len(roles[a]))].ID)
					}
					f.SpaceMembers = append(f.SpaceMembers, fixture.SpaceMember{SpaceID: sp.ID, UserID: u.ID, Role: role})
				}
			}
		}
	}
	w.spaces, w.users, w.orgs = f.Spaces, f.Users, f.Organizations
	return w
}

func spaceName(r *rand.Rand) string {
	seps := []string{" ", "-", "_", ""}
	var b strings.Builder
	for i := range 1 + r.IntN(3) {
		if i > 0 {
			b.WriteString(seps[r.IntN(len(seps))])
		}
		b.WriteString(namePieces[r.IntN(len(namePieces))])
	}
	return b.String()
}

func (w *world) seed(t *testing.T, s store) {
	t.Helper()
	ctx := context.Background()
	if err := fixture.Seed(ctx, s, w.fixture); err != nil {
		t.Fatalf("seeding: %v", err)
	}
	for _, m := range w.late {
		if err := s.PutOrganizationMember(ctx, m); err != nil {
			t.Fatalf("seeding %+v: %v", m, err)
		}
	}
}

// A ruleTemplate makes one host rule: the body of a violation, and the data
// it reads. A translatable one is a rule the engine's read filter should
// state exactly.
type ruleTemplate struct {
	name         string
	translatable bool
	body         func(r *rand.Rand, w *world) (string, map[string]any)
}

func quote(s string) string { return strconv.Quote(s) }

func (w *world) anySpace(r *rand.Rand) membership.Space { return w.spaces[r.IntN(len(w.spaces))] }

// namePart is a run of one to three characters of a name in the world.
func (w *world) namePart(r *rand.Rand) string {
	runes := []rune(w.anySpace(r).Name)
	i := r.IntN(len(runes))
	j := min(len(runes), i+1+r.IntN(3))
	return string(runes[i:j])
}

var ruleTemplates = []ruleTemplate{
	{"hidden by data", true, func(r *rand.Rand, w *world) (string, map[string]any) {
		hidden := []any{string(w.noOrg)}
		for _, sp := range w.spaces {
			if r.IntN(3) == 0 {
				hidden = append(hidden, string(sp.ID))
			}
		}
		return "input.space.id in data.hidden", map[string]any{"hidden": hidden}
	}},
	{"one space by id", true, func(r *rand.Rand, w *world) (string, map[string]any) {
		return "input.space.id == " + quote(string(w.anySpace(r).ID)), nil
	}},
	{"outside one organization", true, func(r *rand.Rand, w *world) (string, map[string]any) {
		return "input.organization.id != " + quote(string(w.orgs[r.IntN(len(w.orgs))].ID)), nil
	}},
	{"name prefix", true, func(r *rand.Rand, w *world) (string, map[string]any) {
		runes := []rune(w.anySpace(r).Name)
		return "startswith(input.space.name, " + quote(string(runes[:min(len(runes), 1+r.IntN(2))])) + ")", nil
	}},
	{"name contains", true, func(r *rand.Rand, w *world) (string, map[string]any) {
		return "contains(input.space.name, " + quote(w.namePart(r)) + ")", nil
	}},
	{"not a name suffix", true, func(r *rand.Rand, w *world) (string, map[string]any) {
		runes := []rune(w.anySpace(r).Name)
		return "not endswith(input.space.name, " + quote(string(runes[len(runes)-1:])) + ")", nil
	}},
	{"custom space role", true, func(*rand.Rand, *world) (string, map[string]any) {
		return `input.actor.space_role.type == "CUSTOM"`, nil
	}},
	{"private unless account admin", true, func(*rand.Rand, *world) (string, map[string]any) {
		return "input.space.is_private == true\n\tnot input.actor.role == \"ADMIN\"", nil
	}},
	// The same rule with the bare boolean, which Rego takes as "defined and
	// not false".
	{"private unless account admin, bare boolean", true, func(*rand.Rand, *world) (string, map[string]any) {
		return "input.space.is_private\n\tnot input.actor.role == \"ADMIN\"", nil
	}},
	{"permission of a custom organization role", true, func(*rand.Rand, *world) (string, map[string]any) {
		return `"PROJECT_READ" in input.actor.organization_role.custom_role.permissions`, nil
	}},
	{"annotator without a space role", true, func(*rand.Rand, *world) (string, map[string]any) {
		return "input.actor.role == \"ANNOTATOR\"\n\tnot is_object(input.actor.space_role)", nil
	}},
	{"read-only organization role on read", true, func(*rand.Rand, *world) (string, map[string]any) {
		return "input.operation == \"read\"\n\tinput.actor.organization_role.name == \"READ_ONLY\"", nil
	}},
	{"organization name prefix", true, func(r *rand.Rand, w *world) (string, map[string]any) {
		runes := []rune(w.orgs[r.IntN(len(w.orgs))].Name)
		return "startswith(input.organization.name, " + quote(string(runes[:1])) + ")", nil
	}},
	{"not in a set of organizations", true, func(r *rand.Rand, w *world) (string, map[string]any) {
		a, b := w.orgs[r.IntN(len(w.orgs))].ID, w.orgs[r.IntN(len(w.orgs))].ID
		return "not input.space.organization_id in {" + quote(string(a)) + ", " + quote(string(b)) + "}", nil
	}},
	{"add only", true, func(*rand.Rand, *world) (string, map[string]any) {
		return "input.operation == \"add\"\n\tinput.space.is_private", nil
	}},
	{"remove only", true, func(r *rand.Rand, w *world) (string, map[string]any) {
		return "input.operation == \"remove\"\n\tinput.space.id == " + quote(string(w.anySpace(r).ID)), nil
	}},
	{"one actor by id", true, func(r *rand.Rand, w *world) (string, map[string]any) {
		return "input.actor.id == " + quote(string(w.users[r.IntN(len(w.users))].ID)), nil
	}},
	// A read has no target, role or membership: rules on them see null.
	{"target's role", true, func(*rand.Rand, *world) (string, map[string]any) {
		return `input.target.role == "MEMBER"`, nil
	}},
	{"private, with no target", true, func(*rand.Rand, *world) (string, map[string]any) {
		return "not is_object(input.target)\n\tinput.space.is_private == true", nil
	}},
	{"no membership, name prefix", true, func(r *rand.Rand, w *world) (string, map[string]any) {
		runes := []rune(w.anySpace(r).Name)
		return "input.membership == null\n\tstartswith(input.space.name, " + quote(string(runes[:1])) + ")", nil
	}},
	{"regex on the name", false, func(r *rand.Rand, w *world) (string, map[string]any) {
		pats := []string{"^[A-Z]", "[0-9]", "é", "(?i)^x", "a$"}
		return "regex.match(" + quote(pats[r.IntN(len(pats))]) + ", input.space.name)", nil
	}},
	{"lower-case name", false, func(r *rand.Rand, w *world) (string, map[string]any) {
		return "lower(input.space.name) == " + quote(strings.ToLower(w.anySpace(r).Name)), nil
	}},
	{"long email", false, func(*rand.Rand, *world) (string, map[string]any) {
		return "count(input.actor.email) > 12", nil
	}},
	{"formatted name", false, func(r *rand.Rand, w *world) (string, map[string]any) {
		return "sprintf(\"%s!\", [input.space.name]) == " + quote(w.anySpace(r).Name+"!"), nil
	}},
}

// ruleSet is the host rules of one case.
type ruleSet struct {
	templates []int
	opts      []policy.Option
	source    strings.Builder
}

func newRuleSet(r *rand.Rand, w *world) *ruleSet {
	rs := &ruleSet{}
	if r.IntN(8) == 0 {
		return rs
	}
	n := 1 + r.IntN(3)
	if r.IntN(2) == 0 {
		n = 1
	}
	rs.templates = r.Perm(len(ruleTemplates))[:n]
	slices.Sort(rs.templates)
	for i, ti := range rs.templates {
		tmpl := ruleTemplates[ti]
		body, data := tmpl.body(r, w)
		module := fmt.Sprintf("package spaceauthz\n\nviolations contains {\"code\": \"host_%d\", \"rule\": %s} if {\n\t%s\n}\n", i, quote(tmpl.name), body)
		rs.opts = append(rs.opts, policy.WithModule(fmt.Sprintf("host%d.rego", i), module))
		if data != nil {
			rs.opts = append(rs.opts, policy.WithData(data))
		}
		fmt.Fprintf(&rs.source, "# %s\n%s", tmpl.name, module)
		if data != nil {
			fmt.Fprintf(&rs.source, "# data %v\n", data)
		}
	}
	return rs
}

func (rs *ruleSet) translatable() bool {
	for _, ti := range rs.templates {
		if !ruleTemplates[ti].translatable {
			return false
		}
	}
	return true
}

// exactness counts, per template, the cases whose read filter came out
// exact.
type exactness struct {
	mu sync.Mutex
	// by template name (or "no host rule"): cases, exact ones, and the same
	// for cases with that template alone.
	cases, exact, alone, aloneExact map[string]int
}

func (e *exactness) add(rs *ruleSet, exact bool) {
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cases == nil {
		e.cases, e.exact, e.alone, e.aloneExact = map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	}
	names := []string{"no host rule"}
	if len(rs.templates) > 0 {
		names = nil
		for _, ti := range rs.templates {
			names = append(names, ruleTemplates[ti].name)
		}
	}
	for _, n := range names {
		e.cases[n]++
		if exact {
			e.exact[n]++
		}
		if len(names) == 1 {
			e.alone[n]++
			if exact {
				e.aloneExact[n]++
			}
		}
	}
}

func (e *exactness) log(t *testing.T) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var b strings.Builder
	names := []string{"no host rule"}
	for _, tmpl := range ruleTemplates {
		names = append(names, tmpl.name)
	}
	for _, n := range names {
		if e.cases[n] == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n\t%-42s exact in %3d of %3d cases; alone: %3d of %3d", n, e.exact[n], e.cases[n], e.aloneExact[n], e.alone[n])
	}
	t.Logf("read filters on memstore's cases, by host rule:%s", b.String())
}

// listRequest is one request of a case: a caller and the filters.
type listRequest struct {
	actor membership.ID
	org   membership.ID
	name  string
	limit int
}

func (w *world) requests(r *rand.Rand) []listRequest {
	var out []listRequest
	for range 5 {
		actor := w.noUser
		if r.IntN(8) != 0 {
			actor = w.users[r.IntN(len(w.users))].ID
		}
		for range 3 {
			q := listRequest{actor: actor, limit: []int{0, 1, 2, 3, 5, 100}[r.IntN(6)]}
			switch r.IntN(6) {
			case 0, 1:
				q.org = w.orgs[r.IntN(len(w.orgs))].ID // of either account
			case 2:
				q.org = w.noOrg
			}
			switch r.IntN(6) {
			case 0, 1:
				part := w.namePart(r)
				switch r.IntN(3) {
				case 0:
					part = strings.ToUpper(part)
				case 1:
					part = strings.ToLower(part)
				}
				q.name = part
			case 2:
				q.name = namePieces[r.IntN(len(namePieces))]
			case 3:
				q.name = "zz-nothing"
			}
			out = append(out, q)
		}
	}
	return out
}

// defaultEngine is the engine of the cases with no host rule, prepared
// once: preparing a policy costs more than the rest of a case.
var defaultEngine = sync.OnceValues(func() (*policy.Engine, error) { return policy.New() })

func runCase(t *testing.T, seed uint64, c int, s store, stats *exactness) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(seed, uint64(c)))
	w := newWorld(r, c)
	rs := newRuleSet(r, w)
	requests := w.requests(r)
	w.seed(t, s)
	engine, err := defaultEngine()
	if len(rs.opts) > 0 {
		engine, err = policy.New(rs.opts...)
	}
	if err != nil {
		t.Fatalf("seed %d case %d: policy.New: %v\n%s", seed, c, err, rs.source.String())
	}
	filter := engine.ReadFilter()
	stats.add(rs, filter.Exact)
	if rs.translatable() && !filter.Exact {
		t.Errorf("seed %d case %d: the read filter of translatable rules is not exact: %v\n%s", seed, c, filter.Condition, rs.source.String())
	}
	svc, err := membership.NewService(s, engine)
	if err != nil {
		t.Fatal(err)
	}
	readable := map[membership.ID][]membership.Space{}
	for _, req := range requests {
		want, known := readable[req.actor]
		if !known {
			for _, sp := range w.spaces {
				got, err := svc.GetSpace(ctx, membership.GetSpaceRequest{Actor: req.actor, SpaceID: sp.ID})
				var e *membership.Error
				switch {
				case err == nil:
					want = append(want, got)
				case !errors.As(err, &e) || e.Status >= 500:
					t.Fatalf("seed %d case %d: GetSpace(%s as %s): %v", seed, c, sp.ID, req.actor, err)
				}
			}
			slices.SortFunc(want, func(a, b membership.Space) int { return strings.Compare(string(a.ID), string(b.ID)) })
			readable[req.actor] = want
		}
		want = slices.DeleteFunc(slices.Clone(want), func(sp membership.Space) bool {
			return req.org != "" && sp.OrganizationID != req.org ||
				!strings.Contains(membership.FoldName(sp.Name), membership.FoldName(req.name))
		})
		got, err := walk(ctx, svc, req)
		report := func(format string, args ...any) {
			t.Helper()
			t.Errorf("seed %d case %d: ListSpaces(actor %s, org %q, name %q, limit %d): %s\nread filter (exact %v): %v\nhost rules:\n%s",
				seed, c, req.actor, req.org, req.name, req.limit, fmt.Sprintf(format, args...), filter.Exact, filter.Condition, rs.source.String())
		}
		if req.actor == w.noUser {
			if !errors.Is(err, membership.ErrUnauthenticated) {
				report("an actor that names no user: %v (listed %d), want ErrUnauthenticated", err, len(got))
			}
			continue
		}
		if err != nil {
			report("%v", err)
			continue
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			report("the list differs from GetSpace space by space (-GetSpace +ListSpaces):\n%s", diff)
		}
	}
}

// walk reads every page of req, cursor by cursor.
func walk(ctx context.Context, svc *membership.Service, req listRequest) ([]membership.Space, error) {
	lr := membership.ListSpacesRequest{Actor: req.actor, OrganizationID: req.org, Name: req.name, Limit: req.limit}
	limit := req.limit
	if limit == 0 {
		limit = membership.DefaultPageSize
	}
	var all []membership.Space
	for pages := 0; ; pages++ {
		if pages > 1000 {
			return all, errors.New("the walk does not end")
		}
		page, err := svc.ListSpaces(ctx, lr)
		if err != nil {
			return all, err
		}
		if len(page.Spaces) > limit {
			return all, fmt.Errorf("a page of %d holds %d spaces", limit, len(page.Spaces))
		}
		if page.HasMore != (page.NextCursor != "") {
			return all, fmt.Errorf("a page says more follow %v with the cursor %q", page.HasMore, page.NextCursor)
		}
		all = append(all, page.Spaces...)
		if !page.HasMore {
			return all, nil
		}
		lr.Cursor = page.NextCursor
	}
}
