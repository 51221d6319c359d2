# Tests of the rules of org_add and org_remove (decision.rego): who can see
# an organization, who administers it, and which user, role and membership
# must exist. No rule of a space operation applies to them (there is no
# space), and none of theirs to a space operation.
package spaceauthz_test

import data.spaceauthz

# org_add

test_org_add_allowed if {
	spaceauthz.decision == allow with input as org_add_allowed
}

test_org_add_denied if {
	spaceauthz.decision == deny({organization_not_found}) with input as org_add_base
}

test_org_add_allows[name] if {
	some name, facts in {
		"organization ADMIN adds a MEMBER": org_add_allowed,
		"account ADMIN with no role in the organization": org_add_as_actor({"role": "ADMIN"}),
		"account ADMIN who is a MEMBER of the organization": org_add_as_actor({
			"role": "ADMIN",
			"organization_role": predefined("MEMBER"),
		}),
		"organization ADMIN adds an ADMIN": org_add_request({"role": predefined("ADMIN")}),
		"organization ADMIN adds a READ_ONLY": org_add_request({"role": predefined("READ_ONLY")}),
		"organization ADMIN grants a custom role": org_add_request({"role": custom(binder), "custom_role": binder}),
		"account ANNOTATOR given the annotator role": replace(
			org_add_for_target({"role": "ANNOTATOR"}),
			{"role": predefined("ANNOTATOR")},
		),
		"account ANNOTATOR who is no member yet": replace(
			org_add_for_target({"role": "ANNOTATOR", "organization_role": null}),
			{"role": predefined("ANNOTATOR")},
		),
		"target not yet a member": org_add_for_target({"organization_role": null}),
		"target already an ADMIN": org_add_for_target({"organization_role": predefined("ADMIN")}),
		"the same role again": org_add_for_target({"organization_role": predefined("MEMBER")}),
		"actor adds themselves": org_add_for_target({"id": actor.id}),
	}
	spaceauthz.decision == allow with input as facts
}

# Each case breaks one rule (or a rule and those that follow from it) and the
# decision names exactly the rules it breaks.
test_org_add_denies[name] if {
	some name, [facts, violations] in {
		# organization_visible
		"no role at all": [org_add_base, {organization_not_found}],
		"account ANNOTATOR, no role": [org_add_as_actor({"role": "ANNOTATOR"}), {organization_not_found}],
		"organization null": [org_add_request({"organization": null}), {organization_not_found}],
		"organization of another account": [
			org_add_request({"organization": foreign_organization}),
			{organization_not_found},
		],
		"account ADMIN, organization of another account": [
			replace(org_add_as_actor({"role": "ADMIN"}), {"organization": foreign_organization}),
			{organization_not_found},
		],
		"actor of another account": [
			org_add_as_actor({"account_id": other_account_id, "organization_role": predefined("ADMIN")}),
			{organization_not_found},
		],
		"actor null": [org_add_request({"actor": null}), {unauthenticated, organization_not_found}],
		# organization_admin
		"organization MEMBER": [org_add_as_actor({"organization_role": predefined("MEMBER")}), {not_organization_admin}],
		"organization READ_ONLY": [
			org_add_as_actor({"organization_role": predefined("READ_ONLY")}),
			{not_organization_admin},
		],
		"organization ANNOTATOR": [
			org_add_as_actor({"organization_role": predefined("ANNOTATOR")}),
			{not_organization_admin},
		],
		"organization custom role with ROLE_BINDING_CREATE, predefined role": [
			org_add_as_actor({"organization_role": held(binder)}),
			{not_organization_admin},
		],
		"organization custom role with ROLE_BINDING_CREATE, custom role": [
			replace(
				org_add_as_actor({"organization_role": held(binder)}),
				{"role": custom(reader), "custom_role": reader},
			),
			{not_organization_admin},
		],
		"a space ADMIN role counts for nothing": [
			org_add_as_actor({"organization_role": predefined("MEMBER"), "space_role": predefined("ADMIN")}),
			{not_organization_admin},
		],
		# user_exists
		"target null": [org_add_request({"target": null}), {user_not_found}],
		"target of another account": [org_add_for_target({"account_id": other_account_id}), {user_not_found}],
		# role_exists
		"custom role not found": [org_add_request({"role": custom(binder), "custom_role": null}), {role_not_found}],
		"custom role of another account": [
			org_add_request({"role": custom(foreign_binder), "custom_role": foreign_binder}),
			{role_not_found},
		],
		"custom role record of another id": [
			org_add_request({"role": custom(binder), "custom_role": reader}),
			{role_not_found},
		],
		"predefined role the table does not know": [org_add_request({"role": predefined("OWNER")}), {role_not_found}],
		"no role at all requested": [org_add_request({"role": null}), {role_not_found}],
		# annotator pairing
		"account ANNOTATOR given MEMBER": [org_add_for_target({"role": "ANNOTATOR"}), {annotator_role_required}],
		"account ANNOTATOR given a custom role": [
			replace(org_add_for_target({"role": "ANNOTATOR"}), {"role": custom(binder), "custom_role": binder}),
			{annotator_role_required},
		],
		"account MEMBER given ANNOTATOR": [
			org_add_request({"role": predefined("ANNOTATOR")}),
			{annotator_role_not_allowed},
		],
		"account ADMIN given ANNOTATOR": [
			replace(org_add_for_target({"role": "ADMIN"}), {"role": predefined("ANNOTATOR")}),
			{annotator_role_not_allowed},
		],
	}
	spaceauthz.decision == deny(violations) with input as facts
}

