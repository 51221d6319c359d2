package main

import (
	"reflect"
	"slices"
	"testing"

	memdb "github.com/hashicorp/go-memdb"

	"github.com/spaceauthz/spaceauthz/membership"
)

// The traffic world and stream: the benchmarks' numbers mean something
// only if the stream has the shape the package doc promises.

func TestTrafficWorldIsValid(t *testing.T) {
	t.Parallel()
	for _, accounts := range []int{1, 3, 40} {
		w := newTrafficWorld(accounts)
		spaces := map[bool]int{} // by privacy
		if err := w.fixture().Validate(); err != nil {
			t.Errorf("%d accounts: %v", accounts, err)
		}
		for a, acc := range w.accounts {
			roles := map[membership.AccountRole]int{}
			for _, u := range acc.users {
				roles[u.role]++
			}
			if len(acc.users) != usersPerAccount || roles[membership.AccountAdmin] < 2 || roles[membership.AccountAnnotator] < 3 ||
				len(acc.organizations) < 2 || len(acc.organizations) > maxOrganizations {
				t.Errorf("account %d: %d users with roles %v, %d organizations", a, len(acc.users), roles, len(acc.organizations))
			}
			for _, o := range acc.organizations {
				if len(o.spaces) < 2 || len(o.spaces) > maxSpacesPerOrganization {
					t.Errorf("account %d: an organization with %d spaces", a, len(o.spaces))
				}
				for _, s := range o.spaces {
					spaces[s.private]++
				}
			}
			if !slices.Contains(acc.binder.Permissions, membership.PermissionRoleBindingCreate) || slices.Contains(acc.reader.Permissions, membership.PermissionRoleBindingCreate) {
				t.Errorf("account %d: binder %v, reader %v", a, acc.binder.Permissions, acc.reader.Permissions)
			}
		}
		if accounts > 1 && (spaces[true] == 0 || spaces[false] == 0) {
			t.Errorf("%d accounts: %d private and %d public spaces, want both", accounts, spaces[true], spaces[false])
		}
	}
}

// TestTrafficWorldsNest: a smaller world is the beginning of a larger one,
// so that every size draws on the same accounts.
func TestTrafficWorldsNest(t *testing.T) {
	t.Parallel()
	small, large := newTrafficWorld(5), newTrafficWorld(50)
	if !reflect.DeepEqual(small.accounts, large.accounts[:5]) {
		t.Error("the world of 5 accounts is not the first 5 accounts of the world of 50")
	}
}

func TestTrafficWorldHolding(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 100, 10_000} {
		w := trafficWorldHolding(n)
		fewer := &trafficWorld{accounts: w.accounts[:len(w.accounts)-1]}
		if w.spaceMemberships() < n || len(fewer.accounts) > 0 && fewer.spaceMemberships() >= n {
			t.Errorf("trafficWorldHolding(%d): %d accounts, %d memberships", n, len(w.accounts), w.spaceMemberships())
		}
	}
}

// TestTrafficStreamShape checks the promises of traffic_requests.go on a
// small world: allowed and denied both common, every answer of the policy
// present, a few requests across accounts, every kind of role asked for.
func TestTrafficStreamShape(t *testing.T) {
	t.Parallel()
	n := 20_000
	if testing.Short() {
		n = 5_000
	}
	s, err := trafficStreamOver(100)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := s.prefix(n)
	if err != nil {
		t.Fatal(err)
	}
	shape := shapeOf(cases)
	if allowed := shape.share(shape.Allowed); allowed < 0.20 || allowed > 0.40 {
		t.Errorf("%.3f of the requests are allowed, want 0.20 to 0.40", allowed)
	}
	if cross := shape.share(shape.CrossAccount); cross < 0.02 || cross > 0.04 {
		t.Errorf("%.3f of the requests cross accounts, want about %.2f", cross, crossAccountShare)
	}
	for _, code := range deniedCodes {
		if shape.Denied[code] == 0 {
			t.Errorf("no request is denied with %s: %v", code, shape.Denied)
		}
	}
	kinds := map[string]int{}
	for _, c := range cases {
		r := c.facts.Query.Role
		switch {
		case r.Kind == membership.RoleKindPredefined:
			kinds[r.Name.String()]++
		case c.facts.CustomRole == nil:
			kinds["unknown custom"]++
		default:
			kinds[c.facts.CustomRole.Name]++
		}
	}
	for _, kind := range []string{"ADMIN", "MEMBER", "READ_ONLY", "ANNOTATOR", "Binder", "Reader", "unknown custom"} {
		if kinds[kind] == 0 {
			t.Errorf("no request asks for %s: %v", kind, kinds)
		}
	}
}

