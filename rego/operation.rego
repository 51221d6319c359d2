# The operation being decided. One policy decides every operation on space
# memberships; input.operation says which, and each rule names the
# operations it applies to. An operation the policy does not know is refused
# (decision.rego), so a new operation is denied until its rules are written.
package spaceauthz

# The operation names, as input.operation spells them.
operations := {"add", "remove", "list"}

known_operation if input.operation in operations

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

# changes_membership: the operation writes the target's membership of the
# space, so the membership the target holds now matters (admin_membership).
changes_membership if adding

changes_membership if removing
