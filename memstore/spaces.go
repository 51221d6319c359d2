package memstore

import (
	"container/heap"
	"context"
	"fmt"
	"strings"

	memdb "github.com/hashicorp/go-memdb"

	"github.com/spaceauthz/spaceauthz/membership"
)

// ListSpaces implements membership.Store. The page comes from one lock-free
// snapshot. It reads only the sources the filter's plan names, each from an
// index in space id order starting after q.After, merges them, and tests
// the filter on each space as it comes, looking up the actor's roles only
// when the filter reads them; it stops at the first space past the page.
func (s *Store) ListSpaces(ctx context.Context, q membership.SpaceQuery, decide func(*membership.Facts) (bool, error)) (membership.SpaceList, error) {
	if err := ctx.Err(); err != nil {
		return membership.SpaceList{}, err
	}
	txn := s.db.Txn(false)
	r := reader{txn: txn}
	actor := get[membership.User](&r, tableUsers, q.Actor)
	if actor == nil {
		return membership.SpaceList{}, r.err
	}
	cond := q.Filter.Condition.Bind(actor)
	plan := q.Filter.Plan()
	if q.OrganizationID != "" {
		// An organization of another account lists nothing, at the cost of
		// one lookup, as a missing one does: the time of an empty page does
		// not tell how many spaces another tenant's organization holds.
		if o := get[membership.Organization](&r, tableOrganizations, q.OrganizationID); o == nil || o.AccountID != actor.AccountID {
			return membership.SpaceList{Actor: actor}, r.err
		}
		// One organization's spaces at most: the condition tests each.
		plan = []membership.Source{{Kind: membership.SourceOrganization, ID: q.OrganizationID, Guard: membership.True}}
	}
	var sources []membership.Source
	actorOnly := &membership.Facts{Actor: actor}
	for _, src := range plan {
		if !src.Guard.Holds(actorOnly) {
			continue
		}
		if src.Kind == membership.SourceAccount && !src.Public {
			// Every other source lies within it.
			sources = []membership.Source{src}
			break
		}
		sources = append(sources, src)
	}
	var streams spaceStreams
	for _, src := range sources {
		if err := streams.open(&r, src, actor, q.After); err != nil {
			return membership.SpaceList{}, err
		}
	}
	heap.Init(&streams)

	list := membership.SpaceList{Actor: actor}
	var page []*membership.Space // copied out once its size is known
	c := newCandidate(&r, actor, cond)
	last := q.After
	for streams.Len() > 0 {
		sp, err := streams.pop()
		if err != nil {
			return membership.SpaceList{}, err
		}
		if sp.ID <= last {
			continue // the same space from another source
		}
		last = sp.ID
		if err := ctx.Err(); err != nil {
			return membership.SpaceList{}, err
		}
		if q.Name != "" && !strings.Contains(membership.FoldName(sp.Name), q.Name) {
			continue
		}
		c.reset(sp)
		if c.org() == nil || c.org().AccountID != actor.AccountID || !c.cond.HoldsOn(c) {
			if r.err != nil {
				return membership.SpaceList{}, r.err
			}
			continue
		}
		if decide != nil {
			ok, err := decide(c.facts())
			if err != nil {
				return membership.SpaceList{}, err
			}
			if !ok {
				continue
			}
		}
		if r.err != nil {
			return membership.SpaceList{}, r.err
		}
		if len(page) == q.Limit {
			list.More = true
			break
		}
		page = append(page, sp)
	}
	if len(page) > 0 {
		list.Spaces = make([]membership.Space, len(page))
		for i, sp := range page {
			list.Spaces[i] = *sp
		}
	}
	return list, r.err
}

// candidate is one space a list considers, as a membership.Candidate: the
// space's organization and the actor's role in it are looked up once per
// organization, the actor's role in the space only when the filter reads
// it.
type candidate struct {
	r    *reader
	orgs map[membership.ID]*orgFacts
	// listCond is the list's condition, bound to the actor; cond is it
	// bound to the organization of the space at hand too.
	listCond, cond membership.Condition
	// f holds the facts looked up so far.
	f                 membership.Facts
	orgRead, roleRead bool
}

// orgFacts is what every space of one organization shares, and the
// condition with it put in.
type orgFacts struct {
	org   *membership.Organization
	grant membership.Grant
	cond  membership.Condition
}

