package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
	"github.com/spaceauthz/spaceauthz/memstore"
	"github.com/spaceauthz/spaceauthz/policy"
)

// An existence probe is a caller who may not read a space (or see an
// organization) asking about a user in it: the answer is 404
// space_not_found (organization_not_found) whether the user exists or not,
// and the time it takes must not tell the two apart either. The probe
// runs on the demo fixture, with the decision cache off so that every
// request evaluates Rego, as a caller who forces misses would make it.
type existenceProbe struct {
	name string
	// actor cannot read space, which is an organization for the
	// organization operations.
	actor, space membership.ID
	// present is a user of space's account (a member of space in the
	// other-account probes); absent is no user at all.
	present, absent membership.ID
	op              membership.Operation
}

// Demo fixture ids: Barbara is an organization MEMBER outside the private
// space red-team; Eve is the admin of the other account; Linus is a member
// of llm-evals and of the organization; Ken is a MEMBER of the account in no
// organization; User:99 does not exist.
var existenceProbes = []existenceProbe{
	{"add/private-space", demoID("User", 4), demoID("Space", 2), demoID("User", 3), demoID("User", 99), membership.OperationAdd},
	{"add/other-account", demoID("User", 8), demoID("Space", 1), demoID("User", 3), demoID("User", 99), membership.OperationAdd},
	{"remove/private-space", demoID("User", 4), demoID("Space", 2), demoID("User", 3), demoID("User", 99), membership.OperationRemove},
	{"remove/other-account", demoID("User", 8), demoID("Space", 1), demoID("User", 3), demoID("User", 99), membership.OperationRemove},
	{"org_add/no-member", demoID("User", 7), demoID("Org", 1), demoID("User", 3), demoID("User", 99), membership.OperationOrgAdd},
	{"org_add/other-account", demoID("User", 8), demoID("Org", 1), demoID("User", 3), demoID("User", 99), membership.OperationOrgAdd},
	{"org_remove/no-member", demoID("User", 7), demoID("Org", 1), demoID("User", 3), demoID("User", 99), membership.OperationOrgRemove},
	{"org_remove/other-account", demoID("User", 8), demoID("Org", 1), demoID("User", 3), demoID("User", 99), membership.OperationOrgRemove},
}

// request asks svc the probe's question about user.
func (p existenceProbe) request(ctx context.Context, svc *membership.Service, user membership.ID) error {
	member := membership.Predefined(membership.RoleMember)
	switch p.op {
	case membership.OperationRemove:
		return svc.RemoveUserFromSpace(ctx, membership.RemoveUserRequest{Actor: p.actor, SpaceID: p.space, UserID: user})
	case membership.OperationOrgAdd:
		_, err := svc.AddUserToOrganization(ctx, membership.AddOrganizationUserRequest{Actor: p.actor, OrganizationID: p.space, UserID: user, Role: member})
		return err
	case membership.OperationOrgRemove:
		return svc.RemoveUserFromOrganization(ctx, membership.RemoveOrganizationUserRequest{Actor: p.actor, OrganizationID: p.space, UserID: user})
	}
	_, err := svc.AddUserToSpace(ctx, membership.AddUserRequest{Actor: p.actor, SpaceID: p.space, UserID: user, Role: member})
	return err
}

// hidden is the answer every request of the probe must get.
func (p existenceProbe) hidden() *membership.Error {
	if p.op.Level() == membership.LevelOrganization {
		return membership.ErrOrganizationNotFound
	}
	return membership.ErrSpaceNotFound
}

func demoID(kind string, i int) membership.ID { return entityID(kind, i) }

// benchExistence times requests for the present and the absent user,
// interleaved so that drift hits both alike, and reports the median of
// each and their difference (p50-diff-ns, present minus absent).
func benchExistence(p existenceProbe) func(*testing.B) {
	return func(b *testing.B) {
		ctx := context.Background()
		svc, err := existenceService(ctx)
		if err != nil {
			b.Fatal(err)
		}
		request := func(user membership.ID) error { return p.request(ctx, svc, user) }
		for _, user := range []membership.ID{p.present, p.absent} {
			if err := request(user); !errors.Is(err, p.hidden()) {
				b.Fatalf("%s for %s: %v, want %s", p.name, user, err, p.hidden().Code)
			}
		}
		var present, absent []time.Duration
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			user, into := p.present, &present
			if i%2 == 1 {
				user, into = p.absent, &absent
			}
			start := time.Now()
			err := request(user)
			*into = append(*into, time.Since(start))
			if !errors.Is(err, p.hidden()) {
				b.Fatalf("%s: %v", p.name, err)
			}
		}
		b.StopTimer()
		if len(absent) == 0 {
			return
		}
		pp, pa := medianDuration(present), medianDuration(absent)
		b.ReportMetric(float64(pp.Nanoseconds()), "p50-present-ns")
		b.ReportMetric(float64(pa.Nanoseconds()), "p50-absent-ns")
		b.ReportMetric(float64((pp - pa).Nanoseconds()), "p50-diff-ns")
	}
}

func medianDuration(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// existenceService is the demo fixture on memstore, decided with the cache
// off.
func existenceService(ctx context.Context) (*membership.Service, error) {
	store := memstore.New()
	if err := fixture.Seed(ctx, store, fixture.Demo()); err != nil {
		return nil, err
	}
	engine, err := policy.New(policy.WithDecisionCache(0))
	if err != nil {
		return nil, err
	}
	svc, err := membership.NewService(store, engine)
	if err != nil {
		return nil, fmt.Errorf("existence probe: %w", err)
	}
	return svc, nil
}
