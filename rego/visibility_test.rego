# Tests of visibility.rego: who can read a space.
package spaceauthz_test

import data.spaceauthz

# The four ways to read a space, each on its own.

test_account_admin_reads_private_space if {
	spaceauthz.can_read_space with input as replace(as_actor({"role": "ADMIN"}), {"space": private_space})
}

test_organization_member_reads_public_space if {
	spaceauthz.can_read_space with input as as_actor({"organization_role": predefined("MEMBER")})
}

test_organization_admin_reads_private_space if {
	spaceauthz.can_read_space with input as replace(
		as_actor({"organization_role": predefined("ADMIN")}),
		{"space": private_space},
	)
}

test_space_member_reads_private_space if {
	spaceauthz.can_read_space with input as replace(
		as_actor({"space_role": predefined("READ_ONLY")}),
		{"space": private_space},
	)
}

# The negatives of each way.

test_private_space_not_visible_to_organization_member if {
	not spaceauthz.can_read_space with input as replace(
		as_actor({"organization_role": predefined("MEMBER")}),
		{"space": private_space},
	)
}

test_foreign_space_not_visible_to_account_admin if {
	not spaceauthz.can_read_space with input as in_foreign_space(as_actor({"role": "ADMIN"}))
}

test_space_not_visible_without_a_role if {
	not spaceauthz.can_read_space with input as base
}

# More readers: any role in the organization reads a public space, any role
# in the space reads it even when private.

test_can_read_space[name] if {
	some name, facts in {
		"account ADMIN, public space": as_actor({"role": "ADMIN"}),
		"organization READ_ONLY, public space": as_actor({"organization_role": predefined("READ_ONLY")}),
		"organization ANNOTATOR, public space": as_actor({"organization_role": predefined("ANNOTATOR")}),
		"organization custom role, public space": as_actor({"organization_role": held(reader)}),
		"organization ADMIN, public space": as_actor({"organization_role": predefined("ADMIN")}),
		"space ANNOTATOR, private space": replace(
			as_actor({"space_role": predefined("ANNOTATOR")}),
			{"space": private_space},
		),
		"space custom role, private space": replace(
			as_actor({"space_role": held(reader)}),
			{"space": private_space},
		),
		"space ADMIN, private space": replace(as_actor({"space_role": predefined("ADMIN")}), {"space": private_space}),
	}
	spaceauthz.can_read_space with input as facts
}

# More non-readers: nobody reads a space of another account, nor a space
# whose facts are incomplete or inconsistent.

test_cannot_read_space[name] if {
	some name, facts in {
		"account ANNOTATOR, no role": as_actor({"role": "ANNOTATOR"}),
		"account MEMBER, private space": replace(base, {"space": private_space}),
		"organization READ_ONLY, private space": replace(
			as_actor({"organization_role": predefined("READ_ONLY")}),
			{"space": private_space},
		),
		"organization custom role, private space": replace(
			as_actor({"organization_role": held(reader)}),
			{"space": private_space},
		),
		"organization MEMBER, is_private unknown": replace(
			as_actor({"organization_role": predefined("MEMBER")}),
			{"space": object.remove(space, ["is_private"])},
		),
		"foreign space, organization ADMIN": in_foreign_space(as_actor({"organization_role": predefined("ADMIN")})),
		"foreign space, space member": in_foreign_space(as_actor({"space_role": predefined("ADMIN")})),
		"foreign space, organization MEMBER": in_foreign_space(as_actor({"organization_role": predefined("MEMBER")})),
		"space of another organization, account ADMIN": replace(as_actor({"role": "ADMIN"}), {"space": foreign_space}),
		"space null, account ADMIN": replace(as_actor({"role": "ADMIN"}), {"space": null}),
		"organization null, account ADMIN": replace(as_actor({"role": "ADMIN"}), {"organization": null}),
		"actor null": request({"actor": null}),
	}
	not spaceauthz.can_read_space with input as facts
}

# A caller who cannot read the space learns nothing else: whatever the
# target, the role asked for and the membership, an add and a remove answer
# space_not_found alone, and no rule of theirs looks further.
test_hidden_space_tells_nothing_more[name] if {
	hidden := replace(as_actor({"organization_role": predefined("MEMBER")}), {"space": private_space})
	some name, facts in {
		"the target exists": hidden,
		"no such target": replace(hidden, {"target": null}),
		"a target of another account": replace(hidden, {"target": replace(target, {"account_id": other_account_id})}),
		"an ANNOTATOR target": replace(hidden, {"target": replace(target, {"role": "ANNOTATOR"})}),
		"the target holds ADMIN": replace(hidden, {"membership": membership_of(predefined("ADMIN"))}),
		"a role the policy does not know": replace(hidden, {"role": predefined("OWNER")}),
		"a custom role not found": replace(hidden, {"role": custom(binder), "custom_role": null}),
	}
	every op in ["add", "remove"] {
		spaceauthz.decision == deny({space_not_found}) with input as replace(facts, {"operation": op})
	}
}
