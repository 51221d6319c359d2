# Tests of operation.rego and the known_operation rule of decision.rego: each
# operation selects its own rules, and an operation the policy does not know
# is refused whatever the facts.
package spaceauthz_test

import data.spaceauthz

# adding, removing, listing: each holds for its own operation only.

test_adding if {
	spaceauthz.adding with input as allowed
	not spaceauthz.removing with input as allowed
	not spaceauthz.listing with input as allowed
}

test_removing if {
	spaceauthz.removing with input as remove_allowed
	not spaceauthz.adding with input as remove_allowed
	not spaceauthz.listing with input as remove_allowed
}

test_listing if {
	spaceauthz.listing with input as list_allowed
	not spaceauthz.adding with input as list_allowed
	not spaceauthz.removing with input as list_allowed
}

test_no_operation_selected[name] if {
	some name, facts in {
		"another operation": replace(allowed, {"operation": "delete"}),
		"upper-case spelling": replace(allowed, {"operation": "ADD"}),
		"missing": object.remove(allowed, ["operation"]),
	}
	not spaceauthz.adding with input as facts
	not spaceauthz.removing with input as facts
	not spaceauthz.listing with input as facts
}

# known_operation

test_known_operation[op] if {
	some op in ["add", "remove", "list"]
	spaceauthz.known_operation with input as replace(allowed, {"operation": op})
}

test_unknown_operation[name] if {
	some name, facts in {
		"another operation": replace(allowed, {"operation": "delete"}),
		"upper-case spelling": replace(allowed, {"operation": "ADD"}),
		"empty": replace(allowed, {"operation": ""}),
		"null": replace(allowed, {"operation": null}),
		"not a string": replace(allowed, {"operation": 1}),
		"missing": object.remove(allowed, ["operation"]),
		"no input at all": {},
	}
	not spaceauthz.known_operation with input as facts
}

# changes_membership: an add and a remove do, a list does not.

test_changes_membership[op] if {
	some op in ["add", "remove"]
	spaceauthz.changes_membership with input as replace(allowed, {"operation": op})
}

test_does_not_change_membership[name] if {
	some name, facts in {
		"list": list_allowed,
		"unknown operation": replace(allowed, {"operation": "delete"}),
		"missing operation": object.remove(allowed, ["operation"]),
	}
	not spaceauthz.changes_membership with input as facts
}

# The decision: an unknown operation is refused even when every check of an
# add, a remove or a list would pass; and only the rules of every operation
# join known_operation, none of another operation's.

test_unknown_operation_denied[name] if {
	some name, facts in {
		"unknown operation, facts of an allowed add": replace(allowed, {"operation": "delete"}),
		"unknown operation, facts of an allowed remove": replace(remove_allowed, {"operation": "delete"}),
		"unknown operation, facts of an allowed list": replace(list_allowed, {"operation": "delete"}),
		"upper-case spelling": replace(allowed, {"operation": "REMOVE"}),
		"operation null": replace(allowed, {"operation": null}),
		"operation missing": object.remove(allowed, ["operation"]),
		"unknown operation, no role, no membership": replace(remove_allowed, {"operation": "delete", "membership": null}),
		"unknown operation, unknown role": replace(allowed, {"operation": "delete", "role": predefined("OWNER")}),
	}
	spaceauthz.decision == deny({unknown_operation}) with input as facts
}

test_unknown_operation_with_rules_of_every_operation[name] if {
	some name, [facts, violations] in {
		"actor null": [
			replace(allowed, {"operation": "delete", "actor": null}),
			{unauthenticated, space_not_found, unknown_operation},
		],
		"space not readable": [replace(base, {"operation": "delete"}), {space_not_found, unknown_operation}],
		"foreign space": [
			in_foreign_space(replace(allowed, {"operation": "delete"})),
			{space_not_found, unknown_operation},
		],
	}
	spaceauthz.decision == deny(violations) with input as facts
}

test_known_operation_passes[name] if {
	some name, facts in {
		"add": allowed,
		"remove": remove_allowed,
		"list": list_allowed,
	}
	not unknown_operation in spaceauthz.violations with input as facts
}
