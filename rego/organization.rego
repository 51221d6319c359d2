# The target must already belong to the space's parent organization: adding
# to a space never enrols anyone in an organization.
package spaceauthz

target_in_organization if {
	space_in_account
	is_object(input.target.organization_role)
}
