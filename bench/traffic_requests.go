package main

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/spaceauthz/spaceauthz/membership"
)

// The requests of the traffic benchmarks: what a busy service sees, not one
// request repeated. Request k of the stream is drawn from a generator
// seeded with k alone, so the stream is the same on every run, any prefix
// of a longer stream is the shorter stream, and any stretch of it can be
// drawn without drawing what comes before.
//
// Accounts are as unequal as tenants are: an account's share of the
// requests falls off as a power of its rank (a Zipf law). Within the
// account, a request names a space, a user to add and a role of every kind
// (the four predefined roles, the account's custom roles, now and then a
// custom role that does not exist). The caller is often someone entitled
// to add (an account ADMIN, or an admin or role binder of the space or its
// organization), otherwise anyone in the account, so that allowed and
// denied adds are both common. A few requests go wrong the ways clients do:
// a caller, space or user that names nobody, or a space, user or role of
// another account.

// streamSeed seeds every request of the stream.
const streamSeed = 0x7aff1c

const (
	// zipfExponent is how steeply popularity falls with rank; above one, a
	// few accounts carry much of the traffic and every account is seen.
	zipfExponent = 1.1
	// entitledCallerShare is the share of requests whose caller is drawn
	// among those entitled to add to the space; the rest are anyone.
	entitledCallerShare = 0.55
	// unknownIDShare is, for each of the caller, the space and the user,
	// the share of requests naming nobody.
	unknownIDShare = 0.01
	// crossAccountShare is the share of requests naming a space, a user or
	// a role of another account than the caller's.
	crossAccountShare = 0.03
)

// trafficRequest is one request of the stream and how it was drawn.
type trafficRequest struct {
	req membership.AddUserRequest
	// accounts are the accounts whose records the request names: the
	// caller's, and another one when it crosses accounts.
	accounts []int
}

// crossAccount reports whether the request names a space, user or role of
// another account than the caller's.
func (r trafficRequest) crossAccount() bool { return len(r.accounts) > 1 }

// requestDrawer draws the requests of the stream over one world.
type requestDrawer struct {
	world *trafficWorld
	// popularity holds the cumulative weights of the accounts by rank.
	popularity []float64
}

func newRequestDrawer(w *trafficWorld) *requestDrawer {
	d := &requestDrawer{world: w, popularity: make([]float64, len(w.accounts))}
	total := 0.0
	for i := range d.popularity {
		total += math.Pow(float64(i+1), -zipfExponent)
		d.popularity[i] = total
	}
	return d
}

// draw returns request k of the stream.
func (d *requestDrawer) draw(k int) trafficRequest {
	r := rand.New(rand.NewPCG(streamSeed, uint64(k)))
	a := d.account(r)
	acc := &d.world.accounts[a]
	org := &acc.organizations[r.IntN(len(acc.organizations))]
	space := &org.spaces[r.IntN(len(org.spaces))]
	role := requestedRole(r, acc)
	req := membership.AddUserRequest{
		Actor:   acc.users[caller(r, acc, org, space, role)].id,
		SpaceID: space.id,
		UserID:  acc.users[target(r, acc, role)].id,
		Role:    role,
	}
	switch x := r.Float64(); {
	case x < unknownIDShare:
		req.Actor = unknownID(r, "User")
	case x < 2*unknownIDShare:
		req.SpaceID = unknownID(r, "Space")
	case x < 3*unknownIDShare:
		req.UserID = unknownID(r, "User")
	}
	if len(d.world.accounts) < 2 || r.Float64() >= crossAccountShare {
		return trafficRequest{req: req, accounts: []int{a}}
	}
	b := (a + 1 + r.IntN(len(d.world.accounts)-1)) % len(d.world.accounts)
	other := &d.world.accounts[b]
	switch r.IntN(3) {
	case 0:
		o := &other.organizations[r.IntN(len(other.organizations))]
		req.SpaceID = o.spaces[r.IntN(len(o.spaces))].id
	case 1:
		req.UserID = other.users[r.IntN(len(other.users))].id
	default:
		req.Role = membership.Custom([]membership.ID{other.binder.ID, other.reader.ID}[r.IntN(2)])
	}
	return trafficRequest{req: req, accounts: []int{a, b}}
}

// account draws an account index by popularity.
func (d *requestDrawer) account(r *rand.Rand) int {
	u := r.Float64() * d.popularity[len(d.popularity)-1]
	i, _ := slices.BinarySearch(d.popularity, u)
	return min(i, len(d.popularity)-1)
}

// requestedRole draws the role to give: every kind, in proportions a
// product might see, and now and then a custom role that does not exist.
func requestedRole(r *rand.Rand, acc *trafficAccount) membership.RoleAssignment {
	if r.IntN(50) == 0 {
		return membership.Custom(unknownID(r, "Role"))
	}
	return pickRole(r, []weightedRole{
		{8, membership.Predefined(membership.RoleAdmin)},
		{30, membership.Predefined(membership.RoleMember)},
		{20, membership.Predefined(membership.RoleReadOnly)},
		{12, membership.Predefined(membership.RoleAnnotator)},
		{12, membership.Custom(acc.binder.ID)},
		{16, membership.Custom(acc.reader.ID)},
	})
}

// caller draws the caller, an index into the account's users: often
// someone entitled to give role in the space, otherwise anyone.
func caller(r *rand.Rand, acc *trafficAccount, org *trafficOrganization, space *trafficSpace, role membership.RoleAssignment) int {
	if r.Float64() >= entitledCallerShare {
		return r.IntN(len(acc.users))
	}
	var entitled []int
	for u, user := range acc.users {
		if user.role == membership.AccountAdmin {
			entitled = append(entitled, u)
		}
	}
	binder := membership.Custom(acc.binder.ID)
	for _, holders := range [][]roleHolder{org.members, space.members} {
		for _, h := range holders {
			if h.role.Is(membership.RoleAdmin) || role.Kind == membership.RoleKindCustom && h.role.SameRole(binder) {
				entitled = append(entitled, h.user)
			}
		}
	}
	return entitled[r.IntN(len(entitled))]
}

// target draws the user to add, an index into the account's users: anyone,
// but for the annotator role an annotator half of the time, as a product
// that invites annotators would send.
func target(r *rand.Rand, acc *trafficAccount, role membership.RoleAssignment) int {
	if role.Is(membership.RoleAnnotator) && r.IntN(2) == 0 {
		var annotators []int
		for u, user := range acc.users {
			if user.role == membership.AccountAnnotator {
				annotators = append(annotators, u)
			}
		}
		return annotators[r.IntN(len(annotators))]
	}
	return r.IntN(len(acc.users))
}

// unknownID returns an ID of the given kind that no world holds.
func unknownID(r *rand.Rand, kind string) membership.ID {
	return entityID(kind, -1-r.IntN(1000))
}
