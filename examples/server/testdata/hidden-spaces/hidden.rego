# A host rule of the tests: nobody reads a space named "secret". It answers
# space_not_found, the code of a space the caller cannot read, so the space
# answers a read exactly as a missing one does and is left out of every
# list of spaces, which holds the spaces a read would answer.
package spaceauthz

violations contains {"code": "space_not_found", "rule": "hidden"} if {
	input.operation == "read"
	input.space.name == "secret"
}
