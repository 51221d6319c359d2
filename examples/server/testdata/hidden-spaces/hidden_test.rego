# Tests of hidden.rego, run against the whole policy before it is used.
package spaceauthz_test

import data.spaceauthz

hidden := {"code": "space_not_found", "rule": "hidden"}

test_a_read_of_the_secret_space_is_refused if {
	hidden in spaceauthz.violations with input as {"operation": "read", "space": {"name": "secret"}}
}

test_only_that_name_is_hidden if {
	not hidden in spaceauthz.violations with input as {"operation": "read", "space": {"name": "secrets"}}
}

test_only_reads_are_refused if {
	not hidden in spaceauthz.violations with input as {"operation": "list", "space": {"name": "secret"}}
}
