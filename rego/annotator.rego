# The annotator pairing: a user whose account role is ANNOTATOR takes exactly
# the predefined annotator role, of a space or of an organization, and nobody
# else takes it (the rules themselves are in decision.rego).
package spaceauthz

requested_annotator if is_predefined(input.role, "ANNOTATOR")
