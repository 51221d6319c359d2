# Tests of the rules of a remove (decision.rego): who may remove a member,
# and which user and membership must exist. A remove is about the target's
# membership only: the rules of an add (role, organization, annotator
# pairing) never apply to it.
package spaceauthz_test

import data.spaceauthz

test_remove_allowed if {
	spaceauthz.decision == allow with input as remove_allowed
}

test_remove_denied if {
	spaceauthz.decision == deny({space_not_found}) with input as remove_base
}

test_remove_allows[name] if {
	some name, facts in {
		"space ADMIN removes a MEMBER": remove_allowed,
		"account ADMIN removes from a private space": replace(
			remove_as_actor({"role": "ADMIN"}),
			{"space": private_space},
		),
		"organization ADMIN removes from a private space": replace(
			remove_as_actor({"organization_role": predefined("ADMIN")}),
			{"space": private_space},
		),
		"organization custom role with ROLE_BINDING_DELETE": remove_as_actor({"organization_role": held(remover)}),
		"space custom role with ROLE_BINDING_DELETE, private space": replace(
			remove_as_actor({"space_role": held(remover)}),
			{"space": private_space},
		),
		"ROLE_BINDING_DELETE removes a READ_ONLY": replace(
			remove_as_actor({"organization_role": held(remover)}),
			{"membership": membership_of(predefined("READ_ONLY"))},
		),
		"ROLE_BINDING_DELETE removes a custom role holder": replace(
			remove_as_actor({"organization_role": held(remover)}),
			{"membership": membership_of(custom(binder))},
		),
		"space ADMIN removes a member holding a custom role": remove_request({"membership": membership_of(custom(binder))}),
		"target no longer in the organization": replace(
			remove_allowed,
			{"target": replace(target, {"organization_role": null})},
		),
		"target is an account ANNOTATOR holding MEMBER": replace(
			remove_allowed,
			{"target": replace(target, {"role": "ANNOTATOR"})},
		),
		"actor removes themselves": replace(
			remove_as_actor({"organization_role": held(remover)}),
			{"target": replace(target, {"id": actor.id})},
		),
		# Nothing is requested: a role in the input means nothing to a remove.
		"a role the policy does not know": remove_request({"role": predefined("OWNER")}),
		"a custom role not found": remove_request({"role": custom(binder), "custom_role": null}),
	}
	spaceauthz.decision == allow with input as facts
}

# Each case breaks one rule (or a rule and those that follow from it) and the
# decision names exactly the rules it breaks.
test_remove_denies[name] if {
	some name, [facts, violations] in {
		"actor null": [
			remove_request({"actor": null}),
			{unauthenticated, space_not_found},
		],
		"no role at all": [remove_base, {space_not_found}],
		"space of another account, account ADMIN": [
			in_foreign_space(remove_as_actor({"role": "ADMIN"})),
			{space_not_found},
		],
		"private space, organization custom role with ROLE_BINDING_DELETE": [
			replace(remove_as_actor({"organization_role": held(remover)}), {"space": private_space}),
			{space_not_found},
		],
		"target null, no membership": [remove_request({"target": null, "membership": null}), {user_not_found, membership_not_found}],
		"target of another account, no membership": [
			remove_request({"target": replace(target, {"account_id": other_account_id}), "membership": null}),
			{user_not_found, membership_not_found},
		],
		"not a member": [remove_request({"membership": null}), {membership_not_found}],
		"ROLE_BINDING_DELETE, not a member": [
			replace(remove_as_actor({"organization_role": held(remover)}), {"membership": null}),
			{membership_not_found},
		],
	}
	spaceauthz.decision == deny(violations) with input as facts
}

# role_binding_delete: a space admin, or ROLE_BINDING_DELETE on the space.

