# Tests of a read of the audit log (decision.rego): the account's log is for
# its admins alone, decided on the actor's record with neither a space nor
# an organization.
package spaceauthz_test

import data.spaceauthz

audit_base := {
	"operation": "audit",
	"actor": actor,
	"organization": null,
	"space": null,
	"target": null,
	"role": null,
	"custom_role": null,
	"membership": null,
}

audit_as_actor(fields) := replace(audit_base, {"actor": replace(actor, fields)})

not_account_admin := violation("forbidden", "account_admin")

test_audit_allows_an_account_admin if {
	spaceauthz.decision == allow with input as audit_as_actor({"role": "ADMIN"})
}

test_audit_denies[name] if {
	some name, [facts, violations] in {
		"account MEMBER": [audit_base, {not_account_admin}],
		"account ANNOTATOR": [audit_as_actor({"role": "ANNOTATOR"}), {not_account_admin}],
		"lower-case admin": [audit_as_actor({"role": "admin"}), {not_account_admin}],
		"organization ADMIN": [audit_as_actor({"organization_role": predefined("ADMIN")}), {not_account_admin}],
		"space ADMIN": [audit_as_actor({"space_role": predefined("ADMIN")}), {not_account_admin}],
		"custom role with every permission": [
			audit_as_actor({"organization_role": held(binder), "space_role": held(remover)}),
			{not_account_admin},
		],
		"no actor": [replace(audit_base, {"actor": null}), {unauthenticated, not_account_admin}],
		"actor without account": [audit_as_actor({"account_id": null, "role": "ADMIN"}), {unauthenticated, not_account_admin}],
	}
	spaceauthz.decision == deny(violations) with input as facts
}

# An admin of the account reading the log is not asked about a space or an
# organization: a space or organization in the input changes nothing.
test_audit_ignores_a_space if {
	facts := replace(audit_as_actor({"role": "ADMIN"}), {"space": foreign_space, "organization": foreign_organization})
	spaceauthz.decision == allow with input as facts
}

test_audit_is_a_known_operation if {
	"audit" in spaceauthz.operations
	spaceauthz.on_account with input as audit_base
	not spaceauthz.on_account with input as base
}
