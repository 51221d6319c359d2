package linearizable

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"

	"github.com/anishathalye/porcupine"

	"github.com/spaceauthz/spaceauthz/internal/model"
)

// state is the model's state of one partition: the partition's world. A
// nil world is the initial state of whichever partition steps first, since
// porcupine starts every partition from the same Init.
type state struct{ w *model.World }

// NewModel returns the sequential model of the operations on the worlds of
// w, for porcupine: a partition per account, whose state is its
// model.World, and a step that computes each operation's answer from the
// state with the contract's checks and accepts the operation only if it
// observed exactly that.
func NewModel(w *World) porcupine.Model {
	return porcupine.Model{
		Partition: byPartition,
		Init:      func() any { return state{} },
		Step: func(s, in, out any) (bool, any) {
			return step(w, s.(state), in.(Input), out.(Output))
		},
		Equal: func(a, b any) bool { return equal(a.(state), b.(state)) },
		Hash:  func(s any) uint64 { return hash(s.(state)) },
		DescribeOperation: func(in, out any) string {
			return w.describe(in.(Input), out.(Output))
		},
		DescribeState: func(s any) string { return w.describeState(s.(state)) },
	}
}

// byPartition splits a history by the partition of its operations, in
// partition order.
func byPartition(history []porcupine.Operation) [][]porcupine.Operation {
	parts := map[int][]porcupine.Operation{}
	for _, op := range history {
		p := op.Input.(Input).Partition
		parts[p] = append(parts[p], op)
	}
	out := make([][]porcupine.Operation, 0, len(parts))
	for _, p := range slices.Sorted(maps.Keys(parts)) {
		out = append(out, parts[p])
	}
	return out
}

// step is porcupine's Step: whether the operation, taking effect on s,
// observes out, and the state it leaves. It never changes s.
func step(w *World, s state, in Input, out Output) (bool, state) {
	if s.w == nil {
		s.w = w.Partitions[in.Partition].Initial
	}
	if out.Unexpected != "" {
		return false, s
	}
	m := s.w
	switch in.Kind {
	case Add:
		old, existed := m.SpaceMembers[model.Key{Of: in.Space, User: in.User}]
		return upsert(s, out, m.Add(in.Actor, in.Space, in.User, in.Role), old, existed, in.Role,
			func(c *model.World) { c.PutMember(in.Space, in.User, in.Role, out.ID) })
	case Remove:
		return removal(s, out, m.Remove(in.Actor, in.Space, in.User),
			func(c *model.World) { c.DeleteMember(in.Space, in.User) })
	case ListMembers:
		return listedMembers(m, in, out), s
	case OrgAdd:
		old, existed := m.OrgMembers[model.Key{Of: in.Org, User: in.User}]
		return upsert(s, out, m.OrgAdd(in.Actor, in.Org, in.User, in.Role), old, existed, in.Role,
			func(c *model.World) { c.PutOrgMember(in.Org, in.User, in.Role, out.ID) })
	case OrgRemove:
		return removal(s, out, m.OrgRemove(in.Actor, in.Org, in.User),
			func(c *model.World) { c.DeleteOrgMember(in.Org, in.User) })
	case GetSpace:
		want := model.SpaceNotFound
		if m.CanRead(in.Actor, in.Space) {
			want = model.OK
		}
		return answers(out, want), s
	case ListSpaces:
		return answers(out, model.OK) && slices.Equal(out.Spaces, readable(m, in.Actor)), s
	}
	return false, s
}

// answers reports whether out is the answer with code want.
func answers(out Output, want model.Code) bool {
	return out.Code == want && out.Status == model.Status(want)
}

// with returns the state change makes, on a clone of s's world.
func with(s state, change func(*model.World)) state {
	c := s.w.Clone()
	change(c)
	return state{w: c}
}

// removal is the step of a remove whose model answer is want: the answer
// must be want, and only a success removes anything.
func removal(s state, out Output, want model.Code, remove func(*model.World)) (bool, state) {
	switch {
	case !answers(out, want):
		return false, s
	case want != model.OK:
		return true, s
	}
	return true, with(s, remove)
}

// upsert is the step of an add whose model answer is want, of the
// membership, old if it existed: a success that found the
// membership must answer its id, one that did not a new id; the role the
// user already has changes nothing.
func upsert(s state, out Output, want model.Code, old model.Membership, existed bool, role model.Role, put func(*model.World)) (bool, state) {
	switch {
	case !answers(out, want):
		return false, s
	case want != model.OK:
		return true, s
	case existed && old.ID != out.ID:
		return false, s
	case !existed && !fresh(s.w, out.ID):
		return false, s
	case existed && old.Role == role:
		return true, s
	}
	return true, with(s, put)
}

// fresh reports whether id can be the id of a new membership: an ID that
// no membership of the world holds.
func fresh(m *model.World, id string) bool {
	if !model.IsID(id) {
		return false
	}
	for _, ms := range []map[model.Key]model.Membership{m.SpaceMembers, m.OrgMembers} {
		for _, x := range ms {
			if x.ID == id {
				return false
			}
		}
	}
	return true
}

// listedMembers reports whether a list of members answered what the model
// lists: the code, and on success every member with its id and role, in
// user id order.
func listedMembers(m *model.World, in Input, out Output) bool {
	code, want, more := m.List(in.Actor, in.Space, model.MaxLimit, "")
	if !answers(out, code) || more || len(out.Members) != len(want) {
		return false
	}
	for i, got := range out.Members {
		if got.User != want[i].User || got.ID != want[i].ID || got.Role != want[i].Role {
			return false
		}
	}
	return true
}

// readable returns the spaces of the world the actor can read, in id
// order: what a list of spaces without filters answers.
func readable(m *model.World, actor string) []string {
	var out []string
	for id := range m.Spaces {
		if m.CanRead(actor, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// equal compares the memberships of two states of one partition, the only
// records that operations change.
func equal(a, b state) bool {
	if a.w == nil || b.w == nil {
		return a.w == b.w
	}
	return maps.Equal(a.w.OrgMembers, b.w.OrgMembers) && maps.Equal(a.w.SpaceMembers, b.w.SpaceMembers)
}

// hash is a hash of the memberships, independent of map order.
func hash(s state) uint64 {
	if s.w == nil {
		return 0
	}
	var sum uint64
	for _, ms := range []map[model.Key]model.Membership{s.w.OrgMembers, s.w.SpaceMembers} {
		for k, m := range ms {
			h := fnv.New64a()
			fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d\x00%s\x00%s", k.Of, k.User, m.ID, m.Role.Kind, m.Role.Name, m.Role.ID)
			sum += h.Sum64()
		}
	}
	return sum
}

// describeState lists the memberships of a state, for the visualisation.
func (w *World) describeState(s state) string {
	if s.w == nil {
		return "as seeded"
	}
	var lines []string
	for _, ms := range []map[model.Key]model.Membership{s.w.OrgMembers, s.w.SpaceMembers} {
		for k, m := range ms {
			lines = append(lines, fmt.Sprintf("%s in %s: %s %s", w.Name(k.User), w.Name(k.Of), m.Role.Name, shortID(m.ID)))
		}
	}
	slices.SortFunc(lines, cmp.Compare)
	return strings.Join(lines, "; ")
}
