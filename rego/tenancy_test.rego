# Tests of tenancy.rego: every fact must lie in the actor's account.
package spaceauthz_test

import data.spaceauthz

# actor_exists

test_actor_exists if {
	spaceauthz.actor_exists with input as base
}

test_actor_missing[name] if {
	some name, facts in {
		"actor null": request({"actor": null}),
		"actor without account": as_actor({"account_id": null}),
		"no input at all": {},
	}
	not spaceauthz.actor_exists with input as facts
}

# in_actor_account

test_in_actor_account if {
	spaceauthz.in_actor_account(account_id) with input as base
}

test_not_in_actor_account[name] if {
	some name, [id, facts] in {
		"other account": [other_account_id, base],
		"no actor": [account_id, request({"actor": null})],
	}
	not spaceauthz.in_actor_account(id) with input as facts
}

# is_account_admin

test_account_admin if {
	spaceauthz.is_account_admin with input as as_actor({"role": "ADMIN"})
}

test_not_account_admin[role] if {
	some role in ["MEMBER", "ANNOTATOR", "admin"]
	not spaceauthz.is_account_admin with input as as_actor({"role": role})
}

# space_in_account

test_space_in_account if {
	spaceauthz.space_in_account with input as base
}

test_space_not_in_account[name] if {
	some name, facts in {
		"space of another account": in_foreign_space(base),
		"space of another organization": request({"space": foreign_space}),
		"organization of another account": request({"organization": replace(organization, {"account_id": other_account_id})}),
		"space null": request({"space": null}),
		"organization null": request({"organization": null}),
		"actor null": request({"actor": null}),
	}
	not spaceauthz.space_in_account with input as facts
}

# target_in_account

test_target_in_account if {
	spaceauthz.target_in_account with input as allowed
}

test_target_not_in_account[name] if {
	some name, facts in {
		"target null": request({"target": null}),
		"target of another account": for_target({"account_id": other_account_id}),
		"actor null": request({"actor": null}),
	}
	not spaceauthz.target_in_account with input as facts
}

# custom_role_in_account

test_custom_role_in_account if {
	spaceauthz.custom_role_in_account with input as request({"role": custom(binder), "custom_role": binder})
}

test_custom_role_not_in_account[name] if {
	some name, facts in {
		"custom role null": request({"role": custom(binder), "custom_role": null}),
		"custom role of another account": request({"role": custom(foreign_binder), "custom_role": foreign_binder}),
		"custom role with another id": request({"role": custom(binder), "custom_role": reader}),
		"predefined role requested": request({"custom_role": binder}),
	}
	not spaceauthz.custom_role_in_account with input as facts
}
