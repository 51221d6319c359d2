# The decision document of AddUserToSpace.
#
# The engine evaluates data.spaceauthz.decision once per request. input is the
# facts document (see package policy); the answer is
#
#   {"allow": <bool>, "violations": [{"code": <error_code>, "rule": <name>}, ...]}
#
# Every rule that the facts break adds one violation; the Go side answers with
# the one that comes first in the check order of SPEC section 3. A host adds
# its own rules by adding modules to this package that contribute to
# violations (optionally with "status" and "detail").
package spaceauthz

decision := {"allow": allow, "violations": violations}

default allow := false

allow if count(violations) == 0

# violation builds the object every rule adds to violations.
violation(code, rule) := {"code": code, "rule": rule}

violations contains violation("unauthenticated", "actor_exists") if not actor_exists

violations contains violation("space_not_found", "space_visible") if not can_read_space

# Anything but a custom role needs a space admin: a predefined role, and also
# a role the policy does not know (fail closed; role_exists then refuses it).
violations contains violation("forbidden", "space_admin") if {
	not requested_custom
	not is_space_admin
}

violations contains violation("forbidden", "role_binding_create") if {
	requested_custom
	not has_permission("ROLE_BINDING_CREATE")
}

violations contains violation("user_not_found", "user_exists") if not target_in_account

violations contains violation("role_not_found", "role_exists") if {
	requested_custom
	not custom_role_in_account
}

# A role that is neither custom nor a predefined role of the table (missing,
# misspelt, unknown name) does not exist: never an allow.
violations contains violation("role_not_found", "role_exists") if {
	not requested_custom
	not predefined_role_exists
}

violations contains violation("user_not_in_organization", "user_in_organization") if {
	target_in_account
	not target_in_organization
}

violations contains violation("annotator_role_required", "annotator_role_required") if {
	input.target.role == "ANNOTATOR"
	not requested_annotator
}

violations contains violation("annotator_role_not_allowed", "annotator_role_not_allowed") if {
	input.target.role != "ANNOTATOR"
	requested_annotator
}
