package auditreplay

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/spaceauthz/spaceauthz/membership"
)

// Current returns w with the memberships s holds in place of w's: the
// membership of every user of w in every organization of w, and every
// membership of every space of w, read through Store.Read alone (which
// decides nothing), space by space a page at a time.
func Current(ctx context.Context, s membership.Store, w World) (World, error) {
	got := w.Clone()
	clear(got.OrganizationMembers)
	clear(got.SpaceMembers)
	for _, org := range slices.Sorted(maps.Keys(w.Organizations)) {
		for _, user := range slices.Sorted(maps.Keys(w.Users)) {
			m, err := organizationMember(ctx, s, org, user)
			if err != nil {
				return World{}, err
			}
			if m != nil {
				got.OrganizationMembers[OrganizationKey{org, user}] = m.Role.Canonical()
			}
		}
	}
	for _, space := range slices.Sorted(maps.Keys(w.Spaces)) {
		reader, err := w.readerOf(w.Organizations[w.Spaces[space]])
		if err != nil {
			return World{}, err
		}
		members, err := spaceMembers(ctx, s, reader, space)
		if err != nil {
			return World{}, err
		}
		for _, m := range members {
			got.SpaceMembers[SpaceKey{space, m.UserID}] = m.Role.Canonical()
		}
	}
	return got, nil
}

// organizationMember reads the membership of user in org, nil for none.
// The user is the query's actor as well: any actor will do.
func organizationMember(ctx context.Context, s membership.Store, org, user membership.ID) (*membership.OrganizationMember, error) {
	f, _, err := s.Read(ctx, membership.Query{Operation: membership.OperationOrgRemove, Actor: user, OrganizationID: org, UserID: user})
	switch {
	case err != nil:
		return nil, fmt.Errorf("auditreplay: reading the membership of %s in %s: %w", user, org, err)
	case f.Organization == nil:
		return nil, fmt.Errorf("auditreplay: the store holds no organization %s", org)
	}
	return f.TargetOrganizationMember, nil
}

// spaceMembers reads every membership of space, as reader, page by page.
func spaceMembers(ctx context.Context, s membership.Store, reader, space membership.ID) ([]membership.Membership, error) {
	var all []membership.Membership
	q := membership.Query{Operation: membership.OperationList, Actor: reader, SpaceID: space, Page: &membership.PageQuery{Limit: membership.MaxPageSize}}
	for {
		f, page, err := s.Read(ctx, q)
		switch {
		case err != nil:
			return nil, fmt.Errorf("auditreplay: reading the members of %s: %w", space, err)
		case f.Space == nil:
			return nil, fmt.Errorf("auditreplay: the store holds no space %s", space)
		}
		for _, m := range page.Members {
			if m.SpaceID != space || len(all) > 0 && all[len(all)-1].UserID >= m.UserID {
				return nil, fmt.Errorf("auditreplay: the members of %s come out of order or of another space: %+v", space, m)
			}
			all = append(all, m)
		}
		if !page.More {
			return all, nil
		}
		if len(page.Members) == 0 {
			return nil, fmt.Errorf("auditreplay: an empty page of %s says more follow", space)
		}
		q.Page.After = page.Members[len(page.Members)-1].UserID
	}
}

// Changelog returns the changelog of every account of w, account by
// account in id order, each in commit order, read through Store.AuditLog
// a page at a time: the log Replay takes.
func Changelog(ctx context.Context, s membership.Store, w World) ([]membership.AuditEntry, error) {
	var all []membership.AuditEntry
	for _, account := range w.accounts() {
		entries, err := changelogAfter(ctx, s, w, account, 0)
		if err != nil {
			return nil, err
		}
		all = append(all, entries...)
	}
	return all, nil
}

// CatchUp applies the entries that every account of the World has
// committed in s since the last one applied.
func (r *Replayer) CatchUp(ctx context.Context, s membership.Store) error {
	for _, account := range r.world.accounts() {
		entries, err := changelogAfter(ctx, s, r.world, account, r.last[account])
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := r.Apply(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// changelogAfter reads the changelog of account after position after, to
// its end.
func changelogAfter(ctx context.Context, s membership.Store, w World, account membership.ID, after int64) ([]membership.AuditEntry, error) {
	reader, err := w.readerOf(account)
	if err != nil {
		return nil, err
	}
	var all []membership.AuditEntry
	q := membership.AuditQuery{Actor: reader, Ascending: true, After: after, Limit: membership.MaxPageSize}
	for {
		page, err := s.AuditLog(ctx, q)
		switch {
		case err != nil:
			return nil, fmt.Errorf("auditreplay: reading the changelog of %s after %d: %w", account, q.After, err)
		case page.Actor == nil:
			return nil, fmt.Errorf("auditreplay: the reader %s of account %s names no user of the store", reader, account)
		}
		all = append(all, page.Entries...)
		if !page.More {
			return all, nil
		}
		if len(page.Entries) == 0 {
			return nil, fmt.Errorf("auditreplay: an empty page of the changelog of %s says more follow", account)
		}
		q.After = page.Entries[len(page.Entries)-1].Position
	}
}

// readerOf returns the World's reader of account.
func (w World) readerOf(account membership.ID) (membership.ID, error) {
	reader, ok := w.Readers[account]
	if !ok {
		return "", fmt.Errorf("auditreplay: the World names no reader of account %s", account)
	}
	return reader, nil
}
