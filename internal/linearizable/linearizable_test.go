package linearizable

import (
	"cmp"
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/spaceauthz/spaceauthz/internal/model"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/memstore"
	"github.com/spaceauthz/spaceauthz/policy"
)

// fixedWorld is a world of one partition whose memberships are set by
// hand: t1 is a MEMBER of the organization and of private1, t2 is in
// nothing.
func fixedWorld(t *testing.T) (*World, *Partition) {
	t.Helper()
	w := NewWorld("test", 0, 1, rand.New(rand.NewPCG(1, 2)))
	p := w.Partitions[0]
	m := p.Initial
	clear(m.SpaceMembers)
	for k := range m.OrgMembers {
		if slices.Contains(p.Targets, k.User) {
			delete(m.OrgMembers, k)
		}
	}
	m.OrgMembers[model.Key{Of: p.Org, User: p.Targets[0]}] = model.Membership{ID: "b3JnLXQx", Role: model.P(model.Member)}
	m.SpaceMembers[model.Key{Of: p.Spaces[0], User: p.Targets[0]}] = model.Membership{ID: "c3AtdDE=", Role: model.P(model.Member)}
	return w, p
}

// op is an operation of a hand-made history, called at call and returned
// at ret.
func op(client int, call, ret int64, in Input, out Output) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret}
}

var (
	noContent = Output{Code: model.OK, Status: 200}
	notMember = Output{Code: model.MembershipNotFound, Status: 404}
)

func TestLinearizableModelOnHandMadeHistories(t *testing.T) {
	t.Parallel()
	w, p := fixedWorld(t)
	t1, t2 := p.Targets[0], p.Targets[1]
	private1, public := p.Spaces[0], p.Spaces[1]
	remove := Input{Kind: Remove, Actor: p.Admin, Space: private1, User: t1}
	orgRemove := Input{Kind: OrgRemove, Actor: p.Admin, Org: p.Org, User: t1}
	listSpaces := Input{Kind: ListSpaces, Actor: t1}
	spaces := func(ids ...string) Output { return Output{Code: model.OK, Status: 200, Spaces: ids} }
	readableBefore := slices.Sorted(slices.Values([]string{private1, public}))
	add := Input{Kind: Add, Actor: p.Admin, Space: public, User: t1, Role: model.P(model.Member)}
	added := func(id string) Output { return Output{Code: model.OK, Status: 200, ID: id} }
	tests := []struct {
		name         string
		history      []porcupine.Operation
		linearizable bool
	}{{
		name:         "one remove of two concurrent ones finds the membership",
		history:      []porcupine.Operation{op(0, 0, 10, remove, noContent), op(1, 1, 11, remove, notMember)},
		linearizable: true,
	}, {
		name:    "two concurrent removes both find the membership",
		history: []porcupine.Operation{op(0, 0, 10, remove, noContent), op(1, 1, 11, remove, noContent)},
	}, {
		name:    "a remove finds the membership after a remove that returned",
		history: []porcupine.Operation{op(0, 0, 10, remove, noContent), op(1, 20, 30, remove, noContent)},
	}, {
		name:         "a target reads before a concurrent cascade",
		history:      []porcupine.Operation{op(0, 0, 10, orgRemove, noContent), op(1, 2, 3, listSpaces, spaces(readableBefore...))},
		linearizable: true,
	}, {
		name:         "a target reads after a concurrent cascade",
		history:      []porcupine.Operation{op(0, 0, 10, orgRemove, noContent), op(1, 2, 3, listSpaces, spaces())},
		linearizable: true,
	}, {
		name:    "a target reads the public space without the private one during a cascade",
		history: []porcupine.Operation{op(0, 0, 10, orgRemove, noContent), op(1, 2, 3, listSpaces, spaces(public))},
	}, {
		name: "a target reads a private space after reading that the cascade removed it",
		history: []porcupine.Operation{
			op(0, 0, 10, orgRemove, noContent),
			op(1, 2, 3, Input{Kind: GetSpace, Actor: t1, Space: private1}, Output{Code: model.SpaceNotFound, Status: 404}),
			op(1, 4, 5, Input{Kind: GetSpace, Actor: t1, Space: public}, Output{Code: model.OK, Status: 200}),
		},
	}, {
		name:         "two concurrent adds of a new membership answer one id",
		history:      []porcupine.Operation{op(0, 0, 10, add, added("aWQtMQ==")), op(1, 1, 11, add, added("aWQtMQ=="))},
		linearizable: true,
	}, {
		name:    "two concurrent adds of a new membership answer two ids",
		history: []porcupine.Operation{op(0, 0, 10, add, added("aWQtMQ==")), op(1, 1, 11, add, added("aWQtMg=="))},
	}, {
		name:    "an add of a new membership answers the id of another",
		history: []porcupine.Operation{op(0, 0, 10, add, added("c3AtdDE="))},
	}, {
		name:    "an add of an existing membership answers a new id",
		history: []porcupine.Operation{op(0, 0, 10, Input{Kind: Add, Actor: p.Admin, Space: private1, User: t1, Role: model.P(model.ReadOnly)}, added("aWQtMQ=="))},
	}, {
		name: "an add of a user outside the organization succeeds",
		history: []porcupine.Operation{op(0, 0, 10, Input{Kind: Add, Actor: p.Admin, Space: public, User: t2, Role: model.P(model.Member)},
			added("aWQtMQ=="))},
	}, {
		name: "a list answers a membership the remove before it took away",
		history: []porcupine.Operation{
			op(0, 0, 10, remove, noContent),
			op(1, 20, 30, Input{Kind: ListMembers, Actor: p.Admin, Space: private1},
				Output{Code: model.OK, Status: 200, Members: []Member{{User: t1, ID: "c3AtdDE=", Role: model.P(model.Member)}}}),
		},
	}, {
		name:    "an operation answers 500",
		history: []porcupine.Operation{op(0, 0, 10, remove, Output{Code: "internal", Status: 500, Unexpected: "internal"})},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := check(NewModel(w), tt.history, time.Minute)
			if got.Linearizable() != tt.linearizable {
				t.Errorf("linearizable = %v (%s), want %v", got.Linearizable(), got.Result, tt.linearizable)
			}
		})
	}
}

