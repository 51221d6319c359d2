package membership

import "slices"

// A Source is a set of spaces that a Store reads in space id order from an
// index, without looking at any other space: the building block of a list
// that costs what its filter costs rather than what the account holds.
type Source struct {
	Kind SourceKind
	// ID is the space of SourceSpace and the organization of
	// SourceOrganization.
	ID ID
	// Public narrows a source of organizations (SourceAccount,
	// SourceOrganization, SourceOrganizationMemberships) to their public
	// spaces: the spaces a plain member of an organization reads.
	Public bool
	// Membership, for a source of the actor's memberships
	// (SourceOrganizationMemberships, SourceSpaceMemberships), is a
	// condition on the actor's grant alone (the FieldOrgRole or
	// FieldSpaceRole fields): a membership whose grant fails it need not
	// be read. A Store may ignore it, since the condition is tested on every
	// space anyway; it saves reading the spaces of an organization where the
	// actor's role could not let them read one.
	Membership Condition
	// Guard is a condition on the actor's record alone; the source counts
	// only when it holds (a Store tests it once per list, not per space).
	Guard Condition
}

// SourceKind names what a Source reads.
type SourceKind uint8

// The kinds of Source.
const (
	// SourceAccount is every space of the actor's account.
	SourceAccount SourceKind = iota + 1
	// SourceOrganization is the spaces of the organization Source.ID.
	SourceOrganization
	// SourceSpace is the one space Source.ID.
	SourceSpace
	// SourceOrganizationMemberships is the spaces of every organization
	// the actor is a member of.
	SourceOrganizationMemberships
	// SourceSpaceMemberships is the spaces the actor is a member of.
	SourceSpaceMemberships
)

// Plan returns the sources to read for the spaces on which c holds: every
// space of the actor's account on which c holds lies in a source whose
// guard holds. A Store reads the union of those sources, in space id order,
// and tests c on each space it finds. False plans no source; a condition
// that does not say where its spaces lie plans SourceAccount, alone. Two
// sources of the same spaces are one, read when either guard holds.
//
// The plan follows what each part of c needs: an atom on one of the
// actor's grants holds only where the actor holds that grant (the spaces of
// the actor's memberships), one on the space's id or organization id only
// in that space or organization, one on the actor alone in every space or
// none; an And reads the narrowest source of its parts, an Or the union of
// theirs.
func (c Condition) Plan() []Source {
	var out []Source
	for _, s := range c.cover() {
		// One source read once, whichever guard lets it in.
		i := slices.IndexFunc(out, func(o Source) bool { return o.Kind == s.Kind && o.ID == s.ID && o.Public == s.Public })
		if i < 0 {
			out = append(out, s)
			continue
		}
		out[i].Guard = Or(out[i].Guard, s.Guard)
		out[i].Membership = Or(out[i].Membership, s.Membership)
	}
	// The whole account, for every actor, holds every other source.
	for _, s := range out {
		if s.Kind == SourceAccount && !s.Public && s.Guard.Op == OpTrue {
			return []Source{s}
		}
	}
	return out
}

// selectivity orders source kinds from the fewest spaces to the most, as a
// guess: one space, one organization, the actor's own memberships, their
// organizations, the whole account.
var selectivity = [...]int{
	SourceSpace:                   0,
	SourceOrganization:            1,
	SourceSpaceMemberships:        2,
	SourceOrganizationMemberships: 3,
	SourceAccount:                 4,
}

// unguardedAccount scores the whole account for every actor: worse than a
// source read only for the actors its guard lets in.
const unguardedAccount = 5

func (s Source) score() int {
	if s.Kind == SourceAccount && s.Guard.Op == OpTrue {
		return unguardedAccount
	}
	return selectivity[s.Kind]
}

