# Rego tests that are wrong on purpose: policytest proves that RunRegoTests
# fails on them, and where.
package failing_test

import data.spaceauthz

member_adds := {
	"operation": "add",
	"actor": {
		"id": "VXNlcjox", "account_id": "QWNjb3VudDox", "name": "Ada", "email": "ada@example.com", "role": "MEMBER",
		"organization_role": {"type": "PREDEFINED", "name": "MEMBER"},
		"space_role": {"type": "PREDEFINED", "name": "MEMBER"},
	},
	"space": {"id": "U3BhY2U6MQ==", "organization_id": "T3JnOjE=", "name": "llm-evals", "is_private": false},
	"organization": {"id": "T3JnOjE=", "account_id": "QWNjb3VudDox", "name": "Research"},
	"target": {
		"id": "VXNlcjoy", "account_id": "QWNjb3VudDox", "name": "Grace", "email": "grace@example.com", "role": "MEMBER",
		"organization_role": {"type": "PREDEFINED", "name": "MEMBER"},
	},
	"role": {"type": "PREDEFINED", "name": "MEMBER"},
	"custom_role": null,
	"membership": null,
}

test_passes if {
	spaceauthz.decision.allow == false with input as member_adds
}

# Wrong: a space MEMBER may not add anyone.
test_space_member_adds if {
	violations := spaceauthz.violations with input as member_adds
	print("violations:", violations)
	spaceauthz.decision.allow with input as member_adds
}

# Wrong in one case: READ_ONLY holds no permission either.
test_space_admin_by_role[role] if {
	some role, admin in {"ADMIN": true, "READ_ONLY": true}
	facts := object.union(member_adds, {"actor": {"space_role": {"type": "PREDEFINED", "name": role}}})
	admin == spaceauthz.decision.allow with input as facts
}

# Not written yet: skipped, neither passed nor failed.
todo_test_archived_space if false
