# The operation being decided. One policy decides every operation on space
# memberships; input.operation says which, and each rule names the
# operations it applies to. An operation the policy does not know is refused
# (decision.rego), so a new operation is denied until its rules are written.
package spaceauthz

# adding: give a user a role in the space (create or update the membership).
adding if input.operation == "add"

# removing: take a user's membership of the space away.
removing if input.operation == "remove"

# listing: read the space's memberships.
listing if input.operation == "list"

known_operation if adding

known_operation if removing

known_operation if listing

# changes_membership: the operation writes the target's membership of the
# space, so the membership the target holds now matters (admin_membership).
changes_membership if adding

changes_membership if removing