func (c Condition) cover() []Source {
	switch c.Op {
	case OpFalse:
		return nil
	case OpTrue:
		return []Source{{Kind: SourceAccount, Guard: True, Membership: True}}
	case OpAtom:
		return c.Atom.cover()
	case OpOr:
		var out []Source
		for _, x := range c.Of {
			out = append(out, x.cover()...)
		}
		return out
	}
	// And: the actor's own conditions guard whichever part's sources are
	// read; the part read is the one whose widest source is narrowest.
	var guards []Condition
	var best []Source
	bestScore := unguardedAccount + 1
	for _, x := range c.Of {
		if x.onActor() {
			guards = append(guards, x)
			continue
		}
		cov := x.cover()
		score := -1
		for _, s := range cov {
			score = max(score, s.score())
		}
		if score < bestScore {
			best, bestScore = cov, score
		}
	}
	guard := And(guards...)
	public := slices.ContainsFunc(c.Of, requiresPublic)
	if best == nil && bestScore > unguardedAccount {
		return []Source{{Kind: SourceAccount, Public: public, Guard: guard}}
	}
	out := make([]Source, len(best))
	for i, s := range best {
		s.Guard = And(s.Guard, guard)
		s.Public = s.Public || public && s.Kind != SourceSpace && s.Kind != SourceSpaceMemberships
		if g := s.grant(); g != FieldNone {
			// Every part on the grant alone holds of the membership too.
			for _, x := range c.Of {
				if x.onGrant(g) {
					s.Membership = And(s.Membership, x)
				}
			}
		}
		out[i] = s
	}
	return out
}

// grant returns the grant whose memberships s reads, or FieldNone.
func (s Source) grant() Field {
	switch s.Kind {
	case SourceOrganizationMemberships:
		return FieldOrgRole
	case SourceSpaceMemberships:
		return FieldSpaceRole
	}
	return FieldNone
}

// onGrant reports whether c reads the fields of grant g and nothing else.
func (c Condition) onGrant(g Field) bool {
	only, reads := true, false
	c.each(func(a Atom) {
		for _, o := range [2]Operand{a.Left, a.Right} {
			switch {
			case o.Field == FieldNone:
			case o.Field.Grant() == g:
				reads = true
			default:
				only = false
			}
		}
	})
	return only && reads
}

// requiresPublic reports whether c holds only on a public space: it is
// input.space.is_private == false.
func requiresPublic(c Condition) bool {
	a := c.Atom
	return c.Op == OpAtom && !a.Negated && a.Test == TestEqual &&
		(a.Left.Field == FieldSpaceIsPrivate && a.Right.Field == FieldNone && a.Right.Value.Kind == KindBool && !a.Right.Value.Bool ||
			a.Right.Field == FieldSpaceIsPrivate && a.Left.Field == FieldNone && a.Left.Value.Kind == KindBool && !a.Left.Value.Bool)
}

func (a Atom) cover() []Source {
	all := []Source{{Kind: SourceAccount, Guard: True, Membership: True}}
	if Is(a).onActor() {
		return []Source{{Kind: SourceAccount, Guard: Is(a), Membership: True}}
	}
	if a.Negated {
		return all
	}
	field, value := a.Left.Field, a.Right
	if field == FieldNone {
		field, value = a.Right.Field, a.Left
	}
	// An atom on a field inside a grant holds only when it is held.
	for _, o := range [2]Operand{a.Left, a.Right} {
		if g := o.Field.Grant(); g != FieldNone && o.Field != g {
			return []Source{{Kind: grantSource(g), Guard: True, Membership: membershipTest(a, g)}}
		}
	}
	if g := field.Grant(); g == field && g != FieldNone {
		held := a.Test == TestIsObject ||
			a.Test == TestNotEqual && value.Field == FieldNone && value.Value.Kind == KindNull
		if held {
			return []Source{{Kind: grantSource(g), Guard: True, Membership: True}}
		}
		return all
	}
	if value.Field != FieldNone {
		return all
	}
	var kind SourceKind
	switch field {
	case FieldSpaceID:
		kind = SourceSpace
	case FieldSpaceOrganizationID, FieldOrganizationID:
		kind = SourceOrganization
	default:
		return all
	}
	var ids []Value
	switch {
	case a.Test == TestEqual:
		ids = []Value{value.Value}
	case a.Test == TestIn && a.Left.Field == field && value.Value.Kind == KindList:
		ids = value.Value.List
	default:
		return all
	}
	out := []Source{}
	for _, v := range ids {
		if v.Kind == KindString {
			out = append(out, Source{Kind: kind, ID: ID(v.Str), Guard: True, Membership: True})
		}
	}
	return out
}

// membershipTest is the atom a as a test of a membership's grant g, when it
// reads nothing else.
func membershipTest(a Atom, g Field) Condition {
	if Is(a).onGrant(g) {
		return Is(a)
	}
	return True
}

func grantSource(g Field) SourceKind {
	if g == FieldOrgRole {
		return SourceOrganizationMemberships
	}
	return SourceSpaceMemberships
}
