package policy

import (
	"slices"
	"strings"

	"github.com/spaceauthz/spaceauthz/membership"
)

// The input document is described once, here, as a tree of nodes that each
// know how to read their value from membership.Facts. Everything else is
// derived from this tree: the input document (inputValue), the decision key
// (keys.go), the static analysis of which ids a policy only compares
// (analysis.go), and the table of fields in the docs (Fields). Adding a field
// means adding one node.

// kind is what a node of the input document holds.
type kind uint8

const (
	kindObject  kind = iota // an object, or null
	kindID                  // an opaque ID: base64 text that means nothing
	kindString              // any other text
	kindEnum                // an enum value, upper-case spelling
	kindBool                // true or false
	kindStrings             // an array of strings
)

var kindNames = [...]string{
	kindObject:  "object",
	kindID:      "id",
	kindString:  "string",
	kindEnum:    "enum",
	kindBool:    "boolean",
	kindStrings: "array of strings",
}

// state says whether a node is there in one input document.
type state uint8

const (
	undefined state = iota // the member is absent
	null                   // the member is JSON null: a record not found
	present                // the member has a value (an object's members follow)
)

// value is a node's value in one input document. Only the field of the
// node's kind is set, and only when state is present.
type value struct {
	state state
	text  string // kindID, kindString, kindEnum
	flag  bool   // kindBool
	list  []membership.Permission
}

func text(s string) value { return value{state: present, text: s} }

// schemaNode is one node of the input document.
type schemaNode struct {
	name string   // the member's name
	path []string // from input down to this node
	kind kind
	doc  string // one line for the table of fields
	// read returns the node's value in the input document of f; for an
	// object it says only whether the object is there.
	read func(*membership.Facts) value
	kids []*schemaNode // members of an object, by name
	// index is the node's position in a depth-first walk of the schema,
	// which orders keys.
	index int
}

// member builds one member of an object whose records of type T are found
// by get: get returns the record (nil for null) and whether the object is
// defined at all.
type member[T any] func(get func(*membership.Facts) (*T, bool)) *schemaNode

// object returns the node of an object found by get, with its members.
func object[T any](name, doc string, get func(*membership.Facts) (*T, bool), members ...member[T]) *schemaNode {
	n := &schemaNode{name: name, kind: kindObject, doc: doc, read: func(f *membership.Facts) value {
		r, defined := get(f)
		switch {
		case !defined:
			return value{}
		case r == nil:
			return value{state: null}
		}
		return value{state: present}
	}}
	for _, m := range members {
		n.kids = append(n.kids, m(get))
	}
	return n
}

// child is a member that is an object itself, found from its parent's
// record by get.
func child[T, U any](name, doc string, get func(f *membership.Facts, parent *T) (*U, bool), members ...member[U]) member[T] {
	return func(parent func(*membership.Facts) (*T, bool)) *schemaNode {
		return object(name, doc, func(f *membership.Facts) (*U, bool) {
			p, defined := parent(f)
			if !defined || p == nil {
				return nil, false
			}
			return get(f, p)
		}, members...)
	}
}

// leaf is a member with a plain value, read from its object's record.
func leaf[T any](name string, k kind, doc string, read func(*T) value) member[T] {
	return func(get func(*membership.Facts) (*T, bool)) *schemaNode {
		return &schemaNode{name: name, kind: k, doc: doc, read: func(f *membership.Facts) value {
			r, defined := get(f)
			if !defined || r == nil {
				return value{}
			}
			return read(r)
		}}
	}
}

// record returns an accessor for an optional record of the facts: null
// when it was not found.
func record[T any](field func(*membership.Facts) *T) func(*membership.Facts) (*T, bool) {
	return func(f *membership.Facts) (*T, bool) { return field(f), true }
}

func userMembers(extra ...member[membership.User]) []member[membership.User] {
	return append([]member[membership.User]{
		leaf("id", kindID, "the user's id", func(u *membership.User) value { return text(string(u.ID)) }),
		leaf("account_id", kindID, "the user's account", func(u *membership.User) value { return text(string(u.AccountID)) }),
		leaf("name", kindString, "display name", func(u *membership.User) value { return text(u.Name) }),
		leaf("email", kindString, "email address", func(u *membership.User) value { return text(u.Email) }),
		leaf("role", kindEnum, "account role: ADMIN, MEMBER or ANNOTATOR", func(u *membership.User) value { return text(u.Role.String()) }),
	}, extra...)
}

