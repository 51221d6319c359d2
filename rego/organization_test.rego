# Tests of organization.rego: the target must already belong to the space's
# parent organization.
package spaceauthz_test

import data.spaceauthz

test_target_in_organization[name] if {
	some name, role in {
		"predefined MEMBER": predefined("MEMBER"),
		"predefined ADMIN": predefined("ADMIN"),
		"predefined READ_ONLY": predefined("READ_ONLY"),
		"custom role": held(reader),
	}
	spaceauthz.target_in_organization with input as for_target({"organization_role": role})
}

test_target_not_in_organization[name] if {
	some name, facts in {
		"no organization role": for_target({"organization_role": null}),
		"foreign space": in_foreign_space(allowed),
		"space null": request({"space": null}),
		"target null": request({"target": null}),
	}
	not spaceauthz.target_in_organization with input as facts
}

# The decision: a target outside the organization is refused, never enrolled.

test_user_not_in_organization_denied if {
	facts := for_target({"organization_role": null})
	spaceauthz.decision == {
		"allow": false,
		"violations": {violation("user_not_in_organization", "user_in_organization")},
	} with input as facts
}

test_user_in_organization_passes if {
	not violation("user_not_in_organization", "user_in_organization") in spaceauthz.violations with input as allowed
}

# Whether a user is in the organization is only asked of a user of the
# account: an unknown user is user_not_found alone.
test_user_in_organization_needs_a_user_of_the_account if {
	not violation("user_not_in_organization", "user_in_organization") in spaceauthz.violations
		with input as for_target({"account_id": other_account_id, "organization_role": null})
}
