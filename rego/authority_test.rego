# Tests of authority.rego: space admin and permissions on the space.
package spaceauthz_test

import data.spaceauthz

# is_predefined, requested_predefined, requested_custom

test_is_predefined if {
	spaceauthz.is_predefined(predefined("ADMIN"), "ADMIN")
	not spaceauthz.is_predefined(predefined("MEMBER"), "ADMIN")
	not spaceauthz.is_predefined({"type": "CUSTOM", "id": "QURNSU4=", "name": "ADMIN"}, "ADMIN")
	not spaceauthz.is_predefined(null, "ADMIN")
}

test_requested_predefined if {
	spaceauthz.requested_predefined with input as allowed
	not spaceauthz.requested_custom with input as allowed
}

test_requested_custom if {
	spaceauthz.requested_custom with input as request({"role": custom(binder)})
	not spaceauthz.requested_predefined with input as request({"role": custom(binder)})
}

# predefined_role_exists: the table in data.json knows the requested name.

test_predefined_role_exists[name] if {
	some name in ["ADMIN", "MEMBER", "READ_ONLY", "ANNOTATOR"]
	spaceauthz.predefined_role_exists with input as request({"role": predefined(name)})
}

test_predefined_role_not_exists[name] if {
	some name, role in {
		"unknown name": predefined("OWNER"),
		"lower-case spelling": {"type": "predefined", "name": "admin"},
		"custom role": custom(binder),
		"no role": null,
	}
	not spaceauthz.predefined_role_exists with input as request({"role": role})
}

# is_space_admin: an account ADMIN, a predefined ADMIN of the organization, a
# predefined ADMIN of the space, and nobody else.

test_space_admin_via_account_admin if {
	spaceauthz.is_space_admin with input as as_actor({"role": "ADMIN"})
}

test_space_admin_via_organization_admin if {
	spaceauthz.is_space_admin with input as as_actor({"organization_role": predefined("ADMIN")})
}

test_space_admin_via_space_admin if {
	spaceauthz.is_space_admin with input as as_actor({"space_role": predefined("ADMIN")})
}

test_not_space_admin_via_predefined_role[name] if {
	some role in ["MEMBER", "READ_ONLY", "ANNOTATOR"]
	some level in ["organization_role", "space_role"]
	name := sprintf("%s %s", [level, role])
	not spaceauthz.is_space_admin with input as as_actor({level: predefined(role)})
}

test_not_space_admin[name] if {
	some name, facts in {
		"account MEMBER, no role": base,
		"account ANNOTATOR, no role": as_actor({"role": "ANNOTATOR"}),
		"organization custom role with ROLE_BINDING_CREATE": as_actor({"organization_role": held(binder)}),
		"space custom role with ROLE_BINDING_CREATE": as_actor({"space_role": held(binder)}),
		"custom role named ADMIN": as_actor({"space_role": held(replace(binder, {"name": "ADMIN"}))}),
		"account ADMIN, foreign space": in_foreign_space(as_actor({"role": "ADMIN"})),
		"organization ADMIN, foreign space": in_foreign_space(as_actor({"organization_role": predefined("ADMIN")})),
		"space ADMIN, foreign space": in_foreign_space(as_actor({"space_role": predefined("ADMIN")})),
		"actor null": request({"actor": null}),
	}
	not spaceauthz.is_space_admin with input as facts
}

# has_permission: ROLE_BINDING_CREATE and the other ROLE_BINDING_* permissions.

test_role_binding_create_via_account_admin if {
	spaceauthz.has_permission("ROLE_BINDING_CREATE") with input as as_actor({"role": "ADMIN"})
}

test_account_admin_holds_every_permission if {
	every p in array.concat(role_binding_permissions, ["PROJECT_READ"]) {
		spaceauthz.has_permission(p) with input as as_actor({"role": "ADMIN"})
	}
}

# The predefined ADMIN role holds every permission (data.json), at either
# level, the ROLE_BINDING_* ones among them.
test_predefined_admin_holds_permission[name] if {
	some level in ["organization_role", "space_role"]
	some p in array.concat(role_binding_permissions, ["PROJECT_READ"])
	name := sprintf("%s ADMIN holds %s", [level, p])
	spaceauthz.has_permission(p) with input as as_actor({level: predefined("ADMIN")})
}

