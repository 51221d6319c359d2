package auditreplay

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spaceauthz/spaceauthz/membership"
)

// The ways an entry can fail to fit the replayed state; every error of
// Replay and Apply wraps one of them.
var (
	// ErrRepeated: the entry's ID is that of an entry already applied.
	ErrRepeated = errors.New("auditreplay: an entry seen before")
	// ErrOutOfOrder: the entry's Position is not greater than that of the
	// last entry of its account applied.
	ErrOutOfOrder = errors.New("auditreplay: an entry out of commit order")
	// ErrMalformed: the entry is not the record of a change: an unknown
	// operation, a space or organization the World does not hold, another
	// account, a put that changes nothing, roles or Removed that do not go
	// with the operation, no ID or no actor.
	ErrMalformed = errors.New("auditreplay: an entry that records no change")
	// ErrBeforeMismatch: the entry's Before is not the role the replay
	// holds for the membership.
	ErrBeforeMismatch = errors.New("auditreplay: an entry whose Before is not the replayed role")
	// ErrNotInOrganization: an add to a space for a user who is not, in
	// the replay, a member of the space's organization.
	ErrNotInOrganization = errors.New("auditreplay: an add of a user not in the space's organization")
	// ErrRemovedMismatch: a cascade's Removed is not exactly the user's
	// memberships of the organization's spaces in the replay, in space id
	// order.
	ErrRemovedMismatch = errors.New("auditreplay: a cascade whose Removed is not what it removes")
)

// Replay returns the World that applying log, in order, to start gives;
// start is left as it was. log holds the changelogs of start's accounts,
// each in commit order, as membership.Store.AuditLog returns them with
// Ascending set; the changelogs of different accounts may interleave. The
// first entry that does not fit stops the replay with an error naming it.
func Replay(start World, log []membership.AuditEntry) (World, error) {
	r := NewReplayer(start)
	for i, e := range log {
		if err := r.Apply(e); err != nil {
			return World{}, fmt.Errorf("entry %d of the log: %w", i, err)
		}
	}
	return r.World(), nil
}

// Replayer applies a changelog to a World, an entry at a time, and keeps
// where each account's changelog stands. It is not safe for concurrent
// use.
type Replayer struct {
	world World
	// last is the Position of the last entry applied, by account.
	last map[membership.ID]int64
	ids  map[membership.ID]bool
}

// NewReplayer returns a Replayer that starts from a copy of start.
func NewReplayer(start World) *Replayer {
	return &Replayer{world: start.Clone(), last: map[membership.ID]int64{}, ids: map[membership.ID]bool{}}
}

// World returns a copy of the replayed World.
func (r *Replayer) World() World { return r.world.Clone() }

// After returns the Position of the last entry of account applied, zero
// for none: a changelog resumes after it.
func (r *Replayer) After(account membership.ID) int64 { return r.last[account] }

// PutOrganizationMember records a write that leaves no entry, a Seeder's,
// of the role of user in org.
func (r *Replayer) PutOrganizationMember(org, user membership.ID, role membership.RoleAssignment) {
	r.world.OrganizationMembers[OrganizationKey{org, user}] = role.Canonical()
}

// PutSpaceMember records a write that leaves no entry, a Seeder's, of the
// role of user in space.
func (r *Replayer) PutSpaceMember(space, user membership.ID, role membership.RoleAssignment) {
	r.world.SpaceMembers[SpaceKey{space, user}] = role.Canonical()
}

// Apply applies e, the next entry of its account's changelog, or changes
// nothing and returns an error wrapping the reason it does not fit.
func (r *Replayer) Apply(e membership.AuditEntry) error {
	if err := r.apply(e); err != nil {
		return fmt.Errorf("position %d, id %q (%s of user %s by %s): %w", e.Position, e.ID, e.OperationName(), e.UserID, e.Actor, err)
	}
	return nil
}