test_role_binding_delete_denied[name] if {
	some name, facts in {
		"organization MEMBER": remove_as_actor({"organization_role": predefined("MEMBER")}),
		"organization READ_ONLY": remove_as_actor({"organization_role": predefined("READ_ONLY")}),
		"space MEMBER": remove_as_actor({"space_role": predefined("MEMBER")}),
		"space READ_ONLY": remove_as_actor({"space_role": predefined("READ_ONLY")}),
		"space ANNOTATOR": remove_as_actor({"space_role": predefined("ANNOTATOR")}),
		"organization custom role with ROLE_BINDING_CREATE only": remove_as_actor({"organization_role": held(binder)}),
		"space custom role with ROLE_BINDING_CREATE only": remove_as_actor({"space_role": held(binder)}),
		"organization custom role with ROLE_BINDING_READ": remove_as_actor({"organization_role": held(reader)}),
		"organization custom role of another account": remove_as_actor({"organization_role": held(foreign_remover)}),
		"space custom role whose record is missing": remove_as_actor({"space_role": {"type": "CUSTOM", "id": remover.id, "custom_role": null}}),
		"space custom role whose record has another id": remove_as_actor({"space_role": {"type": "CUSTOM", "id": binder.id, "custom_role": remover}}),
	}
	spaceauthz.decision == deny({no_role_binding_delete}) with input as facts
}

test_role_binding_delete_passes[name] if {
	some name, facts in {
		"account ADMIN": remove_as_actor({"role": "ADMIN"}),
		"organization ADMIN": remove_as_actor({"organization_role": predefined("ADMIN")}),
		"space ADMIN": remove_allowed,
		"organization custom role with ROLE_BINDING_DELETE": remove_as_actor({"organization_role": held(remover)}),
		"space custom role with ROLE_BINDING_DELETE": remove_as_actor({"space_role": held(remover)}),
		"union of a READ_ONLY space role and an organization remover": remove_as_actor({
			"organization_role": held(remover),
			"space_role": predefined("READ_ONLY"),
		}),
	}
	not no_role_binding_delete in spaceauthz.violations with input as facts
}

# A space admin removes members whatever the permission table says, and the
# table alone decides what a predefined role other than ADMIN may do.
test_role_binding_delete_from_the_table if {
	table := {
		"ADMIN": {"all_permissions": false, "permissions": []},
		"MEMBER": {"all_permissions": false, "permissions": ["ROLE_BINDING_DELETE"]},
	}
	not no_role_binding_delete in spaceauthz.violations with input as remove_allowed
		with data.spaceauthz.predefined_roles as table
	not no_role_binding_delete in spaceauthz.violations with input as remove_as_actor({"organization_role": predefined("MEMBER")})
		with data.spaceauthz.predefined_roles as table
	no_role_binding_delete in spaceauthz.violations with input as remove_as_actor({"organization_role": predefined("READ_ONLY")})
		with data.spaceauthz.predefined_roles as table
}

# user_exists: the target must be a user of the actor's account, member or
# not (a record of another account counts as absent).

test_remove_user_not_found[name] if {
	some name, facts in {
		"target null": remove_request({"target": null}),
		"target of another account": remove_request({"target": replace(target, {"account_id": other_account_id})}),
		"target without an account": remove_request({"target": object.remove(target, ["account_id"])}),
	}
	spaceauthz.decision == deny({user_not_found}) with input as facts
}

# membership_exists: the target must be a member of the space.

test_membership_not_found[name] if {
	some name, facts in {
		"membership null": remove_request({"membership": null}),
		"membership missing": object.remove(remove_allowed, ["membership"]),
		"membership not an object": remove_request({"membership": "TWVtYmVyc2hpcDox"}),
	}
	spaceauthz.decision == deny({membership_not_found}) with input as facts
}

test_membership_exists_only_for_a_remove[name] if {
	some name, facts in {
		"add of a new member": allowed,
		"list": list_allowed,
	}
	not membership_not_found in spaceauthz.violations with input as facts
}

# A remove is judged by none of the rules of an add.
test_remove_skips_the_rules_of_an_add[name] if {
	some name, facts in {
		"no role requested, no space admin": remove_as_actor({"organization_role": held(remover)}),
		"target not in the organization": remove_request({"target": replace(target, {"organization_role": null})}),
		"account ANNOTATOR target": remove_request({"target": replace(target, {"role": "ANNOTATOR"})}),
		"unknown role in the input": remove_request({"role": {"type": "OTHER"}}),
	}
	violations := spaceauthz.violations with input as facts
	every v in violations {
		not v.rule in {"space_admin", "role_binding_create", "role_exists", "user_in_organization", "annotator_role_required", "annotator_role_not_allowed"}
	}
}