# Where two checks fail, both rules fire and the Go side answers with the
# earlier one; a caller who cannot see the organization gets only
# organization_not_found, whatever else is wrong.
test_org_add_check_order[name] if {
	some name, [facts, violations] in {
		"not visible hides the rest": [
			replace(org_add_base, {
				"target": null,
				"role": custom(binder),
				"custom_role": null,
			}),
			{organization_not_found},
		],
		"forbidden and user not found": [
			replace(org_add_as_actor({"organization_role": predefined("MEMBER")}), {"target": null}),
			{not_organization_admin, user_not_found},
		],
		"forbidden and role not found": [
			replace(
				org_add_as_actor({"organization_role": predefined("MEMBER")}),
				{"role": custom(binder), "custom_role": null},
			),
			{not_organization_admin, role_not_found},
		],
		"user not found and role not found": [
			org_add_request({"target": null, "role": custom(binder), "custom_role": null}),
			{user_not_found, role_not_found},
		],
		"role not found and annotator role required": [
			replace(org_add_for_target({"role": "ANNOTATOR"}), {"role": custom(binder), "custom_role": null}),
			{role_not_found, annotator_role_required},
		],
	}
	spaceauthz.decision == deny(violations) with input as facts
}

# org_remove

test_org_remove_allowed if {
	spaceauthz.decision == allow with input as org_remove_allowed
}

test_org_remove_denied if {
	spaceauthz.decision == deny({organization_not_found}) with input as org_remove_base
}

test_org_remove_allows[name] if {
	some name, facts in {
		"organization ADMIN removes a MEMBER": org_remove_allowed,
		"account ADMIN with no role in the organization": org_remove_as_actor({"role": "ADMIN"}),
		"removes an ADMIN": org_remove_for_target({"organization_role": predefined("ADMIN")}),
		"removes a custom role holder": org_remove_for_target({"organization_role": held(binder)}),
		"removes an account ANNOTATOR": org_remove_for_target({
			"role": "ANNOTATOR",
			"organization_role": predefined("ANNOTATOR"),
		}),
		"actor removes themselves": org_remove_for_target({"id": actor.id}),
		# Nothing is requested: a role in the input means nothing to a remove.
		"a role the policy does not know": org_remove_request({"role": predefined("OWNER")}),
		"a custom role not found": org_remove_request({"role": custom(binder), "custom_role": null}),
	}
	spaceauthz.decision == allow with input as facts
}

