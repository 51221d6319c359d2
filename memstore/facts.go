package memstore

import (
	"errors"
	"fmt"

	memdb "github.com/hashicorp/go-memdb"

	"github.com/spaceauthz/spaceauthz/membership"
)

// readFacts gathers the facts of q from txn, a snapshot or the write
// transaction. With a non-nil watches, it also keeps what it takes to tell,
// later, whether a commit has changed what the lookups found (see
// watchSet).
func readFacts(txn *memdb.Txn, q membership.Query, watches *watchSet) (*membership.Facts, error) {
	r := reader{txn: txn, watches: watches}
	f := &membership.Facts{Query: q}
	f.Actor = get[membership.User](&r, tableUsers, q.Actor)
	target := q.UserID != ""
	if target {
		f.Target = get[membership.User](&r, tableUsers, q.UserID)
	}
	if q.Role.Kind == membership.RoleKindCustom {
		f.CustomRole = get[membership.CustomRole](&r, tableCustomRoles, q.Role.ID)
	}
	if q.Operation.Level() == membership.LevelOrganization {
		// One level up: the organization is the query's, and no space.
		f.Organization = get[membership.Organization](&r, tableOrganizations, q.OrganizationID)
		if f.Organization != nil {
			f.ActorOrganizationRole, _ = r.organizationMember(q.OrganizationID, q.Actor)
			if target {
				f.TargetOrganizationRole, f.TargetOrganizationMember = r.organizationMember(q.OrganizationID, q.UserID)
			}
		}
	} else if f.Space = get[membership.Space](&r, tableSpaces, q.SpaceID); f.Space != nil {
		orgID := f.Space.OrganizationID
		f.Organization = get[membership.Organization](&r, tableOrganizations, orgID)
		f.ActorOrganizationRole, _ = r.organizationMember(orgID, q.Actor)
		if m := r.spaceMember(q.SpaceID, q.Actor); m != nil {
			f.ActorSpaceRole = r.grant(m.Role)
		}
		if target {
			f.TargetOrganizationRole, f.TargetOrganizationMember = r.organizationMember(orgID, q.UserID)
			f.Existing = r.spaceMember(q.SpaceID, q.UserID)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return f, nil
}

// watchSet remembers the lookups behind one Facts, so that the write
// transaction can tell whether a commit has changed any of them since. A
// record that was found is watched through the channel go-memdb closes when
// that very record changes. A record that was not found is looked up again
// under the write lock: go-memdb would only watch the nearest node of its
// tree for it, which any write nearby closes, and adds to one space would
// keep failing each other for nothing. A dozen lookups at most, so both
// lists live in arrays.
type watchSet struct {
	found  [16]<-chan struct{}
	nFound int
	absent [16]absentKey
	nAbs   int
}

// absentKey is a lookup of the primary index that found nothing.
type absentKey struct {
	table string
	args  [2]any
	n     int
}

func (w *watchSet) watch(ch <-chan struct{}) bool {
	if w.nFound == len(w.found) {
		return false
	}
	w.found[w.nFound] = ch
	w.nFound++
	return true
}

func (w *watchSet) remember(table string, args []any) bool {
	if w.nAbs == len(w.absent) || len(args) > 2 {
		return false
	}
	k := absentKey{table: table, n: len(args)}
	copy(k.args[:], args)
	w.absent[w.nAbs] = k
	w.nAbs++
	return true
}

// changed reports whether a commit since the lookups may have changed what
// they found. txn is the write transaction: go-memdb closes the channels of
// a commit before it releases its write lock, so under that lock the answer
// is final.
func (w *watchSet) changed(txn *memdb.Txn) (bool, error) {
	for _, ch := range w.found[:w.nFound] {
		select {
		case <-ch:
			return true, nil
		default:
		}
	}
	for _, k := range w.absent[:w.nAbs] {
		obj, err := txn.First(k.table, indexID, k.args[:k.n]...)
		if err != nil || obj != nil {
			return true, err
		}
	}
	return false, nil
}

// errTooManyLookups would mean that readFacts looks up more records than a
// watchSet holds: a change to readFacts that forgot the watchSet.
var errTooManyLookups = errors.New("more lookups than a watch set holds")

// reader looks records up and keeps the first error, so that a failed
// lookup can never pass for a record that does not exist.
type reader struct {
	txn     *memdb.Txn
	watches *watchSet
	err     error
}

// get returns the record of table with the given id, or nil.
func get[T any](r *reader, table string, id membership.ID) *T {
	return first[T](r, table, string(id))
}

// first looks up the primary index of table.
func first[T any](r *reader, table string, args ...any) *T {
	if r.err != nil {
		return nil
	}
	var (
		obj any
		err error
	)
	if r.watches != nil {
		var ch <-chan struct{}
		ch, obj, err = r.txn.FirstWatch(table, indexID, args...)
		if err == nil {
			var kept bool
			if obj != nil {
				kept = r.watches.watch(ch)
			} else {
				kept = r.watches.remember(table, args)
			}
			if !kept {
				err = errTooManyLookups
			}
		}
	} else {
		obj, err = r.txn.First(table, indexID, args...)
	}
	if err != nil {
		r.err = fmt.Errorf("memstore: reading %s: %w", table, err)
		return nil
	}
	if obj == nil {
		return nil
	}
	return obj.(*T)
}

func (r *reader) spaceMember(spaceID, userID membership.ID) *membership.Membership {
	return first[membership.Membership](r, tableSpaceMembers, string(spaceID), string(userID))
}

// organizationMember returns the membership of userID in orgID, if any,
// and the grant it holds.
func (r *reader) organizationMember(orgID, userID membership.ID) (membership.Grant, *membership.OrganizationMember) {
	m := first[membership.OrganizationMember](r, tableOrganizationMembers, string(orgID), string(userID))
	if m == nil {
		return membership.Grant{}, nil
	}
	return r.grant(m.Role), m
}

func (r *reader) grant(role membership.RoleAssignment) membership.Grant {
	g := membership.Grant{Role: role}
	if role.Kind == membership.RoleKindCustom {
		g.CustomRole = get[membership.CustomRole](r, tableCustomRoles, role.ID)
	}
	return g
}
