package archived_test

import data.spaceauthz

archived_space := "U3BhY2U6MQ==" # Space:1

open_space := "U3BhY2U6Mg==" # Space:2

# add_to(space_id) is an add the default policy allows: a space ADMIN gives
# a member of the organization the MEMBER role.
add_to(space_id) := {
	"operation": "add",
	"actor": {
		"id": "VXNlcjox", "account_id": "QWNjb3VudDox", "name": "Ada", "email": "ada@example.com", "role": "MEMBER",
		"organization_role": {"type": "PREDEFINED", "name": "MEMBER"},
		"space_role": {"type": "PREDEFINED", "name": "ADMIN"},
	},
	"space": {"id": space_id, "organization_id": "T3JnOjE=", "name": "llm-evals", "is_private": false},
	"organization": {"id": "T3JnOjE=", "account_id": "QWNjb3VudDox", "name": "Research"},
	"target": {
		"id": "VXNlcjoy", "account_id": "QWNjb3VudDox", "name": "Grace", "email": "grace@example.com", "role": "MEMBER",
		"organization_role": {"type": "PREDEFINED", "name": "MEMBER"},
	},
	"role": {"type": "PREDEFINED", "name": "MEMBER"},
	"custom_role": null,
	"membership": null,
}

archived := {
	"code": "space_archived",
	"rule": "no_archived_space",
	"status": 409,
	"detail": "the space is archived",
}

test_add_to_an_archived_space_denied if {
	spaceauthz.decision == {"allow": false, "violations": {archived}} with input as add_to(archived_space)
}

test_add_to_an_open_space_allowed if {
	spaceauthz.decision.allow with input as add_to(open_space)
}

test_only_adds_are_refused[operation] if {
	some operation in ["remove", "list"]
	not archived in spaceauthz.violations with input as object.union(add_to(archived_space), {"operation": operation})
}
