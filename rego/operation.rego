# The operation being decided. One policy decides every operation on space
# and organization memberships; input.operation says which, and each rule
# names the operations it applies to. An operation the policy does not know
# is refused (decision.rego), so a new operation is denied until its rules
# are written.
package spaceauthz

# The operation names, as input.operation spells them.
operations := (space_operations | organization_operations) | account_operations

# The operations on a space, where input.space is the space: its
# memberships (add, remove, list) and the space itself (read: GetSpace, and
# each space a list of spaces considers).
space_operations := {"add", "remove", "list", "read"}

# The operations on an organization's memberships, one level up: there is no
# space (input.space and input.membership are null) and input.organization
# is the organization itself.
organization_operations := {"org_add", "org_remove"}

# The operations on the account itself, where there is neither a space nor
# an organization: reading its audit log (audit).
account_operations := {"audit"}

known_operation if input.operation in operations

on_organization if input.operation in organization_operations

on_account if input.operation in account_operations

# The rules of add and remove apply only to a caller who may read the
# space. For anyone else the answer is space_not_found (decision.rego) and
# nothing else: no rule looks at the target, the role or the membership,
# so neither the answer nor the work done to reach it tells whether they
# exist.

# adding: give a user a role in the space (create or update the membership).
adding if {
	input.operation == "add"
	can_read_space
}

# removing: take a user's membership of the space away.
removing if {
	input.operation == "remove"
	can_read_space
}

# listing: read the space's memberships. The rule of a list is
# space_visible itself.
listing if input.operation == "list"

# A read has no rule of its own either: space_visible decides it. The list
# of spaces a caller can see is exactly the spaces whose read is allowed,
# so a host rule that denies a read (a violation when input.operation is
# "read") hides the space from GetSpace and from every list alike. The
# engine turns this decision into the filter of the list (package policy,
# Engine.ReadFilter).

# changes_membership: the operation writes the target's membership of the
# space, so the membership the target holds now matters (admin_membership).
changes_membership if adding

changes_membership if removing

# The rules of org_add and org_remove apply only to a caller who may see
# the organization, for the same reason: anyone else gets
# organization_not_found and learns nothing about the target or the role.

# org_adding: give a user a role in the organization (create or update the
# organization membership).
org_adding if {
	input.operation == "org_add"
	can_see_organization
}

# org_removing: take a user's membership of the organization away, and with
# it their memberships of its spaces.
org_removing if {
	input.operation == "org_remove"
	can_see_organization
}

# changes_organization_membership: the operation writes the target's
# membership of the organization.
changes_organization_membership if org_adding

changes_organization_membership if org_removing
