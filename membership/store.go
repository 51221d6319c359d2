package membership

import "context"

// Store is the storage the Service needs: one operation that reads the facts
// of an add and writes its result as a single atomic unit. Package memstore
// is the default implementation; package storetest holds the conformance
// suite every implementation must pass.
type Store interface {
	// UpsertMembership reads the Facts of req (a request that passed
	// Validate), calls check with them, and, only if check returns nil,
	// upserts the membership of req.UserID in req.SpaceID with role
	// req.Role: a new membership gets a new, never reused ID; an existing
	// one keeps its ID and takes the role. It returns the membership as
	// stored, with the canonical role (no spelling, no display name).
	//
	// The facts check saw and the write are atomic: if any record behind
	// the facts changes before the write commits, the Store either calls
	// check again with fresh facts or fails. check may therefore be called
	// more than once; it must be safe to repeat. A Store should not hold a
	// lock that blocks other adds or writes while check runs (memstore
	// does only as a last resort, after several lost races); the
	// conformance suite writes from inside a first check, to stand for a
	// concurrent writer.
	//
	// An error from check is returned unchanged, and nothing is written.
	// Any other failure writes nothing; a Store signals a passing outage
	// with an error that wraps ErrUnavailable.
	UpsertMembership(ctx context.Context, req AddUserRequest, check func(*Facts) error) (Membership, error)
}
