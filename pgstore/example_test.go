package pgstore_test

import (
	"context"
	"log"
	"os"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
	"github.com/spaceauthz/spaceauthz/pgstore"
	"github.com/spaceauthz/spaceauthz/policy"
)

// A service on PostgreSQL: open, migrate, seed (here from the demo
// fixture), and serve adds.
func Example() {
	ctx := context.Background()
	store, err := pgstore.Open(ctx, os.Getenv("SPACEAUTHZ_POSTGRES_DSN"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	if err := fixture.Seed(ctx, store, fixture.Demo()); err != nil {
		log.Fatal(err)
	}
	engine, err := policy.New()
	if err != nil {
		log.Fatal(err)
	}
	svc, err := membership.NewService(store, engine)
	if err != nil {
		log.Fatal(err)
	}
	m, err := svc.AddUserToSpace(ctx, membership.AddUserRequest{
		Actor:   "VXNlcjox",     // Ada, account ADMIN
		SpaceID: "U3BhY2U6MQ==", // llm-evals
		UserID:  "VXNlcjo1",     // Alan, an organization member
		Role:    membership.Predefined(membership.RoleMember),
	})
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("membership %s", m.ID)
}
