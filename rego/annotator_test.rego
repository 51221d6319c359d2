# Tests of annotator.rego and the annotator pairing rules of decision.rego:
# an account ANNOTATOR takes exactly the predefined ANNOTATOR space role, and
# nobody else takes it.
package spaceauthz_test

import data.spaceauthz

annotator_role_required := violation("annotator_role_required", "annotator_role_required")

annotator_role_not_allowed := violation("annotator_role_not_allowed", "annotator_role_not_allowed")

# requested_annotator

test_requested_annotator if {
	spaceauthz.requested_annotator with input as request({"role": predefined("ANNOTATOR")})
}

test_not_requested_annotator[name] if {
	some name, role in {
		"predefined MEMBER": predefined("MEMBER"),
		"predefined ADMIN": predefined("ADMIN"),
		"predefined READ_ONLY": predefined("READ_ONLY"),
		"custom role": custom(binder),
		"custom role named ANNOTATOR": {"type": "CUSTOM", "id": binder.id, "name": "ANNOTATOR"},
		"lower-case annotator": {"type": "predefined", "name": "annotator"},
	}
	not spaceauthz.requested_annotator with input as request({"role": role})
}

# annotator_role_required

test_annotator_given_annotator_role_allowed if {
	facts := replace(for_target({"role": "ANNOTATOR"}), {"role": predefined("ANNOTATOR")})
	spaceauthz.decision == {"allow": true, "violations": set()} with input as facts
}

test_annotator_role_required[name] if {
	some name, facts in {
		"predefined MEMBER": for_target({"role": "ANNOTATOR"}),
		"predefined ADMIN": replace(for_target({"role": "ANNOTATOR"}), {"role": predefined("ADMIN")}),
		"predefined READ_ONLY": replace(for_target({"role": "ANNOTATOR"}), {"role": predefined("READ_ONLY")}),
		"custom role": replace(for_target({"role": "ANNOTATOR"}), {"role": custom(binder), "custom_role": binder}),
	}
	spaceauthz.decision == {"allow": false, "violations": {annotator_role_required}} with input as facts
}

# annotator_role_not_allowed

test_annotator_role_not_allowed[role] if {
	some role in ["MEMBER", "ADMIN"]
	facts := replace(for_target({"role": role}), {"role": predefined("ANNOTATOR")})
	spaceauthz.decision == {"allow": false, "violations": {annotator_role_not_allowed}} with input as facts
}

test_non_annotator_given_other_roles_allowed[name] if {
	some user_role in ["MEMBER", "ADMIN"]
	some role in ["ADMIN", "MEMBER", "READ_ONLY"]
	name := sprintf("%s given %s", [user_role, role])
	facts := replace(for_target({"role": user_role}), {"role": predefined(role)})
	spaceauthz.decision == {"allow": true, "violations": set()} with input as facts
}

# Without a target there is no pairing to judge (user_not_found decides).
test_no_annotator_rule_without_target if {
	facts := request({"target": null, "role": predefined("ANNOTATOR")})
	not annotator_role_required in spaceauthz.violations with input as facts
	not annotator_role_not_allowed in spaceauthz.violations with input as facts
}