func newCandidate(r *reader, actor *membership.User, cond membership.Condition) *candidate {
	return &candidate{r: r, orgs: map[membership.ID]*orgFacts{}, f: membership.Facts{Actor: actor}, listCond: cond}
}

func (c *candidate) reset(sp *membership.Space) {
	c.f = membership.Facts{Actor: c.f.Actor, Space: sp}
	c.orgRead, c.roleRead = false, false
}

// org returns the space's organization, looking it up once per list.
func (c *candidate) org() *membership.Organization {
	if !c.orgRead {
		id := c.f.Space.OrganizationID
		of, ok := c.orgs[id]
		if !ok {
			of = &orgFacts{org: get[membership.Organization](c.r, tableOrganizations, id)}
			if of.org != nil {
				of.grant, _ = c.r.organizationMember(id, c.f.Actor.ID)
			}
			c.f.Organization, c.f.ActorOrganizationRole = of.org, of.grant
			of.cond = c.listCond.BindOn(&c.f, membership.Field.OfOrganization)
			c.orgs[id] = of
		}
		c.f.Organization, c.f.ActorOrganizationRole = of.org, of.grant
		c.cond = of.cond
		c.orgRead = true
	}
	return c.f.Organization
}

func (c *candidate) spaceGrant() {
	if !c.roleRead {
		if m := c.r.spaceMember(c.f.Space.ID, c.f.Actor.ID); m != nil {
			c.f.ActorSpaceRole = c.r.grant(m.Role)
		}
		c.roleRead = true
	}
}

// Value implements membership.Candidate.
func (c *candidate) Value(fd membership.Field) membership.Value {
	switch {
	case fd.OfActor(), fd >= membership.FieldSpace && fd <= membership.FieldSpaceIsPrivate:
	case fd.Grant() == membership.FieldSpaceRole:
		c.spaceGrant()
	default:
		c.org()
	}
	return fd.Of(&c.f)
}

// facts returns the facts a read of the space gathers, as Read returns them.
func (c *candidate) facts() *membership.Facts {
	c.org()
	c.spaceGrant()
	f := c.f
	f.Query = membership.Query{Operation: membership.OperationRead, Actor: f.Actor.ID, SpaceID: f.Space.ID}
	return &f
}

// spaceStream yields spaces in id order from one index walk.
type spaceStream struct {
	next func() (*membership.Space, error)
	head *membership.Space
}

// spaceStreams merges streams by their next space's id: a min-heap.
type spaceStreams []*spaceStream

func (h spaceStreams) Len() int           { return len(h) }
func (h spaceStreams) Less(i, j int) bool { return h[i].head.ID < h[j].head.ID }
func (h spaceStreams) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *spaceStreams) Push(x any)        { *h = append(*h, x.(*spaceStream)) }
func (h *spaceStreams) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// add starts a stream, keeping it only if it yields a space.
func (h *spaceStreams) add(next func() (*membership.Space, error)) error {
	head, err := next()
	if err != nil || head == nil {
		return err
	}
	*h = append(*h, &spaceStream{next: next, head: head})
	return nil
}

// pop returns the smallest next space and advances its stream.
func (h *spaceStreams) pop() (*membership.Space, error) {
	s := (*h)[0]
	sp := s.head
	head, err := s.next()
	if err != nil {
		return nil, err
	}
	if head == nil {
		heap.Pop(h)
	} else {
		s.head = head
		heap.Fix(h, 0)
	}
	return sp, nil
}

