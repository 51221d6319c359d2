# A host's own rule: an archived space takes no new members, and says so
# with a 409. data.archived.spaces lists the archived spaces' ids.
package spaceauthz

violations contains {
	"code": "space_archived",
	"rule": "no_archived_space",
	"status": 409,
	"detail": "the space is archived",
} if {
	input.operation == "add"
	input.space.id in data.archived.spaces
}