// roleMembers are the members of a role assignment found in T by role.
func roleMembers[T any](role func(*T) *membership.RoleAssignment) []member[T] {
	return []member[T]{
		leaf("type", kindEnum, "PREDEFINED or CUSTOM", func(r *T) value { return text(role(r).Kind.String()) }),
		leaf("name", kindEnum, "a predefined role: ADMIN, MEMBER, READ_ONLY or ANNOTATOR; absent for a custom role", func(r *T) value {
			if a := role(r); a.Kind != membership.RoleKindCustom {
				return text(a.Name.String())
			}
			return value{}
		}),
		leaf("id", kindID, "a custom role's id; absent for a predefined role", func(r *T) value {
			if a := role(r); a.Kind == membership.RoleKindCustom {
				return text(string(a.ID))
			}
			return value{}
		}),
	}
}

func customRoleMembers() []member[membership.CustomRole] {
	return []member[membership.CustomRole]{
		leaf("id", kindID, "the custom role's id", func(r *membership.CustomRole) value { return text(string(r.ID)) }),
		leaf("account_id", kindID, "the custom role's account", func(r *membership.CustomRole) value { return text(string(r.AccountID)) }),
		leaf("name", kindString, "display name", func(r *membership.CustomRole) value { return text(r.Name) }),
		leaf("permissions", kindStrings, "permissions such as ROLE_BINDING_CREATE", func(r *membership.CustomRole) value {
			return value{state: present, list: r.Permissions}
		}),
	}
}

// grant is the member of a user for a role held somewhere: null when none
// is held; a custom one carries the custom role it names, null when that
// role does not exist.
func grant(name, doc string, held func(*membership.Facts) *membership.Grant) member[membership.User] {
	members := append(roleMembers(func(g *membership.Grant) *membership.RoleAssignment { return &g.Role }),
		child("custom_role", "the custom role a custom grant names; absent for a predefined one",
			func(_ *membership.Facts, g *membership.Grant) (*membership.CustomRole, bool) {
				if g.Role.Kind != membership.RoleKindCustom {
					return nil, false
				}
				return g.CustomRole, true
			}, customRoleMembers()...))
	return child(name, doc, func(f *membership.Facts, _ *membership.User) (*membership.Grant, bool) {
		g := held(f)
		if !g.Held() {
			return nil, true
		}
		return g, true
	}, members...)
}

