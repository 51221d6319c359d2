// Package model is a reference model of the membership operations, written
// in plain Go from docs/contract.md and nothing else: a small in-memory world
// and, per operation, a function that walks the contract's checks in their
// order and returns the error code of the first that fails. The model-based
// test of this package runs random sequences of operations against the real
// service (on memstore and on pgstore) and against the model, and requires
// them to agree step by step.
//
// The model shares no code with the library: it neither calls the policy nor
// the membership package's validation, and it keeps its own types, so that
// a rule both got wrong in the same way would have to be written wrong twice.
package model

import (
	"encoding/base64"
	"maps"
	"slices"
	"strings"
)

// Code is an error_code of the contract; OK means success.
type Code string

// The codes the operations answer, as the contract names them.
const (
	OK                      Code = ""
	Unauthenticated         Code = "unauthenticated"
	InvalidID               Code = "invalid_id"
	InvalidField            Code = "invalid_field"
	SpaceNotFound           Code = "space_not_found"
	OrganizationNotFound    Code = "organization_not_found"
	Forbidden               Code = "forbidden"
	UserNotFound            Code = "user_not_found"
	RoleNotFound            Code = "role_not_found"
	MembershipNotFound      Code = "membership_not_found"
	UserNotInOrganization   Code = "user_not_in_organization"
	AnnotatorRoleRequired   Code = "annotator_role_required"
	AnnotatorRoleNotAllowed Code = "annotator_role_not_allowed"
)

// Status is the HTTP status the contract gives a code.
func Status(c Code) int {
	switch c {
	case OK:
		return 200
	case Unauthenticated:
		return 401
	case InvalidID, UserNotInOrganization, AnnotatorRoleRequired, AnnotatorRoleNotAllowed:
		return 400
	case InvalidField:
		return 422
	case SpaceNotFound, OrganizationNotFound, UserNotFound, RoleNotFound, MembershipNotFound:
		return 404
	case Forbidden:
		return 403
	}
	return 0
}

// AccountRole is a user's role in their account.
type AccountRole string

// The account roles.
const (
	AccountAdmin     AccountRole = "ADMIN"
	AccountMember    AccountRole = "MEMBER"
	AccountAnnotator AccountRole = "ANNOTATOR"
)

// The predefined role names. Any other name is unknown.
const (
	Admin     = "ADMIN"
	Member    = "MEMBER"
	ReadOnly  = "READ_ONLY"
	Annotator = "ANNOTATOR"
)

// Permissions the contract names.
const (
	RoleBindingCreate = "ROLE_BINDING_CREATE"
	RoleBindingDelete = "ROLE_BINDING_DELETE"
	RoleBindingRead   = "ROLE_BINDING_READ"
)

// Kind says which arm of a Role is meant; NoKind is a malformed request.
type Kind int

// The kinds.
const (
	NoKind Kind = iota
	Predefined
	Custom
)

// Role is a role assignment as a request may carry it, well formed or not:
// a predefined role has a Name, a custom one an ID.
type Role struct {
	Kind Kind
	Name string
	ID   string
}

// P and C build well-formed assignments.
func P(name string) Role { return Role{Kind: Predefined, Name: name} }
func C(id string) Role   { return Role{Kind: Custom, ID: id} }

func (r Role) isPredefined(name string) bool { return r.Kind == Predefined && r.Name == name }

// User, Space and CustomRole are the records of the world.
type User struct {
	Account string
	Role    AccountRole
}

type Space struct {
	Org     string
	Private bool
}

type CustomRole struct {
	Account string
	Name    string
	Perms   []string
}

// Membership is a membership, of an organization or of a space: the id the
// store gave it and its role.
type Membership struct {
	ID   string
	Role Role
}

// Key names a membership, of an organization or of a space, by its
// (organization or space, user) pair.
type Key struct{ Of, User string }

// Listed is a line of a list page.
type Listed struct {
	User string
	Membership
}

