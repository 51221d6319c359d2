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
// "allow" must be true exactly when "violations" is empty. The library's codes
// (space_not_found, forbidden, user_not_found, membership_not_found, role_not_found,
// user_not_in_organization, annotator_role_required,
// annotator_role_not_allowed, unauthenticated) keep their fixed status;
// "status" and "detail" apply to a host's own codes, which answer 403 by
// default and rank after every code of the library.
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
// Evaluating Rego costs tens of microseconds; most decisions repeat one
// already made, if not for this tenant then for another. At New the engine
// analyses the compiled modules once:
//
//   - which nodes of the input each rule can observe: the nodes its
//     references reach (an object's presence, a leaf's value), and whole
//     subtrees where a value leaves the analysis (passed to a builtin,
//     compared as a whole, returned);
//   - which ids the policy only compares with each other or checks for
//     presence. Such an id is keyed by its equality class (the first
//     distinct id of the key is class 0, the next class 1, ...) rather than
//     its value, so two tenants whose requests have the same shape share one
//     remembered decision. Any other use of an id (compared with a constant,
//     looked up in data, passed to a builtin, put in a violation's detail),
//     or a use the analysis cannot follow, keeps its raw value in the key.
//
// Decide writes the observed values straight from the facts into a key and
// answers from memory when the key is known. A policy in the standard shape
// (decision from allow and violations, as the default policy is; see
// parts.go) is also remembered rule by rule: each violation rule's
// violations under a key of what that rule observes, so that a request
// whose whole key is new is still answered from memory when every rule has
// seen its part before. A violation rule whose body starts with a gate (a
// rule of the package without arguments, as the default policy's adding)
// is remembered in two halves, the gate under what the gate reads and the
// rest under what the rest reads, so that the gate's inputs do not
// multiply the rule's keys. A miss costs one evaluation.
//
// Since the policy and its data never change in a loaded policy, a
// remembered decision stays right; Reload starts a fresh cache. A policy
// that calls a nondeterministic builtin is never remembered, nor is any
// failure. WithDecisionCache sets the size or turns it off. The cache is
// sharded and read without locks, so decisions from several cores do not
// contend. Stats counts the decisions that evaluated Rego. A differential
// property test holds the engine to plain OPA evaluation, on policies
// built to break each of these rules.
//
// # Lists
//
// Engine.ReadFilter states the policy's read decision (input.operation
// "read") as a membership.Condition over a candidate space, computed once
// per loaded policy by OPA's partial evaluation, so that a list of spaces
// reads only the spaces the caller may see; its godoc says which shapes of
// rule keep that exact, and what a list costs when one does not.
//
// # Extending and replacing the policy
//
// A PolicyOption says what the policy is made of: WithModule adds Rego
// modules (for example a rule that adds a violation for an archived space),
// WithData adds data documents, WithBundle adds an OPA bundle read by
// ReadBundle (a directory or a .tar.gz, its signature checked when
// WithVerificationKey gives a key), and WithoutDefaultPolicy starts from
// nothing. A policy that does not parse or compile, that does not define
// data.spaceauthz.decision, or whose bundles' Rego tests fail, is refused
// with an error that wraps ErrInvalidPolicy and names the file and line.
//
// # Reloading
//
// Engine.Reload takes PolicyOptions only and swaps in another policy while
// the engine serves: decisions under way finish on the policy they started
// with, later ones use the new one, and none sees a mix of the two. A
// refused policy leaves the one in force. What configures the engine rather
// than the policy, the audit sink (WithAudit) and the cache size
// (WithDecisionCache), is given to New once and stays across reloads;
// Reload does not accept it. Engine.Revision names the policy in force: its
// bundle's manifest revision, or a digest of its modules and data.
//
// # Audit
//
// WithAudit reports every decision as a DecisionRecord (operation, actor,
// space, target user, requested role, allow, violations, revision,
// duration, whether it was remembered) to an AuditSink; NewSlogAudit writes
// them as log/slog records. A record points into the facts and the
// decision and costs no input document; DecisionRecord.InputDigest hashes
// the input for a sink that wants it.
package policy
