# Tests of archived.rego, run against the whole policy (the default policy
# and this bundle) before the server uses it, at start and at every reload.
#
# Each test says which spaces are archived (with data.archived.spaces as ...)
# rather than reading archived/data.json, so that archiving a space or
# bringing one back is a data edit that never breaks a test.
package spaceauthz_test

import data.spaceauthz

account_id := "QWNjb3VudDox" # Account:1

research := {"id": "T3JnOjE=", "account_id": account_id, "name": "Research"}

llm_evals := {"id": "U3BhY2U6MQ==", "organization_id": research.id, "name": "llm-evals", "is_private": false}

red_team := {"id": "U3BhY2U6Mg==", "organization_id": research.id, "name": "red-team", "is_private": true}

archived := [llm_evals.id]

predefined(name) := {"type": "PREDEFINED", "name": name}

# Ada, an account ADMIN: every check of the default policy lets her through,
# so whatever refuses her here is the rule under test.
ada := {
	"id": "VXNlcjox",
	"account_id": account_id,
	"name": "Ada",
	"email": "ada@example.com",
	"role": "ADMIN",
	"organization_role": null,
	"space_role": null,
}

# Grace, a MEMBER of the organization and of no space.
grace := {
	"id": "VXNlcjoy",
	"account_id": account_id,
	"name": "Grace",
	"email": "grace@example.com",
	"role": "MEMBER",
	"organization_role": predefined("MEMBER"),
}

# grace_member_of(space) is Grace's membership of space, as a MEMBER.
grace_member_of(space) := {
	"id": "TWVtYmVyc2hpcDox",
	"user_id": grace.id,
	"space_id": space.id,
	"role": predefined("MEMBER"),
}

# add(space, role, membership) is Ada giving Grace role in space, where
# Grace holds membership now (null for none).
add(space, role, membership) := {
	"operation": "add",
	"actor": ada,
	"organization": research,
	"space": space,
	"target": grace,
	"role": role,
	"custom_role": null,
	"membership": membership,
}

space_archived := {
	"code": "space_archived",
	"rule": "space_archived",
	"status": 409,
	"detail": "the space is archived: it takes no new members",
}

allowed := {"allow": true, "violations": set()}

test_add_of_a_new_member_to_an_archived_space_refused if {
	decision := spaceauthz.decision with input as add(llm_evals, predefined("MEMBER"), null)
		with data.archived.spaces as archived
	decision == {"allow": false, "violations": {space_archived}}
}

test_add_of_a_new_member_to_another_space_allowed if {
	spaceauthz.decision == allowed with input as add(red_team, predefined("MEMBER"), null)
		with data.archived.spaces as archived
}

test_add_allowed_when_no_space_is_archived if {
	spaceauthz.decision == allowed with input as add(llm_evals, predefined("MEMBER"), null)
		with data.archived.spaces as []
}

test_role_change_of_a_member_of_an_archived_space_allowed if {
	spaceauthz.decision == allowed with input as add(llm_evals, predefined("READ_ONLY"), grace_member_of(llm_evals))
		with data.archived.spaces as archived
}

test_remove_from_an_archived_space_allowed if {
	facts := object.union(add(llm_evals, null, grace_member_of(llm_evals)), {"operation": "remove"})
	spaceauthz.decision == allowed with input as facts with data.archived.spaces as archived
}

test_list_of_an_archived_space_allowed if {
	facts := object.union(add(llm_evals, null, null), {"operation": "list", "target": null})
	spaceauthz.decision == allowed with input as facts with data.archived.spaces as archived
}

# A caller who may not add to the space breaks a rule of the library too;
# the server answers with the library's code (403 forbidden), since a host's
# code ranks after every code of the library.
test_archived_fires_beside_the_library_codes if {
	not_admin := object.union(ada, {"role": "MEMBER", "organization_role": predefined("MEMBER")})
	facts := object.union(add(llm_evals, predefined("MEMBER"), null), {"actor": not_admin})
	decision := spaceauthz.decision with input as facts with data.archived.spaces as archived
	{"code": "forbidden", "rule": "space_admin"} in decision.violations
	space_archived in decision.violations
}

# A caller who cannot read the space (no role in its organization, no
# membership) gets space_not_found and nothing else: the rule does not tell
# whether the space is archived.
test_a_caller_who_cannot_read_the_space_learns_nothing_of_archiving if {
	outsider := object.union(ada, {"role": "MEMBER"})
	facts := object.union(add(llm_evals, predefined("MEMBER"), null), {"actor": outsider})
	decision := spaceauthz.decision with input as facts with data.archived.spaces as archived
	decision == {"allow": false, "violations": {{"code": "space_not_found", "rule": "space_visible"}}}
}
