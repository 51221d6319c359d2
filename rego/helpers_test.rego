# Shared fixtures of the Rego tests (no tests here).
#
# One account holds an organization with a public space, an actor and a target
# user; a second account holds records that must never count. Tests of an add
# start from `base` (the actor holds no role at all) or from `allowed` (every
# check passes) and replace a field or two; tests of a remove start from
# `remove_base` or `remove_allowed`, tests of a list from `list_base` or
# `list_allowed`.
package spaceauthz_test

account_id := "QWNjb3VudDox" # Account:1

other_account_id := "QWNjb3VudDoy" # Account:2

# predefined(name) is a predefined role, as requested or as held.
predefined(name) := {"type": "PREDEFINED", "name": name}

# custom(role) is a request for the custom role record role.
custom(role) := {"type": "CUSTOM", "id": role.id}

# held(role) is the custom role record role as someone holds it (a grant).
held(role) := {"type": "CUSTOM", "id": role.id, "custom_role": role}

role_binding_permissions := ["ROLE_BINDING_CREATE", "ROLE_BINDING_DELETE", "ROLE_BINDING_READ"]

binder := {
	"id": "Um9sZTox",
	"account_id": account_id,
	"name": "Binder",
	"permissions": ["ROLE_BINDING_CREATE"],
}

reader := {
	"id": "Um9sZToy",
	"account_id": account_id,
	"name": "Reader",
	"permissions": ["PROJECT_READ", "ROLE_BINDING_READ"],
}

# remover grants ROLE_BINDING_DELETE and nothing else.
remover := {
	"id": "Um9sZTo0",
	"account_id": account_id,
	"name": "Remover",
	"permissions": ["ROLE_BINDING_DELETE"],
}

# foreign_remover lies in the other account: it grants nothing here.
foreign_remover := {
	"id": "Um9sZTo1",
	"account_id": other_account_id,
	"name": "Remover",
	"permissions": ["ROLE_BINDING_DELETE"],
}

# foreign_binder lies in the other account: it grants nothing here.
foreign_binder := {
	"id": "Um9sZToz",
	"account_id": other_account_id,
	"name": "Binder",
	"permissions": ["ROLE_BINDING_CREATE"],
}

organization := {"id": "T3JnOjE=", "account_id": account_id, "name": "Research"}

foreign_organization := {"id": "T3JnOjI=", "account_id": other_account_id, "name": "Elsewhere"}

space := {
	"id": "U3BhY2U6MQ==",
	"organization_id": organization.id,
	"name": "llm-evals",
	"is_private": false,
}

private_space := replace(space, {"is_private": true})

foreign_space := {
	"id": "U3BhY2U6Mg==",
	"organization_id": foreign_organization.id,
	"name": "theirs",
	"is_private": false,
}

# actor is an account MEMBER with no role in the organization or the space.
actor := {
	"id": "VXNlcjox",
	"account_id": account_id,
	"name": "Ada",
	"email": "ada@example.com",
	"role": "MEMBER",
	"organization_role": null,
	"space_role": null,
}

# target is an account MEMBER and a MEMBER of the organization.
target := {
	"id": "VXNlcjoy",
	"account_id": account_id,
	"name": "Bob",
	"email": "bob@example.com",
	"role": "MEMBER",
	"organization_role": predefined("MEMBER"),
}

# base: actor asks to give target the predefined MEMBER role in the public
# space while holding no role at all (so cannot even read the space).
base := {
	"operation": "add",
	"actor": actor,
	"organization": organization,
	"space": space,
	"target": target,
	"role": predefined("MEMBER"),
	"custom_role": null,
	"membership": null,
}

# allowed: base with the actor a predefined ADMIN of the space. Every check
# passes.
allowed := replace(base, {"actor": replace(actor, {"space_role": predefined("ADMIN")})})

# replace(obj, fields) is obj with the top-level fields replaced (not merged,
# unlike object.union, so a grant or role is swapped whole).
replace(obj, fields) := object.union(object.remove(obj, object.keys(fields)), fields)

# as_actor(fields): base with some fields of the actor replaced.
as_actor(fields) := replace(base, {"actor": replace(actor, fields)})

# request(fields): allowed with some top-level fields replaced.
request(fields) := replace(allowed, fields)

# for_target(fields): allowed with some fields of the target replaced.
for_target(fields) := replace(allowed, {"target": replace(target, fields)})

# in_foreign_space(facts): facts moved to the other account's space.
in_foreign_space(facts) := replace(facts, {"space": foreign_space, "organization": foreign_organization})

