# The target's membership of an organization: the space's parent for a space
# operation, the organization itself for an organization operation.
package spaceauthz

# The target must already belong to the space's parent organization: adding
# to a space never enrols anyone in an organization.
target_in_organization if {
	space_in_account
	is_object(input.target.organization_role)
}

# The target is a member of the organization of an organization operation,
# which a remove deletes. (A rule, so that its negation also holds when the
# member is absent from the input.)
target_is_organization_member if is_object(input.target.organization_role)