// World is the model's state: what the store holds.
type World struct {
	Users        map[string]User
	Orgs         map[string]string // organization → account
	Spaces       map[string]Space
	Roles        map[string]CustomRole
	OrgMembers   map[Key]Membership
	SpaceMembers map[Key]Membership

	// cursors are the cursors the service issued: each names a space and the
	// last user of the page it ended.
	cursors map[string]Key

	// ActorCheckedLate orders the checks as the contract does: check 1
	// refuses a missing or malformed actor id before the input checks, and
	// an actor id that names no user with the same 401 after them (so a
	// request by nobody with a bad space id answers 400). Unset, the model
	// refuses that actor before the input checks too, an order the contract
	// does not promise; -model.strict tries it.
	ActorCheckedLate bool
}

// NewWorld returns an empty world.
func NewWorld() *World {
	return &World{
		Users:        map[string]User{},
		Orgs:         map[string]string{},
		Spaces:       map[string]Space{},
		Roles:        map[string]CustomRole{},
		OrgMembers:   map[Key]Membership{},
		SpaceMembers: map[Key]Membership{},
		cursors:      map[string]Key{},
	}
}

// Clone returns a copy of w that shares nothing mutable with it, so that
// a change to one leaves the other as it was: a checker that explores many
// orders of the same operations steps from one world into several.
func (w *World) Clone() *World {
	c := *w
	c.Users = maps.Clone(w.Users)
	c.Orgs = maps.Clone(w.Orgs)
	c.Spaces = maps.Clone(w.Spaces)
	c.Roles = maps.Clone(w.Roles)
	for id, r := range c.Roles {
		r.Perms = slices.Clone(r.Perms)
		c.Roles[id] = r
	}
	c.OrgMembers = maps.Clone(w.OrgMembers)
	c.SpaceMembers = maps.Clone(w.SpaceMembers)
	c.cursors = maps.Clone(w.cursors)
	return &c
}

