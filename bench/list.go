package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	memdb "github.com/hashicorp/go-memdb"

	"github.com/spaceauthz/spaceauthz/internal/memdbkey"
	"github.com/spaceauthz/spaceauthz/membership"
	"github.com/spaceauthz/spaceauthz/memstore"
	"github.com/spaceauthz/spaceauthz/policy"
)

// The list benchmarks: Service.ListSpaces on the default policy, for
// callers who can read a thousandth, a hundredth, a tenth and all of an
// account's spaces (see listWorld), in worlds of 1,000 and 100,000 spaces.
// A page benchmark asks for the first page of 50; a walk follows the
// cursors, 100 spaces a page, to the end. Beside them, ListSpacesFloor
// reads the same first page's records by key, with no decision.
//
// Every benchmark takes turns among listCallers callers of its share, so
// that no page is one request repeated.

const (
	listPageSize = membership.DefaultPageSize
	listWalkSize = membership.MaxPageSize
)

// listService is a store holding a list world, behind a Service on the
// default policy.
type listService struct {
	world   *listWorld
	service *membership.Service
	seeding time.Duration
}

var listWorlds sync.Map // spaces → func() (*listWorld, error)

// listWorldOf returns the list world of n spaces, built once per process.
func listWorldOf(n int) (*listWorld, error) {
	return cached(&listWorlds, n, func() (*listWorld, error) { return newListWorld(n) })
}

var listMemstores sync.Map // spaces → func() (*listService, error)

// memstoreListService returns a memstore holding the list world of n
// spaces, seeded (in one transaction, memstore's Import) and checked on
// first use, and shared by every benchmark after.
func memstoreListService(n int) (*listService, error) {
	return cached(&listMemstores, n, func() (*listService, error) {
		w, err := listWorldOf(n)
		if err != nil {
			return nil, err
		}
		store := memstore.New()
		start := time.Now()
		if err := store.Import(context.Background(), w.data); err != nil {
			return nil, fmt.Errorf("seeding the list world of %d: %w", n, err)
		}
		return newListService(w, store, time.Since(start))
	})
}

// newListService puts store, holding w, behind a Service on the default
// policy, and checks that it lists what each caller can read.
func newListService(w *listWorld, store membership.Store, seeding time.Duration) (*listService, error) {
	engine, err := policy.New()
	if err != nil {
		return nil, err
	}
	svc, err := membership.NewService(store, engine)
	if err != nil {
		return nil, err
	}
	s := &listService{world: w, service: svc, seeding: seeding}
	if err := s.checkListing(context.Background()); err != nil {
		return nil, err
	}
	return s, nil
}

// checkListing walks the spaces of every caller of every share and compares
// them with the spaces the caller can read: a store that lists something
// else must not be measured. Account ADMINs all read the same, so only the
// first walks.
func (s *listService) checkListing(ctx context.Context) error {
	for _, share := range sharesOf(len(s.world.spaces)) {
		callers, err := s.world.callersOf(share)
		if err != nil {
			return err
		}
		if share.class(s.world.spacesPerOrg) == classAdmin {
			callers = callers[:1]
		}
		for i, c := range callers {
			var got []membership.ID
			_, err := walkSpaces(ctx, s.service, membership.ListSpacesRequest{Actor: c.user.ID, Limit: listWalkSize}, func(p membership.SpacePage) {
				for _, sp := range p.Spaces {
					got = append(got, sp.ID)
				}
			})
			if err != nil {
				return fmt.Errorf("list world of %d, share %s, caller %d: %w", len(s.world.spaces), share.name, i, err)
			}
			if !slices.Equal(got, c.visible) {
				return fmt.Errorf("list world of %d, share %s, caller %d: ListSpaces listed %d spaces, not the %d the caller can read",
					len(s.world.spaces), share.name, i, len(got), len(c.visible))
			}
		}
	}
	return nil
}

