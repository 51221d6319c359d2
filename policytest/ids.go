package policytest

import (
	"encoding/base64"
	"strconv"

	"github.com/spaceauthz/spaceauthz/membership"
)

// The ids of the records of every Situation: valid IDs, standard base64 of
// the text in each comment. A host's data that names a record (a list of
// archived spaces, say) uses them.
const (
	// AccountID is the actor's account; OtherAccountID another one, where
	// whatever a Situation places "in another account" lies.
	AccountID      membership.ID = "QWNjb3VudDox" // Account:1
	OtherAccountID membership.ID = "QWNjb3VudDoy" // Account:2

	// ActorID is the user making the request, TargetID the user it is about.
	ActorID  membership.ID = "VXNlcjox" // User:1
	TargetID membership.ID = "VXNlcjoy" // User:2

	// OrganizationID is the space's parent organization in the actor's
	// account, OtherOrganizationID its parent in another account.
	OrganizationID      membership.ID = "T3JnOjE=" // Org:1
	OtherOrganizationID membership.ID = "T3JnOjI=" // Org:2

	// SpaceID is the space of the request, unless Situation.InSpace names
	// another.
	SpaceID membership.ID = "U3BhY2U6MQ==" // Space:1

	// MembershipID is the target's current membership of the space, when
	// it has one.
	MembershipID membership.ID = "TWVtYmVyc2hpcDox" // Membership:1

	// OrganizationMembershipID is the target's current membership of the
	// organization in an organization operation, when it has one.
	OrganizationMembershipID membership.ID = "T3JnTWVtYmVyc2hpcDox" // OrgMembership:1
)

// ID returns the valid ID that names the n-th record of a kind, standard
// base64 of "kind:n": ID("Space", 2) is "U3BhY2U6Mg==". Use it for records
// beyond a Situation's own, such as a second space.
func ID(kind string, n int) membership.ID {
	return encodeID(kind + ":" + strconv.Itoa(n))
}

func encodeID(s string) membership.ID {
	return membership.ID(base64.StdEncoding.EncodeToString([]byte(s)))
}
