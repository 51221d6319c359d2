package policy

import (
	"encoding/binary"
	"slices"

	"github.com/spaceauthz/spaceauthz/membership"
)

// A decision key is the part of the input document that a policy reads,
// written straight from the typed facts into a byte string: two facts with
// equal keys have input documents that agree on every path the policy can
// read, so they get the same decision.
//
// The input schema (see inputValue) is a tree of nodes. Every node writes its
// state into the key: a leaf its value, an object whether it is there, null,
// or undefined. A read of a path takes the state of every node on the way
// (so "actor is null" and "actor.id is X" are both captured) and of the whole
// subtree at its end. Nodes are written by one switch rather than by
// closures, so that building a key is a few direct calls per node.

// part names an object of the input document.
type part uint8

const (
	partInput part = iota
	partActor
	partActorOrganizationRole
	partActorOrganizationCustomRole
	partActorSpaceRole
	partActorSpaceCustomRole
	partTarget
	partTargetOrganizationRole
	partTargetOrganizationCustomRole
	partOrganization
	partSpace
	partRole
	partCustomRole
	partMembership
	partMembershipRole
)

// field names a member of an object; fieldSelf is the object itself.
type field uint8

const (
	fieldSelf field = iota
	fieldID
	fieldAccountID
	fieldName
	fieldEmail
	fieldRole
	fieldOrganizationID
	fieldIsPrivate
	fieldType
	fieldPermissions
	fieldUserID
	fieldSpaceID
	// fieldAll is a whole role or custom role, with everything under it,
	// as one node: these subtrees are read whole by the default policy.
	fieldAll
)

// node is one node of the input document.
type node struct {
	part  part
	field field
}

// The tags that start every node's state, so that keys cannot run together.
const (
	tagUndefined byte = iota
	tagNull
	tagObject
	tagFalse
	tagTrue
	tagString
	tagStrings
)

// writeNode appends the state of n in the input document of f.
func writeNode(b []byte, f *membership.Facts, n node) []byte {
	switch n.part {
	case partInput:
		return append(b, tagObject)
	case partActor:
		return writeUser(b, f.Actor, n.field)
	case partTarget:
		return writeUser(b, f.Target, n.field)
	case partActorOrganizationRole:
		return writeGrant(b, f.Actor != nil, &f.ActorOrganizationRole, n.field)
	case partActorSpaceRole:
		return writeGrant(b, f.Actor != nil, &f.ActorSpaceRole, n.field)
	case partTargetOrganizationRole:
		return writeGrant(b, f.Target != nil, &f.TargetOrganizationRole, n.field)
	case partActorOrganizationCustomRole:
		return writeGrantCustomRole(b, f.Actor != nil, &f.ActorOrganizationRole, n.field)
	case partActorSpaceCustomRole:
		return writeGrantCustomRole(b, f.Actor != nil, &f.ActorSpaceRole, n.field)
	case partTargetOrganizationCustomRole:
		return writeGrantCustomRole(b, f.Target != nil, &f.TargetOrganizationRole, n.field)
	case partOrganization:
		o := f.Organization
		if n.field == fieldSelf || o == nil {
			return appendPresence(b, o != nil, n.field)
		}
		switch n.field {
		case fieldID:
			return appendString(b, string(o.ID))
		case fieldAccountID:
			return appendString(b, string(o.AccountID))
		case fieldName:
			return appendString(b, o.Name)
		}
	case partSpace:
		s := f.Space
		if n.field == fieldSelf || s == nil {
			return appendPresence(b, s != nil, n.field)
		}
		switch n.field {
		case fieldID:
			return appendString(b, string(s.ID))
		case fieldOrganizationID:
			return appendString(b, string(s.OrganizationID))
		case fieldName:
			return appendString(b, s.Name)
		case fieldIsPrivate:
			if s.IsPrivate {
				return append(b, tagTrue)
			}
			return append(b, tagFalse)
		}
	case partRole:
		return writeRole(b, true, &f.Request.Role, n.field)
	case partCustomRole:
		return writeCustomRole(b, f.CustomRole, n.field)
	case partMembership:
		m := f.Existing
		if n.field == fieldSelf || m == nil {
			return appendPresence(b, m != nil, n.field)
		}
		switch n.field {
		case fieldID:
			return appendString(b, string(m.ID))
		case fieldUserID:
			return appendString(b, string(m.UserID))
		case fieldSpaceID:
			return appendString(b, string(m.SpaceID))
		}
	case partMembershipRole:
		if f.Existing == nil {
			return append(b, tagUndefined)
		}
		return writeRole(b, true, &f.Existing.Role, n.field)
	}
	panic("policy: no such node of the input document")
}