func (r *Replayer) apply(e membership.AuditEntry) error {
	if r.ids[e.ID] {
		return ErrRepeated
	}
	org, err := r.checkForm(e)
	if err != nil {
		return err
	}
	if last := r.last[e.AccountID]; e.Position <= last {
		return fmt.Errorf("%w: the last entry of account %s applied has position %d", ErrOutOfOrder, e.AccountID, last)
	}
	w := r.world
	var held membership.RoleAssignment
	if e.Operation.Level() == membership.LevelSpace {
		held = w.SpaceMembers[SpaceKey{e.SpaceID, e.UserID}]
	} else {
		held = w.OrganizationMembers[OrganizationKey{org, e.UserID}]
	}
	if e.Before != held {
		return fmt.Errorf("%w: Before is %s, the replay holds %s", ErrBeforeMismatch, roleText(e.Before), roleText(held))
	}
	switch e.Operation {
	case membership.OperationAdd:
		if _, ok := w.OrganizationMembers[OrganizationKey{org, e.UserID}]; !ok {
			return fmt.Errorf("%w: organization %s", ErrNotInOrganization, org)
		}
		w.SpaceMembers[SpaceKey{e.SpaceID, e.UserID}] = e.After
	case membership.OperationRemove:
		delete(w.SpaceMembers, SpaceKey{e.SpaceID, e.UserID})
	case membership.OperationOrgAdd:
		w.OrganizationMembers[OrganizationKey{org, e.UserID}] = e.After
	case membership.OperationOrgRemove:
		below := r.spaceMembershipsOf(org, e.UserID)
		if got := removedOf(e.Removed); !slices.Equal(got, below) {
			return fmt.Errorf("%w: Removed is %v, the replay holds %v", ErrRemovedMismatch, got, below)
		}
		delete(w.OrganizationMembers, OrganizationKey{org, e.UserID})
		for _, m := range below {
			delete(w.SpaceMembers, SpaceKey{m.SpaceID, e.UserID})
		}
	}
	r.last[e.AccountID] = e.Position
	r.ids[e.ID] = true
	return nil
}

// checkForm checks that e, on its own and against the layout of the
// World, is the record of a change, and returns the organization it
// changed or whose space it changed.
func (r *Replayer) checkForm(e membership.AuditEntry) (membership.ID, error) {
	w := r.world
	malformed := func(format string, args ...any) (membership.ID, error) {
		return "", fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
	if !e.ID.Valid() || e.Actor == "" || e.Position <= 0 {
		return malformed("no ID, no actor or no position")
	}
	if _, ok := w.Users[e.UserID]; !ok {
		return malformed("user %s is not of the World", e.UserID)
	}
	var org membership.ID
	switch e.Operation.Level() {
	case membership.LevelSpace:
		if e.OrganizationID != "" {
			return malformed("a space operation names organization %s", e.OrganizationID)
		}
		var ok bool
		if org, ok = w.Spaces[e.SpaceID]; !ok {
			return malformed("space %q is not of the World", e.SpaceID)
		}
	case membership.LevelOrganization:
		if e.SpaceID != "" {
			return malformed("an organization operation names space %s", e.SpaceID)
		}
		org = e.OrganizationID
	}
	account, ok := w.Organizations[org]
	switch {
	case !ok:
		return malformed("organization %q is not of the World", org)
	case account != e.AccountID:
		return malformed("account %s, but the organization %s is of account %s", e.AccountID, org, account)
	}
	none := membership.RoleAssignment{}
	switch e.Operation {
	case membership.OperationAdd, membership.OperationOrgAdd:
		if e.After == none || e.After != e.After.Canonical() || e.After == e.Before || len(e.Removed) > 0 {
			return malformed("a put from %s to %s, removing %d", roleText(e.Before), roleText(e.After), len(e.Removed))
		}
	case membership.OperationRemove, membership.OperationOrgRemove:
		if e.Before == none || e.After != none || e.Operation == membership.OperationRemove && len(e.Removed) > 0 {
			return malformed("a removal from %s to %s, removing %d", roleText(e.Before), roleText(e.After), len(e.Removed))
		}
	default:
		return malformed("operation %v changes no membership", e.Operation)
	}
	for _, m := range e.Removed {
		if !m.ID.Valid() {
			return malformed("a removed membership without an ID: %+v", m)
		}
	}
	return org, nil
}

// removed is a space membership as a cascade's Removed names it, without
// its id, which only the store knows.
type removed struct {
	SpaceID, UserID membership.ID
	Role            membership.RoleAssignment
}

func (m removed) String() string {
	return fmt.Sprintf("%s in %s as %s", m.UserID, m.SpaceID, roleText(m.Role))
}

// spaceMembershipsOf returns the replayed memberships of user in the
// spaces of org, in space id order.
func (r *Replayer) spaceMembershipsOf(org, user membership.ID) []removed {
	var out []removed
	for k, role := range r.world.SpaceMembers {
		if k.UserID == user && r.world.Spaces[k.SpaceID] == org {
			out = append(out, removed{k.SpaceID, user, role})
		}
	}
	slices.SortFunc(out, func(a, b removed) int { return strings.Compare(string(a.SpaceID), string(b.SpaceID)) })
	return out
}

func removedOf(ms []membership.Membership) []removed {
	var out []removed
	for _, m := range ms {
		out = append(out, removed{m.SpaceID, m.UserID, m.Role.Canonical()})
	}
	return out
}

// roleText is a role as an error shows it.
func roleText(r membership.RoleAssignment) string {
	switch {
	case r == membership.RoleAssignment{}:
		return "none"
	case r.Kind == membership.RoleKindCustom:
		return "custom " + string(r.ID)
	}
	return r.Name.String()
}