# membership_of(role): the target's current membership of the space, with role.
membership_of(role) := {
	"id": "TWVtYmVyc2hpcDox", # Membership:1
	"user_id": target.id,
	"space_id": space.id,
	"role": role,
}

# remove_base: actor asks to remove target, a MEMBER of the public space,
# while holding no role at all (so cannot even read the space). Nothing is
# requested: role and custom_role are null.
remove_base := replace(base, {
	"operation": "remove",
	"role": null,
	"custom_role": null,
	"membership": membership_of(predefined("MEMBER")),
})

# remove_allowed: remove_base with the actor a predefined ADMIN of the space.
# Every check passes.
remove_allowed := replace(remove_base, {"actor": allowed.actor})

# remove_as_actor(fields): remove_base with some fields of the actor replaced.
remove_as_actor(fields) := replace(remove_base, {"actor": replace(actor, fields)})

# remove_request(fields): remove_allowed with some top-level fields replaced.
remove_request(fields) := replace(remove_allowed, fields)

# list_base: actor asks for the members of the public space while holding no
# role at all. A list is about no user and no role: target, role,
# custom_role and membership are null.
list_base := replace(base, {
	"operation": "list",
	"target": null,
	"role": null,
	"custom_role": null,
	"membership": null,
})

# list_allowed: list_base with the actor a MEMBER of the organization, which
# reads the public space.
list_allowed := list_as_actor({"organization_role": predefined("MEMBER")})

# list_as_actor(fields): list_base with some fields of the actor replaced.
list_as_actor(fields) := replace(list_base, {"actor": replace(actor, fields)})

violation(code, rule) := {"code": code, "rule": rule}

# The violations of decision.rego, by rule.

allow := {"allow": true, "violations": set()}

# deny(violations) is the decision that refuses with exactly these violations.
deny(violations) := {"allow": false, "violations": violations}

unauthenticated := violation("unauthenticated", "actor_exists")

space_not_found := violation("space_not_found", "space_visible")

unknown_operation := violation("forbidden", "known_operation")

admin_membership := violation("forbidden", "admin_membership")

not_space_admin := violation("forbidden", "space_admin")

no_role_binding_create := violation("forbidden", "role_binding_create")

no_role_binding_delete := violation("forbidden", "role_binding_delete")

user_not_found := violation("user_not_found", "user_exists")

membership_not_found := violation("membership_not_found", "membership_exists")

role_not_found := violation("role_not_found", "role_exists")

user_not_in_organization := violation("user_not_in_organization", "user_in_organization")

organization_not_found := violation("organization_not_found", "organization_visible")

not_organization_admin := violation("forbidden", "organization_admin")

# org_add_base: actor asks to give target the predefined MEMBER role in the
# organization while holding no role at all (so cannot even see it). An
# organization operation has no space and no space membership; the roles in
# actor and target are their roles in the organization itself.
org_add_base := {
	"operation": "org_add",
	"actor": object.remove(actor, ["space_role"]),
	"organization": organization,
	"space": null,
	"target": target,
	"role": predefined("MEMBER"),
	"custom_role": null,
	"membership": null,
}

# org_add_allowed: org_add_base with the actor a predefined ADMIN of the
# organization. Every check passes.
org_add_allowed := org_add_as_actor({"organization_role": predefined("ADMIN")})

# org_add_as_actor(fields): org_add_base with some fields of the actor
# replaced.
org_add_as_actor(fields) := replace(org_add_base, {"actor": replace(org_add_base.actor, fields)})

# org_add_request(fields): org_add_allowed with some top-level fields
# replaced.
org_add_request(fields) := replace(org_add_allowed, fields)

# org_add_for_target(fields): org_add_allowed with some fields of the target
# replaced.
org_add_for_target(fields) := replace(org_add_allowed, {"target": replace(target, fields)})

# org_remove_base: actor asks to remove target, a MEMBER of the
# organization, while holding no role at all. Nothing is requested.
org_remove_base := replace(org_add_base, {"operation": "org_remove", "role": null})

# org_remove_allowed: org_remove_base with the actor a predefined ADMIN of
# the organization. Every check passes.
org_remove_allowed := replace(org_remove_base, {"actor": org_add_allowed.actor})

# org_remove_as_actor(fields): org_remove_base with some fields of the actor
# replaced.
org_remove_as_actor(fields) := replace(org_remove_base, {"actor": replace(org_remove_base.actor, fields)})

# org_remove_request(fields): org_remove_allowed with some top-level fields
# replaced.
org_remove_request(fields) := replace(org_remove_allowed, fields)

# org_remove_for_target(fields): org_remove_allowed with some fields of the
# target replaced.
org_remove_for_target(fields) := replace(org_remove_allowed, {"target": replace(target, fields)})
