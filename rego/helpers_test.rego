# Shared fixtures of the Rego tests (no tests here).
#
# One account holds an organization with a public space, an actor and a target
# user; a second account holds records that must never count. Tests start
# from `base` (the actor holds no role at all) or from `allowed` (every check
# passes) and replace a field or two.
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

violation(code, rule) := {"code": code, "rule": rule}
