package auditreplay

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
)

// Check fails t unless the changelog of s, replayed from the memberships
// of f, gives exactly the memberships s holds: s must have been seeded
// with f and changed since through Store.Write alone.
func Check(t testing.TB, ctx context.Context, s membership.Store, f *fixture.Fixture) {
	t.Helper()
	NewReplayer(FromFixture(f)).Check(t, ctx, s)
}

// Check catches up with the changelog of s and fails t unless the replayed
// World is exactly the World s holds.
func (r *Replayer) Check(t testing.TB, ctx context.Context, s membership.Store) {
	t.Helper()
	diff, err := r.Compare(ctx, s)
	switch {
	case err != nil:
		t.Errorf("replaying the audit log: %v", err)
	case diff != "":
		t.Errorf("the audit log replayed is not what the store holds (-store +replayed):\n%s", diff)
	}
}

// Compare catches up with the changelog of s and returns how the World s
// holds differs from the replayed one, as a go-cmp diff (-store
// +replayed); empty when they are equal.
func (r *Replayer) Compare(ctx context.Context, s membership.Store) (string, error) {
	if err := r.CatchUp(ctx, s); err != nil {
		return "", err
	}
	current, err := Current(ctx, s, r.world)
	if err != nil {
		return "", err
	}
	return cmp.Diff(current, r.world), nil
}