// inputSchema is the input document of every decision.
var inputSchema = finish(&schemaNode{kind: kindObject, doc: "the input document", read: func(*membership.Facts) value { return value{state: present} }, kids: []*schemaNode{
	{name: "operation", kind: kindEnum, doc: "what the request does: add, remove, list, org_add, org_remove, read or audit", read: func(f *membership.Facts) value {
		return text(f.Query.Operation.String())
	}},
	object("actor", "the user making the request; null when the actor names no user",
		record(func(f *membership.Facts) *membership.User { return f.Actor }),
		userMembers(
			grant("organization_role", "the actor's role in the organization (of the space, or of an organization operation)",
				func(f *membership.Facts) *membership.Grant { return &f.ActorOrganizationRole }),
			grant("space_role", "the actor's role in the space",
				func(f *membership.Facts) *membership.Grant { return &f.ActorSpaceRole }),
		)...),
	object("organization", "the space's parent organization, or the organization of an organization operation",
		record(func(f *membership.Facts) *membership.Organization { return f.Organization }),
		leaf("id", kindID, "the organization's id", func(o *membership.Organization) value { return text(string(o.ID)) }),
		leaf("account_id", kindID, "the organization's account", func(o *membership.Organization) value { return text(string(o.AccountID)) }),
		leaf("name", kindString, "display name", func(o *membership.Organization) value { return text(o.Name) }),
	),
	object("space", "the space of the request; null for an organization operation",
		record(func(f *membership.Facts) *membership.Space { return f.Space }),
		leaf("id", kindID, "the space's id", func(s *membership.Space) value { return text(string(s.ID)) }),
		leaf("organization_id", kindID, "the space's parent organization", func(s *membership.Space) value { return text(string(s.OrganizationID)) }),
		leaf("name", kindString, "display name", func(s *membership.Space) value { return text(s.Name) }),
		leaf("is_private", kindBool, "whether only members and admins may read the space", func(s *membership.Space) value {
			return value{state: present, flag: s.IsPrivate}
		}),
	),
	object("target", "the user the request is about; null when not found",
		record(func(f *membership.Facts) *membership.User { return f.Target }),
		userMembers(
			grant("organization_role", "the target's role in the organization (of the space, or of an organization operation)",
				func(f *membership.Facts) *membership.Grant { return &f.TargetOrganizationRole }),
		)...),
	object("role", "the role requested; null when nothing is requested (remove, list, org_remove, read, audit)",
		func(f *membership.Facts) (*membership.RoleAssignment, bool) {
			if f.Query.Role.Kind == 0 {
				return nil, true
			}
			return &f.Query.Role, true
		},
		roleMembers(func(r *membership.RoleAssignment) *membership.RoleAssignment { return r })...),
	object("custom_role", "the custom role requested; null when the request is for a predefined role or the role does not exist",
		record(func(f *membership.Facts) *membership.CustomRole { return f.CustomRole }),
		customRoleMembers()...),
	object("membership", "the target's current membership of the space; null when there is none, and for an organization operation",
		record(func(f *membership.Facts) *membership.Membership { return f.Existing }),
		append([]member[membership.Membership]{
			leaf("id", kindID, "the membership's id", func(m *membership.Membership) value { return text(string(m.ID)) }),
			leaf("user_id", kindID, "the member", func(m *membership.Membership) value { return text(string(m.UserID)) }),
			leaf("space_id", kindID, "the space", func(m *membership.Membership) value { return text(string(m.SpaceID)) }),
		}, child("role", "the role the member holds",
			func(_ *membership.Facts, m *membership.Membership) (*membership.Membership, bool) { return m, true },
			roleMembers(func(m *membership.Membership) *membership.RoleAssignment { return &m.Role })...))...),
}})

// finish sorts every object's members by name, fills in paths and indexes,
// and returns the root.
func finish(root *schemaNode) *schemaNode {
	next := 0
	var walk func(n *schemaNode, path []string)
	walk = func(n *schemaNode, path []string) {
		n.path, n.index = path, next
		next++
		slices.SortFunc(n.kids, func(a, b *schemaNode) int { return strings.Compare(a.name, b.name) })
		for _, k := range n.kids {
			walk(k, append(slices.Clip(path), k.name))
		}
	}
	walk(root, nil)
	return root
}

// at returns the node at path, or nil when the schema has none there.
func (n *schemaNode) at(path []string) *schemaNode {
	for _, seg := range path {
		var next *schemaNode
		for _, k := range n.kids {
			if k.name == seg {
				next = k
				break
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

// each calls fn for n and every node below it, depth first.
func (n *schemaNode) each(fn func(*schemaNode)) {
	fn(n)
	for _, k := range n.kids {
		k.each(fn)
	}
}

// Field describes one member of the input document.
type Field struct {
	// Path is the member's path below input, such as "actor.space_role.id".
	Path string
	// Type is "object", "id", "string", "enum", "boolean" or
	// "array of strings". An object may also be null, and any member may be
	// absent when its object is.
	Type string
	// Doc says what the member holds.
	Doc string
}

// Fields lists every member of the input document, depth first with
// members by name: the table the README shows, derived from the same
// description that builds the input and the decision keys.
func Fields() []Field {
	var out []Field
	inputSchema.each(func(n *schemaNode) {
		if n == inputSchema {
			return
		}
		out = append(out, Field{Path: joinPath(n.path), Type: kindNames[n.kind], Doc: n.doc})
	})
	return out
}

func joinPath(path []string) string { return strings.Join(path, ".") }
