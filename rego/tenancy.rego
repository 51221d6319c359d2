# Accounts: nothing is visible across them. Every fact is reported by ID
# alone, so each rule that uses one first checks that it lies in the actor's
# account.
package spaceauthz

actor_exists if is_string(input.actor.account_id)

in_actor_account(account_id) if {
	actor_exists
	account_id == input.actor.account_id
}

is_account_admin if {
	actor_exists
	input.actor.role == "ADMIN"
}

# The space and its parent organization lie in the actor's account.
space_in_account if {
	input.space.organization_id == input.organization.id
	in_actor_account(input.organization.account_id)
}

# The organization of an organization operation lies in the actor's
# account.
organization_in_account if in_actor_account(input.organization.account_id)

target_in_account if in_actor_account(input.target.account_id)

custom_role_in_account if {
	requested_custom
	input.custom_role.id == input.role.id
	in_actor_account(input.custom_role.account_id)
}