// walkSpaces lists every page of req, from the first, passing each to
// visit, and returns the number of pages.
func walkSpaces(ctx context.Context, svc *membership.Service, req membership.ListSpacesRequest, visit func(membership.SpacePage)) (int, error) {
	for pages := 1; ; pages++ {
		page, err := svc.ListSpaces(ctx, req)
		if err != nil {
			return pages, err
		}
		visit(page)
		if !page.HasMore {
			return pages, nil
		}
		if len(page.Spaces) == 0 || page.NextCursor == "" || page.NextCursor == req.Cursor {
			return pages, fmt.Errorf("page %d says more follow but gives no way past it", pages)
		}
		req.Cursor = page.NextCursor
	}
}

// listRequests returns the requests of a share's callers for pages of
// limit spaces, and how many spaces each can read.
func listRequests(w *listWorld, share listShare, limit int) ([]membership.ListSpacesRequest, []int, error) {
	callers, err := w.callersOf(share)
	if err != nil {
		return nil, nil, err
	}
	reqs := make([]membership.ListSpacesRequest, len(callers))
	visible := make([]int, len(callers))
	for i, c := range callers {
		reqs[i] = membership.ListSpacesRequest{Actor: c.user.ID, Limit: limit}
		visible[i] = len(c.visible)
	}
	return reqs, visible, nil
}

// benchListPage is the body of ListSpaces/{store}/{size}/{share}/page: the
// first page of 50, through the Service.
func benchListPage(get func() (*listService, error), share listShare) func(*testing.B) {
	return func(b *testing.B) {
		s, err := get()
		if err != nil {
			b.Fatal(err)
		}
		reqs, visible, err := listRequests(s.world, share, listPageSize)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		spaces, n := 0, 0
		b.ReportAllocs()
		for b.Loop() {
			c := n % len(reqs)
			page, err := s.service.ListSpaces(ctx, reqs[c])
			if err != nil {
				b.Fatal(err)
			}
			if len(page.Spaces) != min(listPageSize, visible[c]) || page.HasMore != (visible[c] > listPageSize) {
				b.Fatalf("caller %d: a first page of %d spaces (more: %v) of the %d they can read", c, len(page.Spaces), page.HasMore, visible[c])
			}
			spaces += len(page.Spaces)
			n++
		}
		reportListing(b, n, n, spaces)
	}
}

// benchListWalk is the body of ListSpaces/{store}/{size}/{share}/walk: every
// page, 100 spaces each, to the end.
func benchListWalk(get func() (*listService, error), share listShare) func(*testing.B) {
	return func(b *testing.B) {
		s, err := get()
		if err != nil {
			b.Fatal(err)
		}
		reqs, visible, err := listRequests(s.world, share, listWalkSize)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		spaces, pages, n := 0, 0, 0
		b.ReportAllocs()
		for b.Loop() {
			c := n % len(reqs)
			listed := 0
			p, err := walkSpaces(ctx, s.service, reqs[c], func(page membership.SpacePage) { listed += len(page.Spaces) })
			if err != nil {
				b.Fatal(err)
			}
			if listed != visible[c] {
				b.Fatalf("caller %d: a walk of %d spaces of the %d they can read", c, listed, visible[c])
			}
			spaces += listed
			pages += p
			n++
		}
		reportListing(b, n, pages, spaces)
	}
}

// reportListing reports pages and spaces per operation, and the time per
// space listed.
func reportListing(b *testing.B, ops, pages, spaces int) {
	if ops == 0 {
		return
	}
	b.ReportMetric(float64(pages)/float64(ops), "pages/op")
	b.ReportMetric(float64(spaces)/float64(ops), "spaces/op")
	if spaces > 0 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(spaces), "ns/space")
	}
}

