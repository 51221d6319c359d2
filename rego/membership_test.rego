# Tests of membership.rego: the target's current membership of the space.
package spaceauthz_test

import data.spaceauthz

# target_is_member

test_target_is_member[name] if {
	some name, facts in {
		"remove of a MEMBER": remove_allowed,
		"add over an existing membership": request({"membership": membership_of(predefined("READ_ONLY"))}),
	}
	spaceauthz.target_is_member with input as facts
}

test_target_is_not_member[name] if {
	some name, facts in {
		"membership null": remove_request({"membership": null}),
		"membership missing": object.remove(remove_allowed, ["membership"]),
		"membership not an object": remove_request({"membership": "TWVtYmVyc2hpcDox"}),
		"add of a new member": allowed,
	}
	not spaceauthz.target_is_member with input as facts
}

# membership_is_admin

test_membership_is_admin if {
	spaceauthz.membership_is_admin with input as request({"membership": membership_of(predefined("ADMIN"))})
}

test_membership_is_not_admin[name] if {
	some name, facts in {
		"no membership": allowed,
		"predefined MEMBER": request({"membership": membership_of(predefined("MEMBER"))}),
		"predefined READ_ONLY": request({"membership": membership_of(predefined("READ_ONLY"))}),
		"custom role": request({"membership": membership_of(custom(binder))}),
		"custom role named ADMIN": request({"membership": membership_of({"type": "CUSTOM", "id": binder.id, "name": "ADMIN"})}),
		"lower-case spelling": request({"membership": membership_of({"type": "predefined", "name": "admin"})}),
		"membership without a role": request({"membership": object.remove(membership_of(null), ["role"])}),
	}
	not spaceauthz.membership_is_admin with input as facts
}