// appendPresence writes an object's own state (null or object), or, for a
// member of a missing object, undefined.
func appendPresence(b []byte, present bool, f field) []byte {
	switch {
	case f != fieldSelf:
		return append(b, tagUndefined)
	case present:
		return append(b, tagObject)
	default:
		return append(b, tagNull)
	}
}

func writeUser(b []byte, u *membership.User, f field) []byte {
	if f == fieldSelf || u == nil {
		return appendPresence(b, u != nil, f)
	}
	switch f {
	case fieldID:
		return appendString(b, string(u.ID))
	case fieldAccountID:
		return appendString(b, string(u.AccountID))
	case fieldName:
		return appendString(b, u.Name)
	case fieldEmail:
		return appendString(b, u.Email)
	case fieldRole:
		return appendString(b, u.Role.String())
	}
	panic("policy: no such field of a user")
}

// writeGrant writes a role held; holder tells whether its holder exists.
func writeGrant(b []byte, holder bool, g *membership.Grant, f field) []byte {
	if !holder {
		return append(b, tagUndefined)
	}
	if f == fieldAll {
		if !g.Held() {
			return append(b, tagNull)
		}
		b = writeRole(b, true, &g.Role, fieldAll)
		if g.Role.Kind == membership.RoleKindCustom {
			b = writeCustomRole(b, g.CustomRole, fieldAll)
		}
		return b
	}
	if f == fieldSelf || !g.Held() {
		return appendPresence(b, g.Held(), f)
	}
	return writeRole(b, true, &g.Role, f)
}

// writeGrantCustomRole writes the custom role a held custom role names,
// which is undefined for any other grant.
func writeGrantCustomRole(b []byte, holder bool, g *membership.Grant, f field) []byte {
	if !holder || !g.Held() || g.Role.Kind != membership.RoleKindCustom {
		return append(b, tagUndefined)
	}
	return writeCustomRole(b, g.CustomRole, f)
}

// writeRole writes a role assignment, defined or not.
func writeRole(b []byte, defined bool, r *membership.RoleAssignment, f field) []byte {
	if !defined {
		return append(b, tagUndefined)
	}
	custom := r.Kind == membership.RoleKindCustom
	switch f {
	case fieldAll:
		b = appendString(append(b, tagObject), r.Kind.String())
		if custom {
			return appendString(b, string(r.ID))
		}
		return appendString(b, r.Name.String())
	case fieldSelf:
		return append(b, tagObject)
	case fieldType:
		return appendString(b, r.Kind.String())
	case fieldName:
		if custom {
			return append(b, tagUndefined)
		}
		return appendString(b, r.Name.String())
	case fieldID:
		if !custom {
			return append(b, tagUndefined)
		}
		return appendString(b, string(r.ID))
	}
	panic("policy: no such field of a role")
}

func writeCustomRole(b []byte, r *membership.CustomRole, f field) []byte {
	if f == fieldAll {
		if r == nil {
			return append(b, tagNull)
		}
		b = append(b, tagObject)
		for _, f := range [...]field{fieldID, fieldAccountID, fieldName, fieldPermissions} {
			b = writeCustomRole(b, r, f)
		}
		return b
	}
	if f == fieldSelf || r == nil {
		return appendPresence(b, r != nil, f)
	}
	switch f {
	case fieldID:
		return appendString(b, string(r.ID))
	case fieldAccountID:
		return appendString(b, string(r.AccountID))
	case fieldName:
		return appendString(b, r.Name)
	case fieldPermissions:
		b = append(b, tagStrings)
		b = binary.AppendUvarint(b, uint64(len(r.Permissions)))
		for _, p := range r.Permissions {
			b = binary.AppendUvarint(b, uint64(len(p)))
			b = append(b, p...)
		}
		return b
	}
	panic("policy: no such field of a custom role")
}

