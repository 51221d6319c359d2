package memstore

import (
	"fmt"

	memdb "github.com/hashicorp/go-memdb"

	"github.com/spaceauthz/spaceauthz/membership"
)

// readFacts gathers the facts of req from txn, a snapshot or the write
// transaction. With a non-nil watches, it also keeps the go-memdb watch
// channel of every lookup: a channel closes when a later commit changes what
// that lookup found, or would have found.
func readFacts(txn *memdb.Txn, req membership.AddUserRequest, watches *watchSet) (*membership.Facts, error) {
	r := reader{txn: txn, watches: watches}
	f := &membership.Facts{Request: req}
	f.Actor = get[membership.User](&r, tableUsers, req.Actor)
	f.Target = get[membership.User](&r, tableUsers, req.UserID)
	if req.Role.Kind == membership.RoleKindCustom {
		f.CustomRole = get[membership.CustomRole](&r, tableCustomRoles, req.Role.ID)
	}
	f.Space = get[membership.Space](&r, tableSpaces, req.SpaceID)
	if f.Space != nil {
		orgID := f.Space.OrganizationID
		f.Organization = get[membership.Organization](&r, tableOrganizations, orgID)
		f.ActorOrganizationRole = r.organizationGrant(orgID, req.Actor)
		f.TargetOrganizationRole = r.organizationGrant(orgID, req.UserID)
		if m := r.spaceMember(req.SpaceID, req.Actor); m != nil {
			f.ActorSpaceRole = r.grant(m.Role)
		}
		f.Existing = r.spaceMember(req.SpaceID, req.UserID)
	}
	if r.err != nil {
		return nil, r.err
	}
	return f, nil
}

// watchSet holds the watch channels of the lookups behind one Facts: at most
// a dozen, so they live in an array.
type watchSet struct {
	chans [16]<-chan struct{}
	n     int
	more  []<-chan struct{}
}

func (w *watchSet) add(ch <-chan struct{}) {
	if w.n < len(w.chans) {
		w.chans[w.n] = ch
		w.n++
		return
	}
	w.more = append(w.more, ch)
}

// fired reports whether a commit since the lookups may have changed what
// they found. go-memdb closes the channels before it releases its write
// lock, so under that lock the answer is final.
func (w *watchSet) fired() bool {
	for _, ch := range append(w.chans[:w.n:w.n], w.more...) {
		select {
		case <-ch:
			return true
		default:
		}
	}
	return false
}

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
		r.watches.add(ch)
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

func (r *reader) organizationGrant(orgID, userID membership.ID) membership.Grant {
	m := first[membership.OrganizationMember](r, tableOrganizationMembers, string(orgID), string(userID))
	if m == nil {
		return membership.Grant{}
	}
	return r.grant(m.Role)
}

func (r *reader) grant(role membership.RoleAssignment) membership.Grant {
	g := membership.Grant{Role: role}
	if role.Kind == membership.RoleKindCustom {
		g.CustomRole = get[membership.CustomRole](r, tableCustomRoles, role.ID)
	}
	return g
}
