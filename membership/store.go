package membership

import "context"

// Store is the storage the Service needs: two primitives that every
// operation composes, a consistent read and a decided write of one
// membership, a space's or an organization's. A Store knows
// nothing of the operations; each operation says what it reads (a Query)
// and what it writes once allowed (a Change). Package memstore is the
// default implementation, package pgstore the PostgreSQL one; package
// storetest holds the conformance suite every implementation must pass.
//
// A Store is safe for concurrent use. It looks records up by id alone (a
// record of another account is still reported, with its account id: the
// policy keeps accounts apart) and returns the Facts with Query set to the
// query they answer. Facts may point to the Store's own records: they must
// not be modified.
type Store interface {
	// Read returns the facts of q and, when q.Page is set, that page of the
	// space's memberships, both from one consistent snapshot. It writes
	// nothing.
	Read(ctx context.Context, q Query) (*Facts, Page, error)

	// Write reads the facts of q, calls decide with them and, unless decide
	// returns an error, applies the Change it returns to the membership it
	// names: the membership of q.UserID in q.SpaceID (LevelSpace) or in
	// q.OrganizationID (LevelOrganization). It returns what it wrote (see
	// Written): for a ChangePut the membership as stored, with the
	// canonical role (a new one gets a new, never reused id; an existing
	// one keeps its id, and is left alone if it already holds the role);
	// for a ChangeDelete the membership removed; for a ChangeDeleteCascade
	// the organization membership removed and, in Cascaded, every
	// membership of q.UserID in a space of that organization, removed with
	// it; for ChangeNone nothing.
	//
	// The change takes effect only on facts that are still current when it
	// commits:
	//
	//   - every record the facts hold (a user, the space, the
	//     organization, a role held, a custom role, the target's
	//     memberships) is still there and unchanged; and
	//   - the membership the change names is as the facts hold it:
	//     present with the same role, or absent.
	//
	// Otherwise the Store reads fresh facts and calls decide again, or
	// fails with an error that wraps ErrUnavailable; decide may therefore
	// be called more than once and must be safe to repeat. A record that
	// the facts did not find and that is created while decide runs (a
	// user, a role held, a custom role) may go unseen: the change then
	// takes effect as if it came just before that record was created.
	// Decisions stay right under this promise for a policy whose rules
	// deny only when a record is missing, never because one exists, apart
	// from the target's memberships, which the promise covers both ways.
	// The default policy is such a policy: its one rule that denies
	// because of a record, a space ADMIN's membership of the target, reads
	// that membership.
	//
	// Whatever runs concurrently, no space membership exists whose user is
	// not a member of the space's organization. A ChangeDeleteCascade is
	// one atomic step: no reader sees the organization membership gone and
	// a space membership of it still there, or the reverse, and it removes
	// the space memberships that exist when it commits, not only those
	// that existed when the facts were read. A ChangePut at LevelSpace
	// whose target is not a member of the space's organization when it
	// commits writes nothing and answers ErrUserNotInOrganization; one
	// whose facts predate a cascade that removed the target's organization
	// membership is therefore decided again, on facts without it.
	//
	// Every change that changes a membership commits, in the same atomic
	// step, one AuditEntry: the one NewAuditEntry returns for the facts it
	// was made on and the Change (with its Origin), with a new ID, the
	// time of the commit, a Position greater than that of every entry of
	// the account committed before it, and, for a cascade, Removed set to
	// Cascaded. A change that changes nothing writes no entry. No failure,
	// a crash included, leaves a change without its entry or an entry
	// without its change. Write returns the entry in Written.Entry.
	//
	// A ChangeDelete or ChangeDeleteCascade of a membership the facts do
	// not hold answers ErrMembershipNotFound, and a change at a Level the
	// query does not name (no space, or no organization) is an error. An
	// error from decide is returned unchanged and nothing is written. Any
	// other failure writes nothing; a done ctx is an error wrapping
	// ctx.Err(), a passing outage one wrapping ErrUnavailable. A Store
	// should not hold a lock that blocks other writes while decide runs
	// (memstore does only as a last resort, after several lost races).
	Write(ctx context.Context, q Query, decide func(*Facts) (Change, error)) (Written, error)

	// ListSpaces returns, from one consistent snapshot, the record of
	// q.Actor and the first q.Limit spaces of the actor's account, in space
	// id order after q.After, that lie in q.OrganizationID (when set),
	// whose FoldName contains q.Name, on whose facts q.Filter.Condition
	// holds and, when decide is not nil, for which decide returns true;
	// More is set when another such space follows. The facts of a space are
	// those Read returns for a Query of OperationRead of the actor and that
	// space. An error from decide fails the list and is returned unchanged.
	// Nothing is listed for an actor that names no user.
	//
	// A Store reads the sources q.Filter.Plan names (or, when
	// q.OrganizationID is set, that organization's spaces) rather than the
	// whole account, so that a list costs what its spaces cost, and calls
	// decide only for spaces of the actor's account that pass the
	// condition. Given an organization of another account it lists
	// nothing, and should read none of that organization's spaces, so that
	// the time of the empty page says nothing of another tenant.
	ListSpaces(ctx context.Context, q SpaceQuery, decide func(*Facts) (bool, error)) (SpaceList, error)

	// AuditLog returns, from one consistent snapshot, the record of
	// q.Actor and the entries of the actor's account that q asks for (see
	// AuditQuery), at most q.Limit, with More set when another follows.
	// Nothing is listed for an actor that names no user. A page read
	// while changes commit holds no entry whose Position is greater than
	// that of an entry it does not hold and that will ever commit, so
	// that a reader resuming after the last entry it saw misses none: an
	// entry becomes visible only once every entry of its account with a
	// smaller Position has committed (or never will).
	AuditLog(ctx context.Context, q AuditQuery) (AuditPage, error)
}

// Seeder is what a store offers besides Store, for seeding (package
// fixture) and for tests: plain writes, with no decision and no audit
// entry (a seed is no change anyone made). Every Put method
// inserts the record or replaces the one with the same id (or, for
// members, the same organization or space and user). A Seeder copies what
// it keeps: the values it is given belong to the caller.
type Seeder interface {
	PutAccount(ctx context.Context, a Account) error
	PutUser(ctx context.Context, u User) error
	PutOrganization(ctx context.Context, o Organization) error
	// PutOrganizationMember upserts the membership of m.UserID in
	// m.OrganizationID; an empty m.ID keeps the existing membership's id,
	// or gets a new store-generated one.
	PutOrganizationMember(ctx context.Context, m OrganizationMember) error
	PutSpace(ctx context.Context, s Space) error
	PutCustomRole(ctx context.Context, r CustomRole) error
	// PutSpaceMember upserts the membership of userID in spaceID; a new one
	// gets a store-generated id.
	PutSpaceMember(ctx context.Context, spaceID, userID ID, role RoleAssignment) (Membership, error)
}
