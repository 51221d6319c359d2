package memstore

import (
	"fmt"

	memdb "github.com/hashicorp/go-memdb"

	"github.com/spaceauthz/spaceauthz/membership"
)

// readFacts gathers the facts of req from txn, a snapshot or the write
// transaction. Two reads of unchanged records compare equal.
func readFacts(txn *memdb.Txn, req membership.AddUserRequest) (*membership.Facts, error) {
	r := reader{txn: txn}
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

// reader looks records up and keeps the first error, so that a failed
// lookup can never pass for a record that does not exist.
type reader struct {
	txn *memdb.Txn
	err error
}

// get returns the record of table with the given id, or nil.
func get[T any](r *reader, table string, id membership.ID) *T {
	return first[T](r, table, indexID, string(id))
}

func first[T any](r *reader, table, index string, args ...any) *T {
	if r.err != nil {
		return nil
	}
	obj, err := r.txn.First(table, index, args...)
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
	return first[membership.Membership](r, tableSpaceMembers, indexSpaceUser, string(spaceID), string(userID))
}

func (r *reader) organizationGrant(orgID, userID membership.ID) membership.Grant {
	m := first[membership.OrganizationMember](r, tableOrganizationMembers, indexID, string(orgID), string(userID))
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
