package linearizable

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/spaceauthz/spaceauthz/internal/model"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
)

// Store is what a history plays on: the operations' store, and the plain
// writes that seed it.
type Store interface {
	membership.Store
	membership.Seeder
}

// A World is the tenants one history plays in: one Partition per account.
type World struct {
	Partitions []*Partition
	names      map[string]string
}

// A Partition is one account with one organization and its spaces. Its
// actors keep their memberships for the whole history, so that the
// authority of each is known: the account ADMIN; lead, an organization
// ADMIN; peer, an organization MEMBER; outsider, in no organization. The
// operations change the memberships of the targets, whose account roles are
// MEMBER but for the last, an ANNOTATOR.
type Partition struct {
	Index                       int
	Account, Org                string
	Admin, Lead, Peer, Outsider string
	Targets                     []string
	// Spaces are, in this order, two private spaces around a public one,
	// so that a workload narrowed to the first space writes to a private
	// one, which only a membership of its own lets a target read.
	Spaces []string
	// Initial is the world the partition is seeded with, membership ids
	// included once Seed has learnt them.
	Initial *model.World
}

// The names of a partition's records, as a visualisation shows them.
const (
	adminName    = "admin"
	leadName     = "lead"
	peerName     = "peer"
	outsiderName = "outsider"
)

var (
	targetNames = []string{"t1", "t2", "t3"}
	spaceNames  = []string{"private1", "public", "private2"}
)

// NewWorld draws the world of a history: partitions accounts, and in each
// the targets' initial memberships from rng. label and history are part of
// every id, so that histories (and stores told apart by label) can share a
// database without seeing each other.
func NewWorld(label string, history, partitions int, rng *rand.Rand) *World {
	w := &World{names: map[string]string{}}
	for p := range partitions {
		w.Partitions = append(w.Partitions, w.newPartition(label, history, p, rng))
	}
	return w
}

func (w *World) newPartition(label string, history, index int, rng *rand.Rand) *Partition {
	id := func(name string) string {
		s := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "%s/h%d/p%d/%s", label, history, index, name))
		w.names[s] = fmt.Sprintf("p%d/%s", index, name)
		return s
	}
	p := &Partition{
		Index: index, Account: id("account"), Org: id("org"),
		Admin: id(adminName), Lead: id(leadName), Peer: id(peerName), Outsider: id(outsiderName),
		Initial: model.NewWorld(),
	}
	for _, n := range targetNames {
		p.Targets = append(p.Targets, id(n))
	}
	for _, n := range spaceNames {
		p.Spaces = append(p.Spaces, id(n))
	}
	m := p.Initial
	// The contract's order of the checks; every actor here is a user anyway.
	m.ActorCheckedLate = true
	m.Orgs[p.Org] = p.Account
	m.Users[p.Admin] = model.User{Account: p.Account, Role: model.AccountAdmin}
	for _, u := range []string{p.Lead, p.Peer, p.Outsider} {
		m.Users[u] = model.User{Account: p.Account, Role: model.AccountMember}
	}
	for i, t := range p.Targets {
		m.Users[t] = model.User{Account: p.Account, Role: p.targetAccountRole(i)}
	}
	for i, s := range p.Spaces {
		m.Spaces[s] = model.Space{Org: p.Org, Private: spaceNames[i] != "public"}
	}
	m.OrgMembers[model.Key{Of: p.Org, User: p.Lead}] = model.Membership{Role: model.P(model.Admin)}
	m.OrgMembers[model.Key{Of: p.Org, User: p.Peer}] = model.Membership{Role: model.P(model.Member)}
	for _, t := range p.Targets {
		if rng.IntN(100) >= 70 {
			continue
		}
		m.OrgMembers[model.Key{Of: p.Org, User: t}] = model.Membership{Role: p.seedRole(t, rng)}
		for _, s := range p.Spaces {
			if rng.IntN(100) < 40 {
				m.SpaceMembers[model.Key{Of: s, User: t}] = model.Membership{Role: p.seedRole(t, rng)}
			}
		}
	}
	return p
}

// targetAccountRole is the account role of the i-th target: the last is an
// ANNOTATOR, so that the annotator pairing decides some adds.
func (p *Partition) targetAccountRole(i int) model.AccountRole {
	if i == len(targetNames)-1 {
		return model.AccountAnnotator
	}
	return model.AccountMember
}

// roleFor draws a predefined role for target, mostly one the annotator
// pairing lets them take, now and then one it refuses.
func (p *Partition) roleFor(target string, rng *rand.Rand) model.Role {
	if p.Initial.Users[target].Role == model.AccountAnnotator && rng.IntN(100) < 80 {
		return model.P(model.Annotator)
	}
	return model.P(pickWeighted[string](rng, 15, model.Admin, 45, model.Member, 30, model.ReadOnly, 10, model.Annotator))
}

// seedRole is a role the fixture may hold for target: the pairing is not a
// rule of the store, but the initial world keeps it so that no add starts
// from a grant the contract would not have made.
func (p *Partition) seedRole(target string, rng *rand.Rand) model.Role {
	for {
		r := p.roleFor(target, rng)
		if (p.Initial.Users[target].Role == model.AccountAnnotator) == (r.Name == model.Annotator) {
			return r
		}
	}
}

// Name returns the short name of an id of the world, such as "p1/t2", or
// the id itself.
func (w *World) Name(id string) string {
	if n, ok := w.names[id]; ok {
		return n
	}
	return id
}

// Fixture returns the document the world is seeded from.
func (w *World) Fixture() *fixture.Fixture {
	f := &fixture.Fixture{}
	for _, p := range w.Partitions {
		p.addTo(f, w)
	}
	return f
}