// TestLinearizableStepLeavesItsStateAlone checks that a step changes a copy
// of the world, never the one it steps from: porcupine steps from one
// state into many.
func TestLinearizableStepLeavesItsStateAlone(t *testing.T) {
	t.Parallel()
	w, p := fixedWorld(t)
	before := p.Initial.Clone()
	m := NewModel(w)
	steps := []struct {
		in  Input
		out Output
	}{
		{Input{Kind: Add, Actor: p.Admin, Space: p.Spaces[1], User: p.Targets[0], Role: model.P(model.Member)}, Output{Code: model.OK, Status: 200, ID: "aWQtMQ=="}},
		{Input{Kind: Remove, Actor: p.Admin, Space: p.Spaces[0], User: p.Targets[0]}, noContent},
		{Input{Kind: OrgAdd, Actor: p.Admin, Org: p.Org, User: p.Targets[1], Role: model.P(model.Member)}, Output{Code: model.OK, Status: 200, ID: "aWQtMg=="}},
		{Input{Kind: OrgRemove, Actor: p.Admin, Org: p.Org, User: p.Targets[0]}, noContent},
	}
	for _, s := range steps {
		ok, next := m.Step(m.Init(), s.in, s.out)
		if !ok {
			t.Fatalf("the model refused %s", w.describe(s.in, s.out))
		}
		if equal(next.(state), state{w: before}) {
			t.Errorf("%s changed nothing", w.describe(s.in, s.out))
		}
		if !equal(state{w: p.Initial}, state{w: before}) {
			t.Fatalf("%s changed the state it stepped from", w.describe(s.in, s.out))
		}
	}
}

