# A host rule: an archived space takes no new members.
#
# The members it has keep their place: their role may still change, they may
# be removed, and the space may still be listed. Which spaces are archived is
# data (archived/data.json, the ids of data.archived.spaces), so archiving a
# space or bringing it back is an edit of that file and a reload, with no
# change to this rule.
#
# The rule extends the default policy: it uses its helpers adding (which
# holds only for a caller who may read the space) and target_is_member. Its
# code is the host's own and ranks after every code of the library, so a
# caller who may not add to the space gets the library's answer (404
# space_not_found, 403 forbidden) and learns nothing about archiving.
package spaceauthz

violations contains {
	"code": "space_archived",
	"rule": "space_archived",
	"status": 409,
	"detail": "the space is archived: it takes no new members",
} if {
	adding

	# A rule rather than input.membership == null, so that a membership
	# missing from the input altogether counts as none: the rule then
	# refuses rather than lets a new member in.
	not target_is_member
	input.space.id in data.archived.spaces
}