test_predefined_role_lacks_role_binding_permission[name] if {
	some role in ["MEMBER", "READ_ONLY", "ANNOTATOR"]
	some level in ["organization_role", "space_role"]
	some p in role_binding_permissions
	name := sprintf("%s %s lacks %s", [level, role, p])
	not spaceauthz.has_permission(p) with input as as_actor({level: predefined(role)})
}

# Predefined roles take their permissions from the table, not from the code.
test_predefined_permissions_come_from_the_table if {
	table := {
		"ADMIN": {"all_permissions": false, "permissions": []},
		"MEMBER": {"all_permissions": false, "permissions": ["ROLE_BINDING_CREATE"]},
	}
	spaceauthz.has_permission("ROLE_BINDING_CREATE") with input as as_actor({"space_role": predefined("MEMBER")})
		with data.spaceauthz.predefined_roles as table
	not spaceauthz.has_permission("ROLE_BINDING_DELETE") with input as as_actor({"space_role": predefined("MEMBER")})
		with data.spaceauthz.predefined_roles as table
	not spaceauthz.has_permission("ROLE_BINDING_CREATE") with input as as_actor({"space_role": predefined("ADMIN")})
		with data.spaceauthz.predefined_roles as table
}

test_unknown_predefined_role_holds_nothing if {
	not spaceauthz.has_permission("ROLE_BINDING_CREATE") with input as as_actor({"space_role": predefined("OWNER")})
}

test_custom_role_permission_on_organization if {
	spaceauthz.has_permission("ROLE_BINDING_CREATE") with input as as_actor({"organization_role": held(binder)})
}

test_custom_role_permission_on_space if {
	spaceauthz.has_permission("ROLE_BINDING_CREATE") with input as as_actor({"space_role": held(binder)})
}

# Permissions are the union over the organization and space roles.
test_permissions_are_the_union_of_both_levels if {
	facts := as_actor({"organization_role": held(reader), "space_role": held(binder)})
	spaceauthz.has_permission("ROLE_BINDING_CREATE") with input as facts
	spaceauthz.has_permission("ROLE_BINDING_READ") with input as facts
	spaceauthz.has_permission("PROJECT_READ") with input as facts
	not spaceauthz.has_permission("ROLE_BINDING_DELETE") with input as facts
}

test_custom_role_grants_only_its_permissions[name] if {
	some level in ["organization_role", "space_role"]
	some p in ["ROLE_BINDING_CREATE", "ROLE_BINDING_DELETE"]
	name := sprintf("%s Reader lacks %s", [level, p])
	not spaceauthz.has_permission(p) with input as as_actor({level: held(reader)})
}

# ROLE_BINDING_DELETE, which a remove needs, comes the same ways.
test_role_binding_delete_via_custom_role[level] if {
	some level in ["organization_role", "space_role"]
	facts := as_actor({level: held(remover)})
	spaceauthz.has_permission("ROLE_BINDING_DELETE") with input as facts
	not spaceauthz.has_permission("ROLE_BINDING_CREATE") with input as facts
}

test_role_binding_delete_not_granted[name] if {
	some name, facts in {
		"organization custom role of another account": as_actor({"organization_role": held(foreign_remover)}),
		"space custom role of another account": as_actor({"space_role": held(foreign_remover)}),
		"organization custom role with ROLE_BINDING_CREATE": as_actor({"organization_role": held(binder)}),
		"custom role, foreign space": in_foreign_space(as_actor({"space_role": held(remover)})),
	}
	not spaceauthz.has_permission("ROLE_BINDING_DELETE") with input as facts
}

test_custom_role_grants_nothing[name] if {
	some name, facts in {
		"organization custom role of another account": as_actor({"organization_role": held(foreign_binder)}),
		"space custom role of another account": as_actor({"space_role": held(foreign_binder)}),
		"custom role not found": as_actor({"space_role": {"type": "CUSTOM", "id": binder.id, "custom_role": null}}),
		"custom role record with another id": as_actor({"space_role": {"type": "CUSTOM", "id": reader.id, "custom_role": binder}}),
		"custom role, foreign space": in_foreign_space(as_actor({"space_role": held(binder)})),
		"no role": base,
		"actor null": request({"actor": null}),
	}
	not spaceauthz.has_permission("ROLE_BINDING_CREATE") with input as facts
}
