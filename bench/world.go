package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
	"github.com/spaceauthz/spaceauthz/memstore"
	"github.com/spaceauthz/spaceauthz/policy"
)

// A world is the data of the store benchmarks: one account with one
// organization, an account ADMIN who performs every add, and n space
// memberships spread over about √n spaces and √n users, all of them
// MEMBERs of the organization. Membership k is user k mod len(users) in
// space k / len(users), with the predefined MEMBER role.
//
// Every add of the benchmarks gives a user who is already a member of the
// first space a new role: each one really updates a membership, and the
// store keeps holding n of them.
type world struct {
	n            int
	account      membership.ID
	organization membership.ID
	admin        membership.ID
	spaces       []membership.ID
	users        []membership.ID
	// turns counts the adds of each user, to alternate the role.
	turns []atomic.Uint32
}

// The role an add gives alternates between these two; seeded memberships
// hold the second.
var alternateRoles = [2]membership.RoleAssignment{
	membership.Predefined(membership.RoleReadOnly),
	membership.Predefined(membership.RoleMember),
}

func newWorld(n int) *world {
	if n < 1 {
		panic("bench: a world needs at least one membership")
	}
	users := int(math.Ceil(math.Sqrt(float64(n))))
	spaces := (n + users - 1) / users
	w := &world{
		n:            n,
		account:      entityID("Account", 1),
		organization: entityID("Org", 1),
		admin:        entityID("User", 0),
		turns:        make([]atomic.Uint32, users),
	}
	for i := range spaces {
		w.spaces = append(w.spaces, entityID("Space", i+1))
	}
	for i := range users {
		w.users = append(w.users, entityID("User", i+1))
	}
	return w
}

// entityID returns the ID of the i-th entity of a kind, such as "User:7".
func entityID(kind string, i int) membership.ID {
	return membership.ID(base64.StdEncoding.EncodeToString([]byte(kind + ":" + strconv.Itoa(i))))
}

// membership returns the space and user of membership k.
func (w *world) membership(k int) (space, user membership.ID) {
	return w.spaces[k/len(w.users)], w.users[k%len(w.users)]
}

// fixture returns everything but the space memberships.
func (w *world) fixture() *fixture.Fixture {
	f := &fixture.Fixture{
		Accounts:      []membership.Account{{ID: w.account}},
		Organizations: []membership.Organization{{ID: w.organization, AccountID: w.account, Name: "Research"}},
		Users:         []membership.User{{ID: w.admin, AccountID: w.account, Name: "Admin", Email: "admin@example.com", Role: membership.AccountAdmin}},
	}
	for i, u := range w.users {
		f.Users = append(f.Users, membership.User{ID: u, AccountID: w.account, Name: "User " + strconv.Itoa(i+1), Email: "user" + strconv.Itoa(i+1) + "@example.com", Role: membership.AccountMember})
		f.OrganizationMembers = append(f.OrganizationMembers, membership.OrganizationMember{OrganizationID: w.organization, UserID: u, Role: membership.Predefined(membership.RoleMember)})
	}
	for i, s := range w.spaces {
		f.Spaces = append(f.Spaces, membership.Space{ID: s, OrganizationID: w.organization, Name: "space-" + strconv.Itoa(i+1)})
	}
	return f
}

// addRequest returns the next add for user u (an index into users): the
// account ADMIN gives u, a member of the first space, the role u does not
// hold now.
func (w *world) addRequest(u int) membership.AddUserRequest {
	turn := w.turns[u].Add(1) - 1
	return membership.AddUserRequest{
		Actor:   w.admin,
		SpaceID: w.spaces[0],
		UserID:  w.users[u],
		Role:    alternateRoles[turn%2],
	}
}

// fresh returns a copy of id that shares no memory with it, as an ID
// decoded from a request would: a store is charged for the strings it
// keeps.
func fresh(id membership.ID) membership.ID {
	return membership.ID(strings.Clone(string(id)))
}

// seedMemstore writes w into s, with every membership, in one transaction
// (memstore's Import).
func seedMemstore(ctx context.Context, s *memstore.Store, w *world) error {
	f := w.fixture()
	f.SpaceMembers = make([]fixture.SpaceMember, 0, w.n)
	for k := range w.n {
		space, user := w.membership(k)
		f.SpaceMembers = append(f.SpaceMembers, fixture.SpaceMember{SpaceID: fresh(space), UserID: fresh(user), Role: alternateRoles[1]})
	}
	return s.Import(ctx, f)
}

func putMemberships(ctx context.Context, s *memstore.Store, w *world) error {
	for k := range w.n {
		space, user := w.membership(k)
		if _, err := s.PutSpaceMember(ctx, fresh(space), fresh(user), alternateRoles[1]); err != nil {
			return fmt.Errorf("membership %d: %w", k, err)
		}
	}
	return nil
}

// seededService is a memstore holding a world, behind a Service on the
// default policy.
type seededService struct {
	world   *world
	store   *memstore.Store
	service *membership.Service
	seeding time.Duration
}

// add performs the next add for user u.
func (s *seededService) add(ctx context.Context, u int) (membership.Membership, error) {
	return s.service.AddUserToSpace(ctx, s.world.addRequest(u))
}

var seededServices sync.Map // n → func() (*seededService, error)

// memstoreWorld returns the memstore holding a world of n memberships,
// seeded on first use and shared by every benchmark after.
func memstoreWorld(n int) (*seededService, error) {
	return cached(&seededServices, n, func() (*seededService, error) {
		engine, err := policy.New()
		if err != nil {
			return nil, err
		}
		s := &seededService{world: newWorld(n), store: memstore.New()}
		start := time.Now()
		if err := seedMemstore(context.Background(), s.store, s.world); err != nil {
			return nil, err
		}
		s.seeding = time.Since(start)
		s.service, err = membership.NewService(s.store, engine)
		return s, err
	})
}

// cached returns the value that build makes for key, building it once per
// process; concurrent callers wait for the one build.
func cached[V any](cache *sync.Map, key int, build func() (V, error)) (V, error) {
	once, _ := cache.LoadOrStore(key, sync.OnceValues(build))
	return once.(func() (V, error))()
}
