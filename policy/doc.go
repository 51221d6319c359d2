// Package policy is the Rego engine of spaceauthz: a membership.Authorizer
// that evaluates one decision document per request with the OPA Go SDK.
//
// New compiles and prepares the policy once; Decide is safe for concurrent
// use by any number of goroutines and fails closed: an evaluation error, an
// undefined result or a malformed decision is a deny, returned with an error.
//
// # The decision
//
// The engine evaluates data.spaceauthz.decision, which must be
//
//	{"allow": <bool>, "violations": [<violation>, ...]}
//
// where a violation is an object
//
//	{"code": <error_code>, "rule": <name>,
//	 "status": <400..499, optional>, "detail": <string, optional>}
//
// "allow" must be true exactly when "violations" is empty. The codes of SPEC
// section 3 (space_not_found, forbidden, user_not_found, role_not_found,
// user_not_in_organization, annotator_role_required,
// annotator_role_not_allowed, unauthenticated) keep their fixed status;
// "status" and "detail" apply to a host's own codes, which answer 403 by
// default and rank after every code of SPEC section 3.
//
// # The input
//
// input is built from membership.Facts; enum values use the upper-case
// spelling, and null stands for a record that was not found:
//
//	{
//	  "actor": null | {"id", "account_id", "name", "email", "role",
//	                   "organization_role": null | <grant>,
//	                   "space_role": null | <grant>},
//	  "organization": null | {"id", "account_id", "name"},
//	  "space": null | {"id", "organization_id", "name", "is_private"},
//	  "target": null | {"id", "account_id", "name", "email", "role",
//	                    "organization_role": null | <grant>},
//	  "role": <role>,
//	  "custom_role": null | <custom role>,
//	  "membership": null | {"id", "user_id", "space_id", "role": <role>}
//	}
//
// where "role" of a user is ADMIN, MEMBER or ANNOTATOR; <role> is
// {"type": "PREDEFINED", "name": "ADMIN"|"MEMBER"|"READ_ONLY"|"ANNOTATOR"}
// or {"type": "CUSTOM", "id": <id>}; a <grant> is a <role> that, when custom,
// also carries "custom_role": null | <custom role>; and a <custom role> is
// {"id", "account_id", "name", "permissions": [<string>, ...]}.
// "organization" is the space's parent; the organization_role fields are
// roles in that organization, and "membership" is the target's current
// membership of the space.
//
// Records are looked up by ID alone: the policy itself keeps accounts apart.
//
// # Remembered decisions
//
// Evaluating Rego costs tens of microseconds; most adds repeat a decision
// already made. At New the engine finds, by static analysis of the compiled
// modules, every input path the policy can read (a reference with a
// variable counts as a read of its static prefix, a bare input as a read of
// everything). Decide writes the values at those paths straight from the
// facts into a key and answers from memory when the key is known. Since the
// policy and its data never change in an Engine, a remembered decision stays
// right; a policy that calls a nondeterministic builtin is never remembered,
// nor is any failure. WithDecisionCache sets the size or turns it off. A
// differential property test holds the engine to plain OPA evaluation.
//
// # Extending and replacing the policy
//
// WithModule adds Rego modules (for example a rule that adds a violation for
// an archived space), WithData adds data documents, WithoutDefaultPolicy
// starts from nothing. A policy that does not parse or compile, or that does
// not define data.spaceauthz.decision, is refused by New with an error that
// wraps ErrInvalidPolicy. Engine.Reload swaps in another policy while the
// engine serves, without dropping a request, and refuses a broken one the
// same way, leaving the policy in force.
package policy
