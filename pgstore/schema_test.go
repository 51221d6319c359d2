package pgstore

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/spaceauthz/spaceauthz/membership"
)

// TestSchemaKeepsAccountsApart writes, without any check, records that
// cross accounts or break the one-membership rule: the database refuses
// each of them, whatever the policy says.
func TestSchemaKeepsAccountsApart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newTestStore(t)
	w := seedWorld(t, s)
	other := membership.Account{ID: id("Account:2")}
	stranger := membership.User{ID: id("User:stranger"), AccountID: other.ID, Name: "Eve", Email: "eve@example.org", Role: membership.AccountMember}
	foreignRole := membership.CustomRole{ID: id("Role:foreign"), AccountID: other.ID, Name: "Foreign"}
	for _, err := range []error{s.PutAccount(ctx, other), s.PutUser(ctx, stranger), s.PutCustomRole(ctx, foreignRole)} {
		if err != nil {
			t.Fatal(err)
		}
	}

	for _, tc := range []struct {
		name  string
		write func() error
		code  string // the SQLSTATE, or "" for an error of pgstore's own
	}{{
		name: "organization member from another account",
		write: func() error {
			return s.PutOrganizationMember(ctx, membership.OrganizationMember{OrganizationID: w.org.ID, UserID: stranger.ID, Role: membership.Predefined(membership.RoleMember)})
		},
		code: "23503",
	}, {
		// The store itself refuses a user who is not an organization
		// member; the schema refuses the row from any writer.
		name: "space member from another account",
		write: func() error {
			_, err := s.pool.Exec(ctx, `INSERT INTO space_members (id, space_id, user_id, account_id, predefined_role, organization_id)
VALUES ($1, $2, $3, $4, 'MEMBER', $5)`, string(newMembershipID()), string(w.space.ID), string(stranger.ID), string(w.account.ID), string(w.org.ID))
			return err
		},
		code: "23503",
	}, {
		name: "space member with another account's custom role",
		write: func() error {
			_, err := upsert(ctx, s, w.request(w.members[0], membership.Custom(foreignRole.ID)), allow)
			return err
		},
		code: "23503",
	}, {
		name: "space member with a custom role that does not exist",
		write: func() error {
			_, err := upsert(ctx, s, w.request(w.members[0], membership.Custom(id("Role:none"))), allow)
			return err
		},
		code: "23503",
	}, {
		name: "space of an organization that does not exist",
		write: func() error {
			return s.PutSpace(ctx, membership.Space{ID: id("Space:9"), OrganizationID: id("Org:none"), Name: "x"})
		},
	}, {
		name: "second membership of one user in one space",
		write: func() error {
			if _, err := s.PutSpaceMember(ctx, w.space.ID, w.members[1], membership.Predefined(membership.RoleMember)); err != nil {
				return err
			}
			_, err := s.pool.Exec(ctx, `INSERT INTO space_members (id, space_id, user_id, account_id, predefined_role, organization_id)
VALUES ($1, $2, $3, $4, 'ADMIN', $5)`, string(newMembershipID()), string(w.space.ID), string(w.members[1]), string(w.account.ID), string(w.org.ID))
			return err
		},
		code: "23505",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.write()
			var pgErr *pgconn.PgError
			switch {
			case err == nil:
				t.Fatal("the write succeeded")
			case tc.code == "" && errors.As(err, &pgErr):
				t.Errorf("got %v, want pgstore's own error", err)
			case tc.code != "" && (!errors.As(err, &pgErr) || pgErr.Code != tc.code):
				t.Errorf("got %v, want SQLSTATE %s", err, tc.code)
			case errors.Is(err, membership.ErrUnavailable):
				t.Errorf("got %v, which claims an outage", err)
			}
		})
	}
	if got := memberIDs(t, s, w.space.ID); len(got) != 1 {
		t.Errorf("the space has %d members, want the one added before the refused write", len(got))
	}
}
