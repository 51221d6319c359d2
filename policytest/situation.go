package policytest

import "github.com/spaceauthz/spaceauthz/membership"

// Situation describes one request and the records behind it, and builds
// the facts a store would read for it (Facts). Add, Remove and List start
// from a request the default policy allows; each method changes one thing
// and returns the changed copy, so a situation is written as the allowed
// one and what differs:
//
//	policytest.Add().ActorSpaceRole(policytest.Predefined(membership.RoleMember))
//
// OrgAdd and OrgRemove do the same one level up, for the organization
// operations: there the request names the organization OrganizationID, and
// the roles set by ActorOrganizationRole and TargetOrganizationRole are the
// roles in it.
//
// A Situation is a value, safe to copy and to share between goroutines:
// its methods never change the receiver. Start from Add, Remove, List,
// OrgAdd or OrgRemove; the zero Situation names no operation and no space.
//
// The records are the actor (ActorID) and the target (TargetID), users of
// the account AccountID; the space SpaceID and its parent organization
// OrganizationID in that account; custom roles (see Custom); and the
// target's membership of the space (MembershipID). Whatever lies "in another
// account" lies in OtherAccountID.
type Situation struct {
	operation membership.Operation

	actorMissing          bool
	actorAccountRole      membership.AccountRole
	actorOrganizationRole Role
	actorSpaceRole        Role

	spaceID      membership.ID
	spaceMissing bool
	spaceForeign bool
	spacePrivate bool

	organizationMissing bool
	organizationForeign bool

	targetMissing          bool
	targetForeign          bool
	targetAccountRole      membership.AccountRole
	targetOrganizationRole Role
	targetMembership       Role

	requested Role
}

// Add returns an add the default policy allows: the actor, an account
// MEMBER who is a MEMBER of the organization and an ADMIN of the space (a
// public one), gives the target, an account MEMBER and a MEMBER of the
// organization who is not yet in the space, the predefined role MEMBER.
func Add() Situation {
	return Situation{
		operation:              membership.OperationAdd,
		actorAccountRole:       membership.AccountMember,
		actorOrganizationRole:  Predefined(membership.RoleMember),
		actorSpaceRole:         Predefined(membership.RoleAdmin),
		spaceID:                SpaceID,
		targetAccountRole:      membership.AccountMember,
		targetOrganizationRole: Predefined(membership.RoleMember),
		requested:              Predefined(membership.RoleMember),
	}
}

// Remove returns a remove the default policy allows: the actor of Add
// removes the target of Add, who is a MEMBER of the space.
func Remove() Situation {
	s := Add()
	s.operation = membership.OperationRemove
	s.targetMembership = Predefined(membership.RoleMember)
	s.requested = Role{}
	return s
}

// List returns a list the default policy allows: the actor of Add lists the
// space's members. A list has no target and requests no role: the target's
// and the requested role's settings do not show in its facts.
func List() Situation {
	s := Add()
	s.operation = membership.OperationList
	s.requested = Role{}
	return s
}

// OrgAdd returns an organization add the default policy allows: the actor,
// an account MEMBER and a predefined ADMIN of the organization, gives the
// target, an account MEMBER who is not yet in the organization, the
// predefined role MEMBER.
func OrgAdd() Situation {
	return Situation{
		operation:             membership.OperationOrgAdd,
		actorAccountRole:      membership.AccountMember,
		actorOrganizationRole: Predefined(membership.RoleAdmin),
		targetAccountRole:     membership.AccountMember,
		requested:             Predefined(membership.RoleMember),
	}
}

// OrgRemove returns an organization remove the default policy allows: the
// actor of OrgAdd removes the target, a MEMBER of the organization.
func OrgRemove() Situation {
	s := OrgAdd()
	s.operation = membership.OperationOrgRemove
	s.targetOrganizationRole = Predefined(membership.RoleMember)
	s.requested = Role{}
	return s
}