// IsID reports whether s is an ID: standard padded base64 of a non-empty
// byte string, at most 512 characters. The decoder of encoding/base64
// tolerates line breaks and loose padding bits; an ID has neither.
func IsID(s string) bool {
	if s == "" || len(s) > 512 || strings.ContainsAny(s, "\r\n") {
		return false
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	return err == nil && len(b) > 0
}

// actor returns the user an actor id names: an id that names no user is no
// actor at all.
func (w *World) actor(id string) (User, bool) {
	if !IsID(id) {
		return User{}, false
	}
	u, ok := w.Users[id]
	return u, ok
}

// present is check 1 as it runs before the input checks: whether there is
// an actor (see ActorCheckedLate).
func (w *World) present(id string) bool {
	_, ok := w.actor(id)
	return ok || (w.ActorCheckedLate && IsID(id))
}

// inAccount reports whether the space exists in account.
func (w *World) inAccount(space, account string) bool {
	s, ok := w.Spaces[space]
	return ok && w.Orgs[s.Org] == account
}

// roles returns the actor's role in the space's organization and in the
// space, each with whether it is held.
func (w *World) roles(actor, space string) (org Role, orgOK bool, sp Role, spOK bool) {
	s := w.Spaces[space]
	om, orgOK := w.OrgMembers[Key{s.Org, actor}]
	sm, spOK := w.SpaceMembers[Key{space, actor}]
	return om.Role, orgOK, sm.Role, spOK
}

// CanRead reports whether the actor can read the space: an account ADMIN;
// any member of the parent organization when the space is not private; an
// organization ADMIN of the parent; a member of the space. Always inside the
// actor's own account.
func (w *World) CanRead(actor, space string) bool {
	u := w.Users[actor]
	if !w.inAccount(space, u.Account) {
		return false
	}
	org, orgOK, _, spOK := w.roles(actor, space)
	return u.Role == AccountAdmin ||
		(orgOK && !w.Spaces[space].Private) ||
		(orgOK && org.isPredefined(Admin)) ||
		spOK
}

// IsSpaceAdmin reports whether the actor is space admin: an account ADMIN,
// a predefined ADMIN of the parent organization, or a predefined ADMIN
// member of the space, inside the actor's own account.
func (w *World) IsSpaceAdmin(actor, space string) bool {
	u := w.Users[actor]
	if !w.inAccount(space, u.Account) {
		return false
	}
	org, orgOK, sp, spOK := w.roles(actor, space)
	return u.Role == AccountAdmin || (orgOK && org.isPredefined(Admin)) || (spOK && sp.isPredefined(Admin))
}

// Holds reports whether the actor holds permission p on the space: the union
// of their organization and space roles, plus everything for an account
// ADMIN.
func (w *World) Holds(actor, space, p string) bool {
	u := w.Users[actor]
	if !w.inAccount(space, u.Account) {
		return false
	}
	if u.Role == AccountAdmin {
		return true
	}
	org, orgOK, sp, spOK := w.roles(actor, space)
	return (orgOK && w.grants(u.Account, org, p)) || (spOK && w.grants(u.Account, sp, p))
}

// grants reports whether a role held by a user of account grants p: the
// predefined ADMIN grants everything and the other predefined roles none of
// what the model asks about (the ROLE_BINDING_* permissions); a custom role
// grants its permissions, if it exists and is of the holder's account.
func (w *World) grants(account string, r Role, p string) bool {
	switch r.Kind {
	case Predefined:
		return r.Name == Admin
	case Custom:
		cr, ok := w.Roles[r.ID]
		return ok && cr.Account == account && slices.Contains(cr.Perms, p)
	}
	return false
}

// validRole is check 3 for the role: a known kind; a known name and no id for
// a predefined role; an id and no name for a custom one.
func validRole(r Role) bool {
	switch r.Kind {
	case Predefined:
		return r.ID == "" && (r.Name == Admin || r.Name == Member || r.Name == ReadOnly || r.Name == Annotator)
	case Custom:
		return r.ID != "" && r.Name == ""
	}
	return false
}

// addInput runs the input checks of an add, at either level, on the id of
// what the user is added to, and returns the actor: an actor is present,
// the ids are IDs, the fields are there, and (checked late) the actor is a
// user.
func (w *World) addInput(actor, scope, user string, role Role) (User, Code) {
	a, ok := w.actor(actor)
	switch {
	case !w.present(actor):
		return a, Unauthenticated
	case !IsID(scope), user != "" && !IsID(user), role.ID != "" && !IsID(role.ID):
		return a, InvalidID
	case user == "", !validRole(role):
		return a, InvalidField
	case !ok:
		return a, Unauthenticated
	}
	return a, OK
}

// Add is the answer to adding user to space with role on behalf of actor:
// the checks of an add, in order.
func (w *World) Add(actor, space, user string, role Role) Code {
	a, c := w.addInput(actor, space, user, role)
	switch {
	case c != OK:
		return c
	case !w.CanRead(actor, space):
		return SpaceNotFound
	case !w.MayAdd(actor, space, user, role):
		return Forbidden
	}
	t, c := w.targetAndRole(a, user, role)
	if c != OK {
		return c
	}
	if _, ok := w.OrgMembers[Key{w.Spaces[space].Org, user}]; !ok {
		return UserNotInOrganization
	}
	return pairing(t, role)
}

// targetAndRole runs the checks of an add, at either level, on the target
// and the custom role: both must be of the actor's account.
func (w *World) targetAndRole(a User, user string, role Role) (User, Code) {
	t, ok := w.Users[user]
	if !ok || t.Account != a.Account {
		return t, UserNotFound
	}
	if role.Kind == Custom {
		if cr, ok := w.Roles[role.ID]; !ok || cr.Account != a.Account {
			return t, RoleNotFound
		}
	}
	return t, OK
}

// pairing is the annotator pairing of an add, of a space or an
// organization alike: an account ANNOTATOR takes the predefined ANNOTATOR
// role and nothing else, and only an account ANNOTATOR takes it.
func pairing(t User, role Role) Code {
	annotator := role.isPredefined(Annotator)
	switch {
	case t.Role == AccountAnnotator && !annotator:
		return AnnotatorRoleRequired
	case t.Role != AccountAnnotator && annotator:
		return AnnotatorRoleNotAllowed
	}
	return OK
}

// MayAdd is the authority check of an add: space admin for a predefined
// role, ROLE_BINDING_CREATE for a custom one, and space admin whatever the
// role when the target's current membership is the predefined ADMIN.
func (w *World) MayAdd(actor, space, user string, role Role) bool {
	var may bool
	if role.Kind == Custom {
		may = w.Holds(actor, space, RoleBindingCreate)
	} else {
		may = w.IsSpaceAdmin(actor, space)
	}
	if m, ok := w.SpaceMembers[Key{space, user}]; ok && m.Role.isPredefined(Admin) {
		may = may && w.IsSpaceAdmin(actor, space)
	}
	return may
}

// Remove is the answer to removing user from space on behalf of actor.
func (w *World) Remove(actor, space, user string) Code {
	a, ok := w.actor(actor)
	switch {
	case !w.present(actor):
		return Unauthenticated
	case !IsID(space), !IsID(user):
		return InvalidID
	case !ok:
		return Unauthenticated
	case !w.CanRead(actor, space):
		return SpaceNotFound
	case !w.MayRemove(actor, space, user):
		return Forbidden
	}
	if t, ok := w.Users[user]; !ok || t.Account != a.Account {
		return UserNotFound
	}
	if _, ok := w.SpaceMembers[Key{space, user}]; !ok {
		return MembershipNotFound
	}
	return OK
}

// MayRemove is the authority check of a remove: space admin or
// ROLE_BINDING_DELETE, and space admin to remove a predefined ADMIN.
func (w *World) MayRemove(actor, space, user string) bool {
	may := w.IsSpaceAdmin(actor, space) || w.Holds(actor, space, RoleBindingDelete)
	if m, ok := w.SpaceMembers[Key{space, user}]; ok && m.Role.isPredefined(Admin) {
		may = may && w.IsSpaceAdmin(actor, space)
	}
	return may
}

// The page sizes of a list.
const (
	DefaultLimit = 50
	MaxLimit     = 100
)

// List is the answer to listing space's members with limit (zero for the
// default) after cursor ("" for the first page), and on success the page:
// the members in user id order, and whether more follow.
func (w *World) List(actor, space string, limit int, cursor string) (Code, []Listed, bool) {
	if !w.present(actor) {
		return Unauthenticated, nil, false
	}
	if !IsID(space) {
		return InvalidID, nil, false
	}
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLimit {
		return InvalidField, nil, false
	}
	after := ""
	if cursor != "" {
		k, ok := w.cursors[cursor]
		if !ok || k.Of != space {
			return InvalidField, nil, false
		}
		after = k.User
	}
	if _, ok := w.actor(actor); !ok {
		return Unauthenticated, nil, false
	}
	if !w.CanRead(actor, space) {
		return SpaceNotFound, nil, false
	}
	all := w.Members(space)
	i := 0
	for i < len(all) && all[i].User <= after {
		i++
	}
	page := all[i:]
	if len(page) > limit {
		return OK, page[:limit], true
	}
	return OK, page, false
}

// Members returns every member of space, in user id order (byte order).
func (w *World) Members(space string) []Listed {
	var out []Listed
	for k, m := range w.SpaceMembers {
		if k.Of == space {
			out = append(out, Listed{User: k.User, Membership: m})
		}
	}
	slices.SortFunc(out, func(a, b Listed) int { return strings.Compare(a.User, b.User) })
	return out
}

// Issued records a cursor the service returned for a page of space that
// ended with user: from then on it is one this server issued.
func (w *World) Issued(cursor, space, user string) { w.cursors[cursor] = Key{space, user} }

// PutMember makes the change of a successful add: the membership keeps its
// id if there is one, else takes the id the store gave it.
func (w *World) PutMember(space, user string, role Role, newID string) Membership {
	k := Key{space, user}
	m, ok := w.SpaceMembers[k]
	if !ok {
		m.ID = newID
	}
	m.Role = role
	w.SpaceMembers[k] = m
	return m
}

// DeleteMember makes the change of a successful remove.
func (w *World) DeleteMember(space, user string) { delete(w.SpaceMembers, Key{space, user}) }

// CanSeeOrg reports whether the actor can see the organization: an account
// ADMIN, or any member of it in any role, inside the actor's own account.
func (w *World) CanSeeOrg(actor, org string) bool {
	u := w.Users[actor]
	if acct, ok := w.Orgs[org]; !ok || acct != u.Account {
		return false
	}
	_, member := w.OrgMembers[Key{org, actor}]
	return u.Role == AccountAdmin || member
}

// IsOrgAdmin reports whether the actor is organization admin: an account
// ADMIN, or a predefined ADMIN member of it, inside the actor's own
// account. A custom role grants no authority over an organization, whatever
// its permissions.
func (w *World) IsOrgAdmin(actor, org string) bool {
	u := w.Users[actor]
	if acct, ok := w.Orgs[org]; !ok || acct != u.Account {
		return false
	}
	m, member := w.OrgMembers[Key{org, actor}]
	return u.Role == AccountAdmin || (member && m.Role.isPredefined(Admin))
}

// OrgAdd is the answer to adding user to org with role on behalf of actor:
// the checks of an organization add, in order. Unlike a space add, the
// target need not belong anywhere yet, and authority is the same for a
// predefined and a custom role.
func (w *World) OrgAdd(actor, org, user string, role Role) Code {
	a, c := w.addInput(actor, org, user, role)
	switch {
	case c != OK:
		return c
	case !w.CanSeeOrg(actor, org):
		return OrganizationNotFound
	case !w.IsOrgAdmin(actor, org):
		return Forbidden
	}
	t, c := w.targetAndRole(a, user, role)
	if c != OK {
		return c
	}
	return pairing(t, role)
}

// OrgRemove is the answer to removing user from org on behalf of actor.
func (w *World) OrgRemove(actor, org, user string) Code {
	a, ok := w.actor(actor)
	switch {
	case !w.present(actor):
		return Unauthenticated
	case !IsID(org), !IsID(user):
		return InvalidID
	case !ok:
		return Unauthenticated
	case !w.CanSeeOrg(actor, org):
		return OrganizationNotFound
	case !w.IsOrgAdmin(actor, org):
		return Forbidden
	}
	if t, ok := w.Users[user]; !ok || t.Account != a.Account {
		return UserNotFound
	}
	if _, ok := w.OrgMembers[Key{org, user}]; !ok {
		return MembershipNotFound
	}
	return OK
}

// PutOrgMember makes the change of a successful organization add, as
// PutMember does for a space: an upsert keeps the membership's id.
func (w *World) PutOrgMember(org, user string, role Role, newID string) Membership {
	k := Key{org, user}
	m, ok := w.OrgMembers[k]
	if !ok {
		m.ID = newID
	}
	m.Role = role
	w.OrgMembers[k] = m
	return m
}

// DeleteOrgMember makes the change of a successful organization remove:
// the organization membership goes, and with it every membership of the
// user in the organization's spaces, since no space membership may outlive
// the organization membership it rests on. It returns the keys of the
// space memberships removed.
func (w *World) DeleteOrgMember(org, user string) []Key {
	delete(w.OrgMembers, Key{org, user})
	var gone []Key
	for k := range w.SpaceMembers {
		if k.User == user && w.Spaces[k.Of].Org == org {
			gone = append(gone, k)
		}
	}
	for _, k := range gone {
		delete(w.SpaceMembers, k)
	}
	slices.SortFunc(gone, func(a, b Key) int { return strings.Compare(a.Of, b.Of) })
	return gone
}

// Orphans returns the space memberships whose user is not a member of the
// space's organization, in no particular order: there are none in any
// world a store may hold.
func (w *World) Orphans() []Key {
	var bad []Key
	for k := range w.SpaceMembers {
		if _, ok := w.OrgMembers[Key{w.Spaces[k.Of].Org, k.User}]; !ok {
			bad = append(bad, k)
		}
	}
	return bad
}
