# Tests of a list (decision.rego): reading the space is all it takes, and the
# rules of an add and of a remove never apply.
package spaceauthz_test

import data.spaceauthz

test_list_allowed if {
	spaceauthz.decision == allow with input as list_allowed
}

test_list_allows[name] if {
	some name, facts in {
		"organization MEMBER reads a public space": list_allowed,
		"organization READ_ONLY reads a public space": list_as_actor({"organization_role": predefined("READ_ONLY")}),
		"organization custom role reads a public space": list_as_actor({"organization_role": held(reader)}),
		"account ADMIN, private space": replace(list_as_actor({"role": "ADMIN"}), {"space": private_space}),
		"organization ADMIN, private space": replace(
			list_as_actor({"organization_role": predefined("ADMIN")}),
			{"space": private_space},
		),
		"space READ_ONLY, private space": replace(
			list_as_actor({"space_role": predefined("READ_ONLY")}),
			{"space": private_space},
		),
		"space ANNOTATOR, private space": replace(
			list_as_actor({"space_role": predefined("ANNOTATOR")}),
			{"space": private_space},
		),
		# A list names no user, role or membership: those facts mean nothing
		# to it, even when present.
		"a target of another account in the input": replace(
			list_allowed,
			{"target": replace(target, {"account_id": other_account_id})},
		),
		"an ADMIN membership in the input": replace(list_allowed, {"membership": membership_of(predefined("ADMIN"))}),
		"a role the policy does not know in the input": replace(list_allowed, {"role": predefined("OWNER")}),
	}
	spaceauthz.decision == allow with input as facts
}

test_list_denies[name] if {
	some name, [facts, violations] in {
		"no role at all": [list_base, {space_not_found}],
		"private space, organization MEMBER": [
			replace(list_allowed, {"space": private_space}),
			{space_not_found},
		],
		"private space, organization custom role": [
			replace(list_as_actor({"organization_role": held(reader)}), {"space": private_space}),
			{space_not_found},
		],
		"account ANNOTATOR, no role": [list_as_actor({"role": "ANNOTATOR"}), {space_not_found}],
		"space of another account, account ADMIN": [
			in_foreign_space(list_as_actor({"role": "ADMIN"})),
			{space_not_found},
		],
		"space of another account, organization MEMBER there": [in_foreign_space(list_allowed), {space_not_found}],
		"space null": [replace(list_allowed, {"space": null}), {space_not_found}],
		"actor null": [replace(list_allowed, {"actor": null}), {unauthenticated, space_not_found}],
	}
	spaceauthz.decision == deny(violations) with input as facts
}