test_org_remove_denies[name] if {
	some name, [facts, violations] in {
		# organization_visible
		"no role at all": [org_remove_base, {organization_not_found}],
		"organization null": [org_remove_request({"organization": null}), {organization_not_found}],
		"organization of another account": [
			org_remove_request({"organization": foreign_organization}),
			{organization_not_found},
		],
		"actor null": [org_remove_request({"actor": null}), {unauthenticated, organization_not_found}],
		# organization_admin
		"organization MEMBER": [
			org_remove_as_actor({"organization_role": predefined("MEMBER")}),
			{not_organization_admin},
		],
		"organization custom role with every ROLE_BINDING permission": [
			org_remove_as_actor({"organization_role": held(replace(remover, {"permissions": role_binding_permissions}))}),
			{not_organization_admin},
		],
		# user_exists
		"target null": [org_remove_request({"target": null}), {user_not_found, membership_not_found}],
		"target of another account": [
			org_remove_for_target({"account_id": other_account_id}),
			{user_not_found},
		],
		# membership_exists
		"target not a member": [org_remove_for_target({"organization_role": null}), {membership_not_found}],
		"organization_role missing": [
			replace(org_remove_allowed, {"target": object.remove(target, ["organization_role"])}),
			{membership_not_found},
		],
	}
	spaceauthz.decision == deny(violations) with input as facts
}

test_org_remove_check_order[name] if {
	some name, [facts, violations] in {
		"not visible hides the rest": [
			replace(org_remove_base, {"target": null}),
			{organization_not_found},
		],
		"forbidden and not a member": [
			replace(
				org_remove_as_actor({"organization_role": predefined("MEMBER")}),
				{"target": replace(target, {"organization_role": null})},
			),
			{not_organization_admin, membership_not_found},
		],
		"forbidden and user not found": [
			replace(org_remove_as_actor({"organization_role": predefined("MEMBER")}), {"target": null}),
			{not_organization_admin, user_not_found, membership_not_found},
		],
	}
	spaceauthz.decision == deny(violations) with input as facts
}

# The operations keep to their own rules.

test_org_operations_select_their_rules if {
	spaceauthz.org_adding with input as org_add_allowed
	not spaceauthz.org_removing with input as org_add_allowed
	spaceauthz.org_removing with input as org_remove_allowed
	not spaceauthz.org_adding with input as org_remove_allowed
	spaceauthz.changes_organization_membership with input as org_add_allowed
	spaceauthz.changes_organization_membership with input as org_remove_allowed
}

test_org_operations_known[op] if {
	some op in ["org_add", "org_remove"]
	spaceauthz.known_operation with input as replace(org_add_allowed, {"operation": op})
	spaceauthz.on_organization with input as replace(org_add_allowed, {"operation": op})
}

# No space rule fires for an organization operation, whatever the facts of
# the space say: the space is null, and a space in the input by mistake
# counts for nothing.
test_no_space_rule_for_org_operations[name] if {
	some name, facts in {
		"org_add": org_add_allowed,
		"org_remove": org_remove_allowed,
		"org_add, an unreadable space given": org_add_request({"space": private_space}),
		"org_remove, an admin membership given": org_remove_request({
			"space": space,
			"membership": membership_of(predefined("ADMIN")),
		}),
	}
	not spaceauthz.adding with input as facts
	not spaceauthz.removing with input as facts
	not spaceauthz.listing with input as facts
	not spaceauthz.changes_membership with input as facts
	spaceauthz.decision == allow with input as facts
}

test_org_add_not_in_organization_is_no_violation if {
	# Unlike a space add, the target need not be in the organization yet.
	not user_not_in_organization in spaceauthz.violations with input as org_add_for_target({"organization_role": null})
}

# No organization rule fires for a space operation, however the
# organization looks from the point of view of an organization operation.
test_no_org_rule_for_space_operations[name] if {
	some name, facts in {
		"add, actor no member of the organization": allowed,
		"remove": remove_allowed,
		"list": list_allowed,
		"add by a space ADMIN who is an organization MEMBER": replace(
			allowed,
			{"actor": replace(allowed.actor, {"organization_role": predefined("MEMBER")})},
		),
	}
	not spaceauthz.on_organization with input as facts
	not spaceauthz.can_see_organization with input as facts
	not spaceauthz.org_adding with input as facts
	not spaceauthz.org_removing with input as facts
	not organization_not_found in spaceauthz.violations with input as facts
	not not_organization_admin in spaceauthz.violations with input as facts
}

test_space_operation_without_readable_space_has_no_org_rule[op] if {
	some op in ["add", "remove", "list"]
	spaceauthz.decision == deny({space_not_found}) with input as replace(base, {"operation": op, "space": null})
}