// onOrganization tells whether the situation is an organization operation,
// whose facts have no space.
func (s Situation) onOrganization() bool {
	return s.operation == membership.OperationOrgAdd || s.operation == membership.OperationOrgRemove
}

// WithoutActor has the actor's id name no user (a key whose user is gone).
func (s Situation) WithoutActor() Situation {
	s.actorMissing = true
	return s
}

// ActorAccountRole sets the actor's role in the account.
func (s Situation) ActorAccountRole(r membership.AccountRole) Situation {
	s.actorAccountRole = r
	return s
}

// ActorOrganizationRole sets the actor's role in the space's organization;
// NoRole() for none.
func (s Situation) ActorOrganizationRole(r Role) Situation {
	s.actorOrganizationRole = r
	return s
}

// ActorSpaceRole sets the actor's role in the space; NoRole() for none.
func (s Situation) ActorSpaceRole(r Role) Situation {
	s.actorSpaceRole = r
	return s
}

// InSpace has the request name the space id instead of SpaceID; the space
// is otherwise the same.
func (s Situation) InSpace(id membership.ID) Situation {
	s.spaceID = id
	return s
}

// PrivateSpace makes the space private: under the default policy, only the
// account's ADMINs, the organization's ADMINs and the space's members read
// it.
func (s Situation) PrivateSpace() Situation {
	s.spacePrivate = true
	return s
}

// SpaceInAnotherAccount places the space, and its parent organization, in
// another account than the actor's.
func (s Situation) SpaceInAnotherAccount() Situation {
	s.spaceForeign = true
	return s
}

// WithoutSpace has the space id name no space. The store then finds no
// organization either, and nobody's role in them.
func (s Situation) WithoutSpace() Situation {
	s.spaceMissing = true
	return s
}

// WithoutOrganization has the organization id of an organization
// operation name no organization. The store then finds nobody's role in
// it. (A space operation finds no organization through WithoutSpace.)
func (s Situation) WithoutOrganization() Situation {
	s.organizationMissing = true
	return s
}

// OrganizationInAnotherAccount places the organization of an organization
// operation in another account than the actor's. (A space operation's
// organization moves with SpaceInAnotherAccount.)
func (s Situation) OrganizationInAnotherAccount() Situation {
	s.organizationForeign = true
	return s
}

// WithoutTarget has the target's id name no user.
func (s Situation) WithoutTarget() Situation {
	s.targetMissing = true
	return s
}

// TargetInAnotherAccount places the target user in another account than
// the actor's.
func (s Situation) TargetInAnotherAccount() Situation {
	s.targetForeign = true
	return s
}

// TargetAccountRole sets the target's role in their account.
func (s Situation) TargetAccountRole(r membership.AccountRole) Situation {
	s.targetAccountRole = r
	return s
}

// TargetOrganizationRole sets the target's role in the space's
// organization; NoRole() for a target who is not in the organization.
func (s Situation) TargetOrganizationRole(r Role) Situation {
	s.targetOrganizationRole = r
	return s
}

// TargetMembership sets the role of the target's current membership of the
// space; NoRole() for a target who is not a member.
func (s Situation) TargetMembership(r Role) Situation {
	s.targetMembership = r
	return s
}

// Requesting sets the role an add or an organization add asks for. A
// remove, a list and an organization remove ask for none, and their facts
// ignore it.
func (s Situation) Requesting(r Role) Situation {
	s.requested = r
	return s
}