// The floor of a first page: a bare go-memdb holding the world's spaces in
// memstore's own spaces table (the same indexer, by id), from which a page
// is the caller's first 50 readable spaces looked up by key in one
// snapshot and copied into the page's slice. Nothing is decided and no
// other record is read: not the caller, not a grant, not an organization,
// and the ids come for free. It is what any go-memdb store pays to hand
// those records back. memstore's Read of each of them would not do: it
// gathers a whole decision's facts in a snapshot of its own per space, the
// very cost a list exists to avoid, and would flatter the list.
type listFloor struct {
	world   *listWorld
	db      *memdb.MemDB
	seeding time.Duration
}

const listFloorTable = "spaces"

var listFloors sync.Map // spaces → func() (*listFloor, error)

// listFloorOf returns the floor holding the list world of n spaces, built
// on first use and shared after.
func listFloorOf(n int) (*listFloor, error) {
	return cached(&listFloors, n, func() (*listFloor, error) {
		w, err := listWorldOf(n)
		if err != nil {
			return nil, err
		}
		db, err := memdb.NewMemDB(&memdb.DBSchema{Tables: map[string]*memdb.TableSchema{
			listFloorTable: {Name: listFloorTable, Indexes: map[string]*memdb.IndexSchema{
				floorID: {Name: floorID, Unique: true, Indexer: memdbkey.ByID(func(s *membership.Space) membership.ID { return s.ID })},
			}},
		}})
		if err != nil {
			return nil, err
		}
		start := time.Now()
		txn := db.Txn(true)
		defer txn.Abort()
		for _, sp := range w.spaces {
			if err := txn.Insert(listFloorTable, &sp); err != nil {
				return nil, err
			}
		}
		txn.Commit()
		return &listFloor{world: w, db: db, seeding: time.Since(start)}, nil
	})
}

// page reads the spaces ids by key in one snapshot.
func (f *listFloor) page(ids []membership.ID) ([]membership.Space, error) {
	txn := f.db.Txn(false)
	out := make([]membership.Space, 0, len(ids))
	for _, id := range ids {
		raw, err := txn.First(listFloorTable, floorID, string(id))
		if err != nil {
			return nil, err
		}
		if raw == nil {
			return nil, fmt.Errorf("no space %s", id)
		}
		out = append(out, *raw.(*membership.Space))
	}
	return out, nil
}

// benchListFloor is the body of ListSpacesFloor/{size}/{share}: the first
// page's records of the share's callers, by key, no decision.
func benchListFloor(n int, share listShare) func(*testing.B) {
	return func(b *testing.B) {
		f, err := listFloorOf(n)
		if err != nil {
			b.Fatal(err)
		}
		callers, err := f.world.callersOf(share)
		if err != nil {
			b.Fatal(err)
		}
		pages := make([][]membership.ID, len(callers))
		for i, c := range callers {
			pages[i] = c.visible[:min(listPageSize, len(c.visible))]
		}
		spaces, ops := 0, 0
		b.ReportAllocs()
		for b.Loop() {
			page, err := f.page(pages[ops%len(pages)])
			if err != nil {
				b.Fatal(err)
			}
			spaces += len(page)
			ops++
		}
		reportListing(b, ops, ops, spaces)
	}
}

// listGroup is the report's section of the list benchmarks.
var listGroup = Group{"list", "List: ListSpaces for callers who read a share of one account's spaces: page the first 50, walk every page of 100; the floor reads that first page's records by key, no decision",
	[]string{"ns/op", "allocs/op", "B/op", "pages/op", "spaces/op", "ns/space"}, "ns/op", "time ÷ baseline"}

