// Package auditreplay checks a store's audit log against the memberships
// the store holds: replayed from the memberships a fixture seeds, entry by
// entry in commit order, the changelog must give exactly the memberships
// of the store. A change without its entry, an entry without its change,
// an entry missing from the changelog, shown twice or out of order, or one
// that records another change than the one made, all break that equality
// or the replay itself.
//
// Replay applies a changelog to a World and refuses an entry that does not
// fit the state it meets. Current and Changelog read a World's memberships
// and its changelog through membership.Store alone, so that the check
// holds every store to the same promise. A Replayer follows a changelog as
// it grows, for a test that also writes through a Seeder, which leaves no
// entry; Check is the whole check for a store seeded from a fixture and
// changed only through Write since.
package auditreplay
