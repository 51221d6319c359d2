package memstore

import (
	"time"

	memdb "github.com/hashicorp/go-memdb"

	"github.com/spaceauthz/spaceauthz/membership"
)

// defects are bugs a test plants in a Store to show that its checks catch
// them. No exported API sets them.
type defects struct {
	// skipRecheck writes on the facts the decision was made on without
	// checking, under the write lock, that nothing behind them changed.
	skipRecheck bool
	// splitCascade commits the removal of the space memberships of a
	// cascade in a transaction of its own, and the organization membership
	// in another, a moment later.
	splitCascade bool
}

// splitCascade is the first half of a split cascade: it removes the
// target's memberships of the organization's spaces in txn, commits, and
// waits a moment, as a second round trip would. The caller then removes
// the organization membership in a new transaction.
func (s *Store) splitCascade(txn *memdb.Txn, f *membership.Facts) error {
	if m := f.TargetOrganizationMember; m != nil {
		below, err := spaceMembersOf(txn, m.OrganizationID, m.UserID)
		if err != nil {
			s.abort(txn)
			return err
		}
		for _, sm := range below {
			if err := txn.Delete(tableSpaceMembers, sm); err != nil {
				s.abort(txn)
				return err
			}
		}
	}
	s.commit(txn)
	time.Sleep(time.Millisecond)
	return nil
}