func appendString(b []byte, s string) []byte {
	b = append(b, tagString)
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// schemaNode is a node of the input schema with its members.
type schemaNode struct {
	node
	kids map[string]*schemaNode
}

// object builds the schema of an object part from its leaf fields and its
// member objects.
func object(p part, leaves map[string]field, members map[string]*schemaNode) *schemaNode {
	n := &schemaNode{node: node{p, fieldSelf}, kids: map[string]*schemaNode{}}
	for name, f := range leaves {
		n.kids[name] = &schemaNode{node: node{p, f}}
	}
	for name, m := range members {
		n.kids[name] = m
	}
	return n
}

var (
	userLeaves       = map[string]field{"id": fieldID, "account_id": fieldAccountID, "name": fieldName, "email": fieldEmail, "role": fieldRole}
	roleLeaves       = map[string]field{"type": fieldType, "name": fieldName, "id": fieldID}
	customRoleLeaves = map[string]field{"id": fieldID, "account_id": fieldAccountID, "name": fieldName, "permissions": fieldPermissions}
)

func grantSchema(grant, customRole part) *schemaNode {
	return object(grant, roleLeaves, map[string]*schemaNode{"custom_role": object(customRole, customRoleLeaves, nil)})
}

// inputSchema mirrors inputValue; TestKeysAgreeWithInput checks that they
// agree.
var inputSchema = object(partInput, nil, map[string]*schemaNode{
	"actor": object(partActor, userLeaves, map[string]*schemaNode{
		"organization_role": grantSchema(partActorOrganizationRole, partActorOrganizationCustomRole),
		"space_role":        grantSchema(partActorSpaceRole, partActorSpaceCustomRole),
	}),
	"target": object(partTarget, userLeaves, map[string]*schemaNode{
		"organization_role": grantSchema(partTargetOrganizationRole, partTargetOrganizationCustomRole),
	}),
	"organization": object(partOrganization, map[string]field{"id": fieldID, "account_id": fieldAccountID, "name": fieldName}, nil),
	"space":        object(partSpace, map[string]field{"id": fieldID, "organization_id": fieldOrganizationID, "name": fieldName, "is_private": fieldIsPrivate}, nil),
	"role":         object(partRole, roleLeaves, nil),
	"custom_role":  object(partCustomRole, customRoleLeaves, nil),
	"membership": object(partMembership, map[string]field{"id": fieldID, "user_id": fieldUserID, "space_id": fieldSpaceID}, map[string]*schemaNode{
		"role": object(partMembershipRole, roleLeaves, nil),
	}),
})

// compact are the parts whose whole subtree is written as one node.
var compact = map[part]bool{
	partActorOrganizationRole: true, partActorSpaceRole: true, partTargetOrganizationRole: true,
	partActorOrganizationCustomRole: true, partActorSpaceCustomRole: true, partTargetOrganizationCustomRole: true,
	partRole: true, partCustomRole: true, partMembershipRole: true,
}

// keyNodes returns the nodes that a read of one of the paths (each relative
// to input) can observe, in a fixed order.
func keyNodes(paths [][]string) []node {
	var picked []node
	pick := func(n *schemaNode) {
		if !slices.Contains(picked, n.node) {
			picked = append(picked, n.node)
		}
	}
	var subtree func(*schemaNode)
	subtree = func(n *schemaNode) {
		if compact[n.part] {
			pick(&schemaNode{node: node{n.part, fieldAll}})
			return
		}
		pick(n)
		names := make([]string, 0, len(n.kids))
		for name := range n.kids {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			subtree(n.kids[name])
		}
	}
	for _, path := range paths {
		n := inputSchema
		pick(n)
		for _, seg := range path {
			if n = n.kids[seg]; n == nil {
				// Deeper than the schema goes: undefined, or inside a leaf
				// whose value is already picked.
				break
			}
			pick(n)
		}
		if n != nil {
			subtree(n)
		}
	}
	return picked
}