// listSuite lists the list benchmarks the command runs: the floors first,
// then memstore, each page beside the floor of the same share, then
// pgstore (when pgDSN names a database), each beside memstore.
func listSuite(sizes []int, pgDSN string) []benchmark {
	var list []benchmark
	for _, n := range sizes {
		for _, share := range sharesOf(n) {
			name := "ListSpacesFloor/" + sizeName(n) + "/" + share.name
			list = append(list, benchmark{name: name, group: listGroup.Name, run: benchListFloor(n, share), baseline: name})
		}
	}
	type listStore struct {
		name string
		get  func(n int) func() (*listService, error)
	}
	stores := []listStore{{"memstore", func(n int) func() (*listService, error) {
		return func() (*listService, error) { return memstoreListService(n) }
	}}}
	if pgDSN != "" {
		stores = append(stores, listStore{"pgstore", func(n int) func() (*listService, error) {
			return func() (*listService, error) { return pgListServiceOf(pgDSN, n) }
		}})
	}
	for _, st := range stores {
		for _, n := range sizes {
			for _, share := range sharesOf(n) {
				prefix := "ListSpaces/" + st.name + "/" + sizeName(n) + "/" + share.name
				pageBase, walkBase := "ListSpacesFloor/"+sizeName(n)+"/"+share.name, ""
				if st.name != "memstore" {
					pageBase, walkBase = "ListSpaces/memstore/"+sizeName(n)+"/"+share.name+"/page", "ListSpaces/memstore/"+sizeName(n)+"/"+share.name+"/walk"
				}
				list = append(list,
					benchmark{name: prefix + "/page", group: listGroup.Name, run: benchListPage(st.get(n), share), baseline: pageBase},
					benchmark{name: prefix + "/walk", group: listGroup.Name, run: benchListWalk(st.get(n), share), baseline: walkBase})
			}
		}
	}
	return list
}

// seedListWorlds builds the list worlds of cfg in every store before
// anything is timed, checks what each lists, and says how long seeding
// took.
func seedListWorlds(cfg config, progress io.Writer) ([]Seeding, error) {
	var seeding []Seeding
	for _, n := range cfg.listSizes {
		fmt.Fprintf(progress, "seeding the list world of %s spaces... ", count(n))
		f, err := listFloorOf(n)
		if err != nil {
			return nil, fmt.Errorf("building the list floor of %s: %w", sizeName(n), err)
		}
		s, err := memstoreListService(n)
		if err != nil {
			return nil, fmt.Errorf("list memstore-%s: %w", sizeName(n), err)
		}
		members := len(s.world.data.SpaceMembers)
		seeding = append(seeding,
			Seeding{Store: "list memstore-" + sizeName(n), Spaces: n, Memberships: members, Seconds: s.seeding.Seconds()},
			Seeding{Store: "list floor-" + sizeName(n), Spaces: n, Seconds: f.seeding.Seconds()})
		fmt.Fprintf(progress, "memstore %v, floor %v", s.seeding.Round(time.Millisecond), f.seeding.Round(time.Millisecond))
		if cfg.listPostgres != "" {
			p, err := pgListServiceOf(cfg.listPostgres, n)
			if err != nil {
				return nil, fmt.Errorf("list pgstore-%s: %w", sizeName(n), err)
			}
			seeding = append(seeding, Seeding{Store: "list pgstore-" + sizeName(n), Spaces: n, Memberships: members, Seconds: p.seeding.Seconds()})
			fmt.Fprintf(progress, ", pgstore %v", p.seeding.Round(time.Millisecond))
		}
		fmt.Fprintln(progress)
	}
	return seeding, nil
}

// listGoals are the targets of the list benchmarks.
func listGoals() []goal {
	small, large := sizeName(listSizes[0]), sizeName(listSizes[1])
	gs := []goal{{fmt.Sprintf("List: first page, memstore-%s, 1%%: ListSpaces ÷ reading the page's records by key, time", large), "ratio",
		ratioOf("ListSpaces/memstore/"+large+"/1pct/page", "ListSpacesFloor/"+large+"/1pct", "ns/op"), "<=", 3}}
	for _, store := range []string{"memstore", "pgstore"} {
		gs = append(gs, goal{fmt.Sprintf("List: first page, %s, 1%%: %s ÷ %s with the same visible set, time", store, large, small), "ratio",
			ratioOf("ListSpaces/"+store+"/"+large+"/"+sameAsSmall.name+"/page", "ListSpaces/"+store+"/"+small+"/1pct/page", "ns/op"), "<=", 1.5})
	}
	return gs
}
