package main

import (
	"context"
	"fmt"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
	"github.com/spaceauthz/spaceauthz/memstore"
)

// openStore returns the store the server runs on, seeded from f, and a
// function that releases it. Only the in-memory go-memdb store exists today;
// this is the one place that will choose another.
func openStore(ctx context.Context, f *fixture.Fixture) (membership.Store, func(), error) {
	s := memstore.New()
	if err := fixture.Seed(ctx, s, f); err != nil {
		return nil, nil, fmt.Errorf("seed the store: %w", err)
	}
	return s, func() {}, nil
}