func (p *Partition) addTo(f *fixture.Fixture, w *World) {
	m := p.Initial
	f.Accounts = append(f.Accounts, membership.Account{ID: membership.ID(p.Account)})
	for _, u := range p.users() {
		name := w.Name(u)
		f.Users = append(f.Users, membership.User{
			ID: membership.ID(u), AccountID: membership.ID(p.Account), Name: name,
			Email: strings.ReplaceAll(name, "/", ".") + "@example.com", Role: accountRole(m.Users[u].Role),
		})
	}
	f.Organizations = append(f.Organizations, membership.Organization{ID: membership.ID(p.Org), AccountID: membership.ID(p.Account), Name: w.Name(p.Org)})
	for _, u := range p.users() {
		if om, ok := m.OrgMembers[model.Key{Of: p.Org, User: u}]; ok {
			f.OrganizationMembers = append(f.OrganizationMembers, membership.OrganizationMember{
				OrganizationID: membership.ID(p.Org), UserID: membership.ID(u), Role: assignment(om.Role),
			})
		}
	}
	for _, s := range p.Spaces {
		f.Spaces = append(f.Spaces, membership.Space{
			ID: membership.ID(s), OrganizationID: membership.ID(p.Org), Name: w.Name(s), IsPrivate: m.Spaces[s].Private,
		})
		for _, u := range p.users() {
			if sm, ok := m.SpaceMembers[model.Key{Of: s, User: u}]; ok {
				f.SpaceMembers = append(f.SpaceMembers, fixture.SpaceMember{
					SpaceID: membership.ID(s), UserID: membership.ID(u), Role: assignment(sm.Role),
				})
			}
		}
	}
}

// users returns every user of the partition, actors first.
func (p *Partition) users() []string {
	return append([]string{p.Admin, p.Lead, p.Peer, p.Outsider}, p.Targets...)
}

// Seed writes the world into s and learns the ids s gave the initial
// memberships, which the model needs to tell an upsert that kept its id
// from one that made a new membership.
func (w *World) Seed(ctx context.Context, s Store) error {
	if err := fixture.Seed(ctx, s, w.Fixture()); err != nil {
		return fmt.Errorf("seeding the world: %w", err)
	}
	for _, p := range w.Partitions {
		if err := p.learnIDs(ctx, s, w); err != nil {
			return err
		}
	}
	return nil
}

// learnIDs reads back every initial membership of the partition, through
// plain reads with no decision, and records its id in Initial. A store that
// holds anything else than what was seeded fails here.
func (p *Partition) learnIDs(ctx context.Context, s Store, w *World) error {
	m := p.Initial
	for _, space := range p.Spaces {
		_, page, err := s.Read(ctx, membership.Query{
			Operation: membership.OperationList, Actor: membership.ID(p.Admin), SpaceID: membership.ID(space),
			Page: &membership.PageQuery{Limit: membership.MaxPageSize},
		})
		if err != nil {
			return fmt.Errorf("reading the members of %s: %w", w.Name(space), err)
		}
		if len(page.Members) != len(m.Members(space)) {
			return fmt.Errorf("the store holds %d members of %s, the world %d", len(page.Members), w.Name(space), len(m.Members(space)))
		}
		for _, got := range page.Members {
			k := model.Key{Of: space, User: string(got.UserID)}
			sm, ok := m.SpaceMembers[k]
			if !ok {
				return fmt.Errorf("the store holds %s in %s, the world does not", w.Name(k.User), w.Name(space))
			}
			sm.ID = string(got.ID)
			m.SpaceMembers[k] = sm
		}
	}
	for _, u := range p.users() {
		f, _, err := s.Read(ctx, membership.Query{
			Operation: membership.OperationOrgRemove, Actor: membership.ID(p.Admin),
			OrganizationID: membership.ID(p.Org), UserID: membership.ID(u),
		})
		if err != nil {
			return fmt.Errorf("reading the membership of %s in %s: %w", w.Name(u), w.Name(p.Org), err)
		}
		k := model.Key{Of: p.Org, User: u}
		om, ok := m.OrgMembers[k]
		got := f.TargetOrganizationMember
		switch {
		case got == nil && ok:
			return fmt.Errorf("the store lacks the membership of %s in %s", w.Name(u), w.Name(p.Org))
		case got != nil && !ok:
			return fmt.Errorf("the store holds %s in %s, the world does not", w.Name(u), w.Name(p.Org))
		case got != nil:
			om.ID = string(got.ID)
			m.OrgMembers[k] = om
		}
	}
	return nil
}

// accountRole is the library's value of a model account role.
func accountRole(r model.AccountRole) membership.AccountRole {
	switch r {
	case model.AccountAdmin:
		return membership.AccountAdmin
	case model.AccountAnnotator:
		return membership.AccountAnnotator
	}
	return membership.AccountMember
}

// predefinedRoles maps the model's predefined role names to the library's.
var predefinedRoles = map[string]membership.PredefinedRole{
	model.Admin:     membership.RoleAdmin,
	model.Member:    membership.RoleMember,
	model.ReadOnly:  membership.RoleReadOnly,
	model.Annotator: membership.RoleAnnotator,
}

// assignment is the library's value of a model role. The workloads draw
// predefined roles alone.
func assignment(r model.Role) membership.RoleAssignment {
	return membership.Predefined(predefinedRoles[r.Name])
}

// modelRole is the model's value of a role the library answered with.
func modelRole(r membership.RoleAssignment) model.Role {
	if r.Kind == membership.RoleKindCustom {
		return model.C(string(r.ID))
	}
	return model.Role{Kind: model.Predefined, Name: r.Name.String()}
}

// pickWeighted returns one of the choices, by weight: pairs of weight and
// value.
func pickWeighted[T any](rng *rand.Rand, choices ...any) T {
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
	panic("linearizable: pickWeighted without a positive weight")
}
