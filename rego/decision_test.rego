# Tests of decision.rego: the decision document, and each rule of an add
# both ways (the rules of the other operations have files of their own).
package spaceauthz_test

import data.spaceauthz

test_fully_allowed_decision if {
	spaceauthz.decision == {"allow": true, "violations": set()} with input as allowed
	spaceauthz.allow with input as allowed
	count(spaceauthz.violations) == 0 with input as allowed
}

test_denied_decision if {
	spaceauthz.decision.allow == false with input as base
	not spaceauthz.allow with input as base
	count(spaceauthz.violations) > 0 with input as base
}

test_decision_allows[name] if {
	some name, facts in {
		"space ADMIN adds a MEMBER": allowed,
		"account ADMIN adds to a private space": replace(as_actor({"role": "ADMIN"}), {"space": private_space}),
		"organization ADMIN adds to a private space": replace(
			as_actor({"organization_role": predefined("ADMIN")}),
			{"space": private_space},
		),
		"space ADMIN adds an ADMIN": request({"role": predefined("ADMIN")}),
		"space ADMIN adds a READ_ONLY": request({"role": predefined("READ_ONLY")}),
		"space ADMIN grants a custom role": request({"role": custom(binder), "custom_role": binder}),
		"organization custom role with ROLE_BINDING_CREATE grants a custom role": replace(
			as_actor({"organization_role": held(binder)}),
			{"role": custom(reader), "custom_role": reader},
		),
		"space custom role with ROLE_BINDING_CREATE grants a custom role": replace(
			as_actor({"space_role": held(binder)}),
			{"space": private_space, "role": custom(reader), "custom_role": reader},
		),
		"existing membership is updated": request({"membership": {
			"id": "TWVtYmVyc2hpcDox",
			"user_id": target.id,
			"space_id": space.id,
			"role": predefined("READ_ONLY"),
		}}),
	}
	spaceauthz.decision == allow with input as facts
}

# Each case breaks one rule (or a rule and those that follow from it) and the
# decision names exactly the rules it breaks.
test_decision_denies[name] if {
	some name, [facts, violations] in {
		"actor null": [
			request({"actor": null}),
			{unauthenticated, space_not_found},
		],
		"space null": [
			request({"space": null}),
			{space_not_found},
		],
		"space of another account": [
			in_foreign_space(request({"actor": replace(actor, {"role": "ADMIN"})})),
			{space_not_found},
		],
		"private space, organization MEMBER": [
			replace(as_actor({"organization_role": predefined("MEMBER")}), {"space": private_space}),
			{space_not_found},
		],
		"predefined role, no role at all": [base, {space_not_found}],
		"predefined role, organization MEMBER": [
			as_actor({"organization_role": predefined("MEMBER")}),
			{not_space_admin},
		],
		"predefined role, space custom role with ROLE_BINDING_CREATE": [
			as_actor({"space_role": held(binder)}),
			{not_space_admin},
		],
		"custom role, organization MEMBER": [
			replace(as_actor({"organization_role": predefined("MEMBER")}), {"role": custom(binder), "custom_role": binder}),
			{no_role_binding_create},
		],
		"custom role, space READ_ONLY": [
			replace(as_actor({"space_role": predefined("READ_ONLY")}), {"role": custom(binder), "custom_role": binder}),
			{no_role_binding_create},
		],
		"custom role, organization custom role of another account": [
			replace(as_actor({"organization_role": held(foreign_binder)}), {"role": custom(binder), "custom_role": binder}),
			{no_role_binding_create},
		],
		"target null": [request({"target": null}), {user_not_found}],
		"target of another account": [for_target({"account_id": other_account_id}), {user_not_found}],
		"custom role null": [request({"role": custom(binder), "custom_role": null}), {role_not_found}],
		"custom role of another account": [
			request({"role": custom(foreign_binder), "custom_role": foreign_binder}),
			{role_not_found},
		],
		"target not in the organization": [for_target({"organization_role": null}), {user_not_in_organization}],
	}
	spaceauthz.decision == deny(violations) with input as facts
}

# A role the policy does not know is never allowed (fail closed): it needs a
# space admin, and then does not exist.
test_decision_denies_unknown_role[name] if {
	some name, role in {
		"no role": null,
		"empty role": {},
		"unknown type": {"type": "OTHER", "name": "ADMIN"},
		"lower-case spelling": {"type": "predefined", "name": "admin"},
		"unknown predefined name": predefined("OWNER"),
	}
	spaceauthz.decision == deny({role_not_found}) with input as request({"role": role})
	spaceauthz.decision == deny({not_space_admin, role_not_found}) with input as replace(
		as_actor({"organization_role": predefined("MEMBER")}),
		{"role": role},
	)
}