// open adds the streams of one source, each starting after after.
func (h *spaceStreams) open(r *reader, src membership.Source, actor *membership.User, after membership.ID) error {
	txn := r.txn
	switch src.Kind {
	case membership.SourceSpace:
		done := false
		return h.add(func() (*membership.Space, error) {
			if done || src.ID <= after {
				return nil, nil
			}
			done = true
			obj, err := txn.First(tableSpaces, indexID, string(src.ID))
			if err != nil || obj == nil {
				return nil, wrapRead(tableSpaces, err)
			}
			return obj.(*membership.Space), nil
		})
	case membership.SourceOrganization:
		return h.openOrganization(txn, src.ID, src.Public, after)
	case membership.SourceAccount:
		// One walk of the account's spaces, in id order.
		it, err := children(txn, tableAccountSpaces, indexID, actor.AccountID, after)
		if err != nil {
			return err
		}
		return h.add(func() (*membership.Space, error) {
			for obj := it.Next(); obj != nil; obj = it.Next() {
				a := obj.(*accountSpace)
				if a.AccountID != actor.AccountID {
					return nil, nil
				}
				if a.SpaceID <= after {
					continue
				}
				sp, err := txn.First(tableSpaces, indexID, string(a.SpaceID))
				if err != nil {
					return nil, wrapRead(tableSpaces, err)
				}
				if sp != nil && !(src.Public && sp.(*membership.Space).IsPrivate) {
					return sp.(*membership.Space), nil
				}
			}
			return nil, nil
		})
	case membership.SourceOrganizationMemberships:
		return eachChild(txn, tableOrganizationMembers, indexUser, actor.ID, func(obj any) error {
			m := obj.(*membership.OrganizationMember)
			if !r.grantHolds(src.Membership, actor, m.Role, membership.FieldOrgRole) {
				return r.err
			}
			return h.openOrganization(txn, m.OrganizationID, src.Public, after)
		})
	case membership.SourceSpaceMemberships:
		it, err := children(txn, tableSpaceMembers, indexUser, actor.ID, after)
		if err != nil {
			return err
		}
		return h.add(func() (*membership.Space, error) {
			for obj := it.Next(); obj != nil; obj = it.Next() {
				m := obj.(*membership.Membership)
				if m.UserID != actor.ID {
					return nil, nil
				}
				if m.SpaceID <= after || !r.grantHolds(src.Membership, actor, m.Role, membership.FieldSpaceRole) {
					if r.err != nil {
						return nil, r.err
					}
					continue
				}
				sp, err := txn.First(tableSpaces, indexID, string(m.SpaceID))
				if err != nil {
					return nil, wrapRead(tableSpaces, err)
				}
				if sp != nil {
					return sp.(*membership.Space), nil
				}
			}
			return nil, nil
		})
	}
	return fmt.Errorf("memstore: unknown source %d", src.Kind)
}

// grantHolds reports whether the membership condition of a source holds of
// the actor's grant of role, in the organization or the space (g).
func (r *reader) grantHolds(c membership.Condition, actor *membership.User, role membership.RoleAssignment, g membership.Field) bool {
	if c.Op == membership.OpTrue {
		return true
	}
	f := membership.Facts{Actor: actor}
	if g == membership.FieldOrgRole {
		f.ActorOrganizationRole = r.grant(role)
	} else {
		f.ActorSpaceRole = r.grant(role)
	}
	return c.Holds(&f)
}

// openOrganization adds the stream of an organization's spaces (its public
// ones only, when public is set) after after.
func (h *spaceStreams) openOrganization(txn *memdb.Txn, orgID membership.ID, public bool, after membership.ID) error {
	index := indexOrganization
	if public {
		index = indexPublic
	}
	it, err := children(txn, tableSpaces, index, orgID, after)
	if err != nil {
		return err
	}
	return h.add(func() (*membership.Space, error) {
		for obj := it.Next(); obj != nil; obj = it.Next() {
			sp := obj.(*membership.Space)
			if sp.OrganizationID != orgID {
				return nil, nil
			}
			if sp.ID > after {
				return sp, nil
			}
		}
		return nil, nil
	})
}

// children walks the records of a pair index under parent, from the first
// whose own id is after (or is) after; the caller stops at the first record
// of another parent and skips after itself.
func children(txn *memdb.Txn, table, index string, parent, after membership.ID) (memdb.ResultIterator, error) {
	it, err := txn.LowerBound(table, index, string(parent), string(after))
	return it, wrapRead(table, err)
}

// eachChild calls fn for every record of a pair index under parent.
func eachChild(txn *memdb.Txn, table, index string, parent membership.ID, fn func(any) error) error {
	it, err := txn.Get(table, prefix(index), string(parent), "")
	if err != nil {
		return wrapRead(table, err)
	}
	for obj := it.Next(); obj != nil; obj = it.Next() {
		if err := fn(obj); err != nil {
			return err
		}
	}
	return nil
}

func wrapRead(table string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("memstore: reading %s: %w", table, err)
}
