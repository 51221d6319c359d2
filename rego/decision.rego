# The decision document of every operation on space and organization
# memberships: add a user to a space, remove one, list a space's members,
# add a user to an organization, remove one; and of reading a space.
#
# The engine evaluates data.spaceauthz.decision once per request. input is the
# facts document (see package policy), with input.operation naming the
# operation ("add", "remove", "list", "org_add", "org_remove", "read" or
# "audit"); the answer is
#
#   {"allow": <bool>, "violations": [{"code": <error_code>, "rule": <name>}, ...]}
#
# Every rule that the facts break adds one violation; the Go side answers with
# the one that comes first in the check order of the operation (a caller who
# cannot read the space learns nothing else, one without authority learns
# nothing about users, roles or memberships). So a rule may fire alongside
# one that comes before it, and each rule stays simple and independent. A
# host adds its own rules by adding modules to this package that contribute
# to violations (optionally with "status" and "detail").
package spaceauthz

decision := {"allow": allow, "violations": violations}

default allow := false

allow if count(violations) == 0

# violation builds the object every rule adds to violations.
violation(code, rule) := {"code": code, "rule": rule}

# Every operation.

violations contains violation("unauthenticated", "actor_exists") if not actor_exists

# An organization operation has no space, nor has a read of the account's
# audit log: space_visible is for every other operation, an unknown one
# included (it then answers as for a space the caller cannot read).
violations contains violation("space_not_found", "space_visible") if {
	not on_organization
	not on_account
	not can_read_space
}

# Fail closed: a missing or unknown operation is refused, since no rule
# below would apply to it.
violations contains violation("forbidden", "known_operation") if not known_operation

# add and remove: both change the target's membership of the space.

# Only a space admin changes a space admin's membership: without this, a
# user holding only ROLE_BINDING_CREATE (or ROLE_BINDING_DELETE) could give
# a space ADMIN a custom role (or remove them) and so strip the space of its
# admin.
violations contains violation("forbidden", "admin_membership") if {
	changes_membership
	membership_is_admin
	not is_space_admin
}

violations contains violation("user_not_found", "user_exists") if {
	changes_membership
	not target_in_account
}

# add: give the target a role in the space.

# Anything but a custom role needs a space admin: a predefined role, and also
# a role the policy does not know (fail closed; role_exists then refuses it).
violations contains violation("forbidden", "space_admin") if {
	adding
	not requested_custom
	not is_space_admin
}

violations contains violation("forbidden", "role_binding_create") if {
	adding
	requested_custom
	not has_permission("ROLE_BINDING_CREATE")
}

violations contains violation("role_not_found", "role_exists") if {
	adding
	requested_custom
	not custom_role_in_account
}

# A role that is neither custom nor a predefined role of the table (missing,
# misspelt, unknown name) does not exist: never an allow.
violations contains violation("role_not_found", "role_exists") if {
	adding
	not requested_custom
	not predefined_role_exists
}

# Adding never enrols anyone in the space's organization.
violations contains violation("user_not_in_organization", "user_in_organization") if {
	adding
	target_in_account
	not target_in_organization
}

violations contains violation("annotator_role_required", "annotator_role_required") if {
	adding
	input.target.role == "ANNOTATOR"
	not requested_annotator
}

violations contains violation("annotator_role_not_allowed", "annotator_role_not_allowed") if {
	adding
	input.target.role != "ANNOTATOR"
	requested_annotator
}

# remove: take the target's membership of the space away. The target need not
# be in the organization any more, and their role in it does not matter.

# A space admin removes anyone; otherwise the actor needs ROLE_BINDING_DELETE
# on the space (and admin_membership keeps space admins out of reach).
violations contains violation("forbidden", "role_binding_delete") if {
	removing
	not is_space_admin
	not has_permission("ROLE_BINDING_DELETE")
}

violations contains violation("membership_not_found", "membership_exists") if {
	removing
	not target_is_member
}

# list and read: reading the space (space_visible) is all it takes.

# audit: the account's audit log, who changed which membership and when, is
# for the account's admins alone. An organization or space admin sees their
# own changes in the memberships themselves.
violations contains violation("forbidden", "account_admin") if {
	input.operation == "audit"
	not is_account_admin
}

# org_add and org_remove: the same kind of membership one level up, decided
# on the organization alone (there is no space).

violations contains violation("organization_not_found", "organization_visible") if {
	on_organization
	not can_see_organization
}

# Organization admin for any role, predefined or custom: no permission lets
# anyone else change who belongs to an organization.
violations contains violation("forbidden", "organization_admin") if {
	changes_organization_membership
	not is_organization_admin
}

violations contains violation("user_not_found", "user_exists") if {
	changes_organization_membership
	not target_in_account
}

# org_add: give the target a role in the organization.

violations contains violation("role_not_found", "role_exists") if {
	org_adding
	requested_custom
	not custom_role_in_account
}

# As for an add: a role that is neither custom nor in the table is refused.
violations contains violation("role_not_found", "role_exists") if {
	org_adding
	not requested_custom
	not predefined_role_exists
}

violations contains violation("annotator_role_required", "annotator_role_required") if {
	org_adding
	input.target.role == "ANNOTATOR"
	not requested_annotator
}

violations contains violation("annotator_role_not_allowed", "annotator_role_not_allowed") if {
	org_adding
	input.target.role != "ANNOTATOR"
	requested_annotator
}

# org_remove: take the target's membership of the organization away.

violations contains violation("membership_not_found", "membership_exists") if {
	org_removing
	not target_is_organization_member
}