// TestTrafficStreamIsDeterministic: two drawers over equal worlds draw the
// same requests, and the stream does not repeat itself.
func TestTrafficStreamIsDeterministic(t *testing.T) {
	t.Parallel()
	const n = 2_000
	a, b := newRequestDrawer(newTrafficWorld(100)), newRequestDrawer(newTrafficWorld(100))
	distinct := map[membership.AddUserRequest]bool{}
	for k := range n {
		ra, rb := a.draw(k), b.draw(k)
		if !reflect.DeepEqual(ra, rb) {
			t.Fatalf("request %d: %+v, then %+v", k, ra, rb)
		}
		distinct[ra.req] = true
	}
	if len(distinct) < n*9/10 {
		t.Errorf("%d distinct requests in %d", len(distinct), n)
	}
}

// TestTrafficStreamGathersAlike: what replay gathers past the kept prefix
// is what the prefix would hold.
func TestTrafficStreamGathersAlike(t *testing.T) {
	t.Parallel()
	s, err := trafficStreamOver(100)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := s.prefix(300)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.gather(100, 300)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(kept[100:], again) {
		t.Error("gathering requests 100 to 300 again gives other cases")
	}
	if _, err := s.prefix(maxKeptRequests + 1); err == nil {
		t.Error("a stream keeps more than maxKeptRequests")
	}
}

// TestTrafficDecidersAgree runs the check of the command on a small world:
// every decider agrees with the hand-written check, and the hit ratio is a
// share.
func TestTrafficDecidersAgree(t *testing.T) {
	t.Parallel()
	requests, sample := 3_000, 200
	if testing.Short() {
		requests, sample = 1_000, 50
	}
	check, err := checkTraffic(100, requests, requests/3, sample)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range check.Agreement {
		if a.Differing > 0 {
			t.Errorf("%s differs from the hand-written check on %d of %d requests; the first: %s", a.Decider, a.Differing, a.Checked, a.FirstDifference)
		}
	}
	checked := map[string]int{}
	for _, a := range check.Agreement {
		checked[a.Decider] = a.Checked
	}
	if want := map[string]int{"engine": requests, "cedar": requests, "opa-prepared": sample}; !reflect.DeepEqual(checked, want) {
		t.Errorf("checked %v, want %v", checked, want)
	}
	if check.HitRatio < 0 || check.HitRatio > 1 || check.Warmup != requests/3 {
		t.Errorf("hit ratio %v after %d requests", check.HitRatio, check.Warmup)
	}
}

// TestFloorAdd: the floor writes an allowed add and only looks a denied
// one up.
func TestFloorAdd(t *testing.T) {
	t.Parallel()
	w := newTrafficWorld(1)
	acc := &w.accounts[0]
	space := acc.organizations[0].spaces[0]
	member := acc.users[space.members[0].user].id
	var outsider membership.ID
	for _, u := range acc.users {
		if !slices.ContainsFunc(space.members, func(h roleHolder) bool { return acc.users[h.user].id == u.id }) {
			outsider = u.id
			break
		}
	}
	readOnly := membership.Predefined(membership.RoleReadOnly)
	for _, tt := range []struct {
		name    string
		user    membership.ID
		allowed bool
		rows    int  // change in the number of memberships
		updated bool // the membership holds the requested role
	}{
		{"allowed, new", outsider, true, 1, true},
		{"allowed, existing", member, true, 0, true},
		{"denied", outsider, false, 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, err := seedTrafficFloor(w)
			if err != nil {
				t.Fatal(err)
			}
			before := floorRows(t, db)
			req := membership.AddUserRequest{Actor: acc.users[0].id, SpaceID: space.id, UserID: tt.user, Role: readOnly}
			if err := floorAdd(db, &trafficCase{facts: &membership.Facts{Query: req.Query()}, allowed: tt.allowed}); err != nil {
				t.Fatal(err)
			}
			if got := floorRows(t, db) - before; got != tt.rows {
				t.Errorf("%d memberships more, want %d", got, tt.rows)
			}
			raw, err := db.Txn(false).First(floorTable, floorID, string(space.id), string(tt.user))
			if err != nil {
				t.Fatal(err)
			}
			updated := raw != nil && raw.(*membership.Membership).Role.SameRole(readOnly)
			if updated != tt.updated {
				t.Errorf("the membership holds the requested role: %v, want %v", updated, tt.updated)
			}
		})
	}
}

func floorRows(t *testing.T, db *memdb.MemDB) int {
	t.Helper()
	it, err := db.Txn(false).Get(floorTable, floorID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for obj := it.Next(); obj != nil; obj = it.Next() {
		n++
	}
	return n
}
