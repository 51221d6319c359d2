package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/membership/fixture"
	"github.com/spaceauthz/spaceauthz/memstore"
)

// TestSeedStore covers each -seed mode on stores in each state the default
// mode tells apart: empty, seeded from the fixture (with a role the API
// changed since), partly seeded, and seeded from another fixture.
func TestSeedStore(t *testing.T) {
	t.Parallel()
	demo := fixture.Demo()
	seedDemo := func(t *testing.T, s *memstore.Store) {
		if err := fixture.Seed(context.Background(), s, demo); err != nil {
			t.Fatal(err)
		}
		// What the API would do: Barbara, a MEMBER in the fixture, is
		// demoted.
		if _, err := s.PutSpaceMember(context.Background(), spaceLLMEvals, userBarbara, membership.Predefined(membership.RoleReadOnly)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		setup func(*testing.T, *memstore.Store)
		mode  seedMode
		// wantErr is a part of the error run would report; empty for none.
		wantErr string
		// wantLog is the message logged about seeding.
		wantLog string
		// wantBarbara is Barbara's role in llm-evals afterwards; empty for
		// no membership.
		wantBarbara string
	}{
		{"auto seeds an empty store", nil, seedAuto, "", "seeded the store", "MEMBER"},
		{"auto keeps a seeded store", seedDemo, seedAuto, "", "seeding skipped", "READ_ONLY"},
		{"auto seeds beside another fixture", func(t *testing.T, s *memstore.Store) {
			other := &fixture.Fixture{
				Accounts: []membership.Account{{ID: "QWNjb3VudDo5"}},
				Users: []membership.User{{ID: "VXNlcjo5", AccountID: "QWNjb3VudDo5", Name: "Nine",
					Email: "nine@example.com", Role: membership.AccountAdmin}},
			}
			if err := fixture.Seed(context.Background(), s, other); err != nil {
				t.Fatal(err)
			}
		}, seedAuto, "", "seeded the store", "MEMBER"},
		// reserved_chars.json is another fixture, but it shares Ada with
		// the demo: one user of the demo's 13 records is there.
		{"auto refuses another fixture that shares a user", func(t *testing.T, s *memstore.Store) {
			if err := fixture.Seed(context.Background(), s, loadTestFixture(t, "reserved_chars.json")); err != nil {
				t.Fatal(err)
			}
		}, seedAuto, "holds 1 of the 13", "", ""},
		{"auto refuses a partly seeded store", func(t *testing.T, s *memstore.Store) {
			ctx := context.Background()
			if err := s.PutAccount(ctx, demo.Accounts[0]); err != nil {
				t.Fatal(err)
			}
			if err := s.PutUser(ctx, demo.Users[3]); err != nil {
				t.Fatal(err)
			}
		}, seedAuto, "holds 1 of the 13 users, spaces and custom roles of the fixture: start with -seed=always", "", ""},
		{"always rewrites a seeded store", seedDemo, seedAlways, "", "seeded the store", "MEMBER"},
		{"never leaves an empty store empty", nil, seedNever, "", "seeding skipped", ""},
		{"never keeps a seeded store", seedDemo, seedNever, "", "seeding skipped", "READ_ONLY"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := memstore.New()
			if tc.setup != nil {
				tc.setup(t, s)
			}
			logs := new(syncBuffer)
			err := seedStore(context.Background(), s, fixture.Demo(), tc.mode, slog.New(slog.NewTextHandler(logs, nil)))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("seedStore = %v, want an error with %q", err, tc.wantErr)
				}
				if logs.String() != "" {
					t.Errorf("a refused seed logged:\n%s", logs)
				}
				return
			}
			if err != nil {
				t.Fatalf("seedStore = %v", err)
			}
			if !strings.Contains(logs.String(), "msg="+`"`+tc.wantLog+`"`) {
				t.Errorf("the log does not say %q:\n%s", tc.wantLog, logs)
			}
			facts, _, err := s.Read(context.Background(), membership.Query{
				Operation: membership.OperationRemove, Actor: userAda, SpaceID: spaceLLMEvals, UserID: userBarbara})
			if err != nil {
				t.Fatal(err)
			}
			var got string
			if facts.Existing != nil {
				got = facts.Existing.Role.Name.String()
			}
			if got != tc.wantBarbara {
				t.Errorf("Barbara's role in llm-evals is %q, want %q", got, tc.wantBarbara)
			}
		})
	}
}

// TestSeedLogCounts checks that a seed logs how many records of each
// collection it wrote.
func TestSeedLogCounts(t *testing.T) {
	t.Parallel()
	logs := new(syncBuffer)
	if err := seedStore(context.Background(), memstore.New(), fixture.Demo(), seedAuto, slog.New(slog.NewTextHandler(logs, nil))); err != nil {
		t.Fatal(err)
	}
	const want = "seed=auto accounts=2 users=8 organizations=2 organization_members=6 spaces=3 roles=2 space_members=2"
	if !strings.Contains(logs.String(), want) {
		t.Errorf("the log does not hold %q:\n%s", want, logs)
	}
}

func TestSeedModeFlag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		value string
		want  seedMode // empty: refused
	}{
		{"auto", seedAuto},
		{"always", seedAlways},
		{"never", seedNever},
		// The spellings of the flag when it was a boolean.
		{"true", seedAlways},
		{"false", seedNever},
		{"", ""},
		{"Always", ""},
		{"sometimes", ""},
	}
	for _, tc := range tests {
		m := seedAuto
		err := m.Set(tc.value)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("Set(%q) = nil, want an error", tc.value)
		case tc.want != "" && (err != nil || m != tc.want):
			t.Errorf("Set(%q) = %v, mode %q; want %q", tc.value, err, m, tc.want)
		}
	}
}