// TestLinearizableUnknownIsNoPass checks that a check that runs out of time
// is no pass, and that its visualisation is written all the same.
func TestLinearizableUnknownIsNoPass(t *testing.T) {
	t.Parallel()
	slow := porcupine.Model{
		Init: func() any { return 0 },
		StepContext: func(ctx context.Context, s, _, _ any) (bool, any) {
			<-ctx.Done()
			return true, s
		},
	}
	v := check(slow, []porcupine.Operation{{Input: 0, Call: 0, Output: 0, Return: 1}}, 10*time.Millisecond)
	if v.Result != porcupine.Unknown || v.Linearizable() {
		t.Fatalf("result %s, linearizable %v: want Unknown, not linearizable", v.Result, v.Linearizable())
	}
	path, err := v.Visualize(t.TempDir(), &History{Workload: Workload{Name: "slow"}})
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("the visualisation %s: %v", path, err)
	}
}

// TestLinearizableVisualizesOnlyFailures checks that a linearizable
// history has no visualisation to write, and one that is not has one.
func TestLinearizableVisualizesOnlyFailures(t *testing.T) {
	t.Parallel()
	w, p := fixedWorld(t)
	remove := Input{Kind: Remove, Actor: p.Admin, Space: p.Spaces[0], User: p.Targets[0]}
	h := &History{World: w, Workload: Workload{Name: "hand-made"}}
	h.Operations = []porcupine.Operation{op(0, 0, 10, remove, noContent)}
	if _, err := Check(h, time.Minute).Visualize(t.TempDir(), h); err == nil {
		t.Error("a linearizable history was visualised as a failure")
	}
	h.Operations = append(h.Operations, op(1, 20, 30, remove, noContent))
	path, err := Check(h, time.Minute).Visualize(t.TempDir(), h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

// TestLinearizableSequentialHistoriesPass plays histories of one client,
// which are sequential, on memstore: the model must agree with the service
// on every answer of every operation, whatever the workload.
func TestLinearizableSequentialHistoriesPass(t *testing.T) {
	t.Parallel()
	authz, err := policy.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, load := range []Workload{Mixed, Contended, Cascade} {
		load.Clients = 1
		for n := range 5 {
			s := memstore.New()
			svc, err := membership.NewService(s, authz)
			if err != nil {
				t.Fatal(err)
			}
			h, err := Play(t.Context(), svc, s, "sequential", 7, n, load)
			if err != nil {
				t.Fatal(err)
			}
			if v := Check(h, CheckTimeout); !v.Linearizable() {
				t.Fatalf("sequential history %d of workload %s: %s", n, load.Name, v.Result)
			}
		}
	}
}

// TestLinearizableHistoriesReplay checks that a seed and a history number
// draw the same world and the same operations of every client, whatever
// the interleaving: what a replay needs.
func TestLinearizableHistoriesReplay(t *testing.T) {
	t.Parallel()
	authz, err := policy.New()
	if err != nil {
		t.Fatal(err)
	}
	play := func(seed uint64) (*History, map[int][]Input) {
		s := memstore.New()
		svc, err := membership.NewService(s, authz)
		if err != nil {
			t.Fatal(err)
		}
		h, err := Play(t.Context(), svc, s, "replay", seed, 3, Mixed)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(h.Operations, func(a, b porcupine.Operation) int { return cmp.Compare(a.Call, b.Call) })
		byClient := map[int][]Input{}
		for _, o := range h.Operations {
			byClient[o.ClientId] = append(byClient[o.ClientId], o.Input.(Input))
		}
		return h, byClient
	}
	h1, ops1 := play(11)
	h2, ops2 := play(11)
	_, other := play(12)
	if !sameFixture(h1.World, h2.World) {
		t.Error("one seed drew two worlds")
	}
	if len(ops1) != Mixed.Clients {
		t.Fatalf("%d clients played, want %d", len(ops1), Mixed.Clients)
	}
	for c := range ops1 {
		if !slices.Equal(ops1[c], ops2[c]) {
			t.Errorf("client %d played other operations on a replay", c)
		}
	}
	if slices.Equal(ops1[0], other[0]) {
		t.Error("two seeds drew the same operations")
	}
}

// sameFixture reports whether two worlds seed the same memberships.
func sameFixture(a, b *World) bool {
	fa, fb := a.Fixture(), b.Fixture()
	return slices.Equal(fa.SpaceMembers, fb.SpaceMembers) && slices.Equal(fa.OrganizationMembers, fb.OrganizationMembers)
}