// Facts returns the facts a store would read for the situation, with a
// Query that names the same request: the operation, ActorID, the space
// id, TargetID for an add or a remove, the requested role for an add, and
// for a list a first page of the default size. Records a store could not
// find are nil, and so is whatever hangs on them: without a space there is
// no organization, no role in either and no membership of the space.
//
// Every call returns new records, which belong to the caller: a test may
// change them (a name, an email) before it decides on them.
//
// The facts of an organization operation name OrganizationID (or
// OtherOrganizationID, in another account) and no space: no space, no role
// in one, no membership of one. The target's membership of the
// organization is the record behind their role there.
func (s Situation) Facts() *membership.Facts {
	if s.onOrganization() {
		return s.organizationFacts()
	}
	q := membership.Query{Operation: s.operation, Actor: ActorID, SpaceID: s.spaceID}
	f := &membership.Facts{Query: q}

	if !s.spaceMissing {
		f.Organization = &membership.Organization{ID: OrganizationID, AccountID: AccountID, Name: "Research"}
		if s.spaceForeign {
			f.Organization = &membership.Organization{ID: OtherOrganizationID, AccountID: OtherAccountID, Name: "Elsewhere"}
		}
		f.Space = &membership.Space{ID: s.spaceID, OrganizationID: f.Organization.ID, Name: "llm-evals", IsPrivate: s.spacePrivate}
	}
	if !s.actorMissing {
		f.Actor = &membership.User{ID: ActorID, AccountID: AccountID, Name: "Ada", Email: "ada@example.com", Role: s.actorAccountRole}
		if !s.spaceMissing {
			f.ActorOrganizationRole = s.actorOrganizationRole.grant()
			f.ActorSpaceRole = s.actorSpaceRole.grant()
		}
	}

	if s.operation == membership.OperationList {
		f.Query.Page = &membership.PageQuery{Limit: membership.DefaultPageSize}
		return f
	}
	f.Query.UserID = TargetID
	if !s.targetMissing {
		account := AccountID
		if s.targetForeign {
			account = OtherAccountID
		}
		f.Target = &membership.User{ID: TargetID, AccountID: account, Name: "Grace", Email: "grace@example.com", Role: s.targetAccountRole}
		if !s.spaceMissing {
			f.TargetOrganizationRole = s.targetOrganizationRole.grant()
			if s.targetMembership.kind != 0 {
				f.Existing = &membership.Membership{ID: MembershipID, UserID: TargetID, SpaceID: s.spaceID, Role: s.targetMembership.assignment()}
			}
		}
	}
	if s.operation == membership.OperationAdd {
		f.Query.Role = s.requested.assignment()
		f.CustomRole = s.requested.record()
	}
	return f
}

// organizationFacts returns the facts of an organization operation.
func (s Situation) organizationFacts() *membership.Facts {
	orgID := OrganizationID
	if s.organizationForeign {
		orgID = OtherOrganizationID
	}
	f := &membership.Facts{Query: membership.Query{Operation: s.operation, Actor: ActorID, OrganizationID: orgID, UserID: TargetID}}
	if !s.organizationMissing {
		f.Organization = &membership.Organization{ID: OrganizationID, AccountID: AccountID, Name: "Research"}
		if s.organizationForeign {
			f.Organization = &membership.Organization{ID: OtherOrganizationID, AccountID: OtherAccountID, Name: "Elsewhere"}
		}
	}
	if !s.actorMissing {
		f.Actor = &membership.User{ID: ActorID, AccountID: AccountID, Name: "Ada", Email: "ada@example.com", Role: s.actorAccountRole}
		if !s.organizationMissing {
			f.ActorOrganizationRole = s.actorOrganizationRole.grant()
		}
	}
	if !s.targetMissing {
		account := AccountID
		if s.targetForeign {
			account = OtherAccountID
		}
		f.Target = &membership.User{ID: TargetID, AccountID: account, Name: "Grace", Email: "grace@example.com", Role: s.targetAccountRole}
		if !s.organizationMissing && s.targetOrganizationRole.kind != 0 {
			f.TargetOrganizationRole = s.targetOrganizationRole.grant()
			f.TargetOrganizationMember = &membership.OrganizationMember{ID: OrganizationMembershipID, OrganizationID: orgID,
				UserID: TargetID, Role: s.targetOrganizationRole.assignment()}
		}
	}
	if s.operation == membership.OperationOrgAdd {
		f.Query.Role = s.requested.assignment()
		f.CustomRole = s.requested.record()
	}
	return f
}
