# Who can read a space: an account ADMIN; any member of the parent
# organization when the space is not private; an organization ADMIN of the
# parent; a member of the space. Nobody reads a space of another account.
# Every operation needs it, and a caller who cannot read a space learns
# nothing about it: it answers as if the space did not exist.
package spaceauthz

can_read_space if {
	space_in_account
	is_account_admin
}

can_read_space if {
	space_in_account
	input.space.is_private == false
	is_object(input.actor.organization_role)
}

can_read_space if {
	space_in_account
	is_predefined(input.actor.organization_role, "ADMIN")
}

can_read_space if {
	space_in_account
	is_object(input.actor.space_role)
}

# Who can see an organization: an account ADMIN, and any member of it
# whatever their role. Only an organization operation asks (input.organization
# is then the organization itself, not a space's parent); a caller who
# cannot see it learns nothing about it.
can_see_organization if {
	on_organization
	organization_in_account
	is_account_admin
}

can_see_organization if {
	on_organization
	organization_in_account
	is_object(input.actor.organization_role)
}
