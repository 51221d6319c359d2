# Authority flows down account > organization > space.
package spaceauthz

is_predefined(role, name) if {
	role.type == "PREDEFINED"
	role.name == name
}

requested_predefined if input.role.type == "PREDEFINED"

requested_custom if input.role.type == "CUSTOM"

# The requested predefined role is one the table in data.json knows.
predefined_role_exists if {
	requested_predefined
	is_object(data.spaceauthz.predefined_roles[input.role.name])
}

# Space admin: an account ADMIN, a predefined ADMIN of the parent
# organization, or a predefined ADMIN member of the space.
is_space_admin if {
	space_in_account
	is_account_admin
}

is_space_admin if {
	space_in_account
	is_predefined(input.actor.organization_role, "ADMIN")
}

is_space_admin if {
	space_in_account
	is_predefined(input.actor.space_role, "ADMIN")
}

# Organization admin: an account ADMIN, or a predefined ADMIN member of the
# organization. Custom roles never make one, whatever their permissions.
is_organization_admin if {
	organization_in_account
	is_account_admin
}

is_organization_admin if {
	organization_in_account
	is_predefined(input.actor.organization_role, "ADMIN")
}

# has_permission(p): the actor holds p on the space, through any of their
# roles on the space and its organization, or as an account ADMIN.
has_permission(_) if {
	space_in_account
	is_account_admin
}

has_permission(p) if {
	space_in_account
	some grant in [input.actor.organization_role, input.actor.space_role]
	grant_allows(grant, p)
}

# Predefined roles take their permissions from the table in data.json.
grant_allows(grant, _) if {
	grant.type == "PREDEFINED"
	data.spaceauthz.predefined_roles[grant.name].all_permissions == true
}

grant_allows(grant, p) if {
	grant.type == "PREDEFINED"
	p in data.spaceauthz.predefined_roles[grant.name].permissions
}

# A custom role counts only when it exists in the actor's account.
grant_allows(grant, p) if {
	grant.type == "CUSTOM"
	grant.custom_role.id == grant.id
	in_actor_account(grant.custom_role.account_id)
	p in grant.custom_role.permissions
}
