# Tests of the admin_membership rule of decision.rego: only a space admin
# changes the membership of a member whose role is the predefined ADMIN,
# whether by giving them another role (add) or by removing them (remove).
package spaceauthz_test

import data.spaceauthz

# admin_as_member(facts): facts with the target a predefined ADMIN of the space.
admin_as_member(facts) := replace(facts, {"membership": membership_of(predefined("ADMIN"))})

# binder_grants: an actor whose organization custom role grants only
# ROLE_BINDING_CREATE asks to give the target the custom role reader.
binder_grants := replace(
	as_actor({"organization_role": held(binder)}),
	{"role": custom(reader), "custom_role": reader},
)

# The hole this rule closes: ROLE_BINDING_CREATE alone does not let anyone
# replace a space ADMIN's role with a custom one.
test_add_custom_role_to_space_admin_denied[name] if {
	some name, facts in {
		"organization custom role with ROLE_BINDING_CREATE": admin_as_member(binder_grants),
		"space custom role with ROLE_BINDING_CREATE": admin_as_member(replace(
			as_actor({"space_role": held(binder)}),
			{"role": custom(reader), "custom_role": reader},
		)),
		"organization custom role with ROLE_BINDING_CREATE and ROLE_BINDING_DELETE": admin_as_member(replace(
			as_actor({"organization_role": held(replace(binder, {"permissions": ["ROLE_BINDING_CREATE", "ROLE_BINDING_DELETE"]}))}),
			{"role": custom(reader), "custom_role": reader},
		)),
	}
	spaceauthz.decision == deny({admin_membership}) with input as facts
}

test_add_custom_role_by_binder_allowed[name] if {
	some name, facts in {
		"to a new member": binder_grants,
		"to a MEMBER": replace(binder_grants, {"membership": membership_of(predefined("MEMBER"))}),
		"to a READ_ONLY": replace(binder_grants, {"membership": membership_of(predefined("READ_ONLY"))}),
		"to a custom role holder": replace(binder_grants, {"membership": membership_of(custom(binder))}),
	}
	spaceauthz.decision == allow with input as facts
}

# A predefined role already needs a space admin; a change to an ADMIN's
# membership by anyone else breaks both rules.
test_add_predefined_role_to_space_admin_denied if {
	facts := admin_as_member(as_actor({"organization_role": predefined("MEMBER")}))
	spaceauthz.decision == deny({not_space_admin, admin_membership}) with input as facts
}

test_space_admin_changes_space_admin[name] if {
	some name, facts in {
		"space ADMIN gives a custom role": admin_as_member(request({"role": custom(binder), "custom_role": binder})),
		"space ADMIN gives MEMBER": admin_as_member(allowed),
		"space ADMIN gives ADMIN again": admin_as_member(request({"role": predefined("ADMIN")})),
		"organization ADMIN gives a custom role": admin_as_member(replace(
			as_actor({"organization_role": predefined("ADMIN")}),
			{"role": custom(binder), "custom_role": binder},
		)),
		"account ADMIN gives a custom role": admin_as_member(replace(
			as_actor({"role": "ADMIN"}),
			{"role": custom(binder), "custom_role": binder},
		)),
		"space ADMIN removes a space ADMIN": admin_as_member(remove_allowed),
		"organization ADMIN removes a space ADMIN": admin_as_member(remove_as_actor({"organization_role": predefined("ADMIN")})),
		"account ADMIN removes a space ADMIN": admin_as_member(remove_as_actor({"role": "ADMIN"})),
	}
	spaceauthz.decision == allow with input as facts
}

test_remove_space_admin_denied[name] if {
	some name, [facts, violations] in {
		"organization custom role with ROLE_BINDING_DELETE": [
			admin_as_member(remove_as_actor({"organization_role": held(remover)})),
			{admin_membership},
		],
		"space custom role with ROLE_BINDING_DELETE": [
			admin_as_member(remove_as_actor({"space_role": held(remover)})),
			{admin_membership},
		],
		"organization custom role with ROLE_BINDING_CREATE only": [
			admin_as_member(remove_as_actor({"organization_role": held(binder)})),
			{no_role_binding_delete, admin_membership},
		],
		"space MEMBER": [
			admin_as_member(remove_as_actor({"space_role": predefined("MEMBER")})),
			{no_role_binding_delete, admin_membership},
		],
	}
	spaceauthz.decision == deny(violations) with input as facts
}

# A space admin is a space admin of this space only: an actor who is one
# elsewhere is refused where they cannot read, and learns nothing more.
test_admin_membership_in_a_foreign_space if {
	facts := in_foreign_space(admin_as_member(remove_as_actor({"organization_role": predefined("ADMIN")})))
	spaceauthz.decision == deny({space_not_found}) with input as facts
}

# A list changes no membership: an ADMIN among the members does not matter.
test_admin_membership_not_for_a_list if {
	not admin_membership in spaceauthz.violations with input as admin_as_member(list_allowed)
}

test_admin_membership_not_for_an_unknown_operation if {
	facts := replace(admin_as_member(binder_grants), {"operation": "delete"})
	spaceauthz.decision == deny({unknown_operation}) with input as facts
}
