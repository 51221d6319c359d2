# Tests of a read (decision.rego): the rule of GetSpace and of every space a
# list of spaces considers. As for a list of members, reading the space is
# all it takes; a read is decided on the same facts.
package spaceauthz_test

import data.spaceauthz

# read_of(facts): the facts of a list, decided as a read.
read_of(facts) := replace(facts, {"operation": "read"})

test_read_allows[name] if {
	some name, facts in {
		"organization MEMBER reads a public space": list_allowed,
		"organization custom role reads a public space": list_as_actor({"organization_role": held(reader)}),
		"account ADMIN, private space": replace(list_as_actor({"role": "ADMIN"}), {"space": private_space}),
		"organization ADMIN, private space": replace(
			list_as_actor({"organization_role": predefined("ADMIN")}),
			{"space": private_space},
		),
		"space ANNOTATOR, private space": replace(
			list_as_actor({"space_role": predefined("ANNOTATOR")}),
			{"space": private_space},
		),
		"space custom role, private space": replace(
			list_as_actor({"space_role": held(reader)}),
			{"space": private_space},
		),
	}
	spaceauthz.decision == allow with input as read_of(facts)
}

test_read_denies[name] if {
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
		"space null": [replace(list_allowed, {"space": null}), {space_not_found}],
		"actor null": [replace(list_allowed, {"actor": null}), {unauthenticated, space_not_found}],
	}
	spaceauthz.decision == deny(violations) with input as read_of(facts)
}
