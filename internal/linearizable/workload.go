package linearizable

import "math/rand/v2"

// Mix weighs the kinds of operation a workload draws.
type Mix struct {
	Add, Remove, ListMembers, OrgAdd, OrgRemove, GetSpace, ListSpaces int
}

// A Workload says what the clients of a history do.
type Workload struct {
	Name string
	// Partitions is the number of accounts of the world; Clients the
	// number of concurrent clients, each of which draws every operation's
	// partition anew; Ops the operations of a history, spread evenly over
	// the clients.
	Partitions, Clients, Ops int
	Mix                      Mix
	// Targets is how many of a partition's targets the operations are
	// about (1 to 3), and WriteSpaces how many of its spaces the space
	// operations are about (1 to 3; the first is private): fewer
	// concentrate the clients on fewer memberships.
	Targets, WriteSpaces int
	// AdminWrites is the percentage of changes the account ADMIN makes,
	// who may make them all; the others are made by anyone of the
	// partition, some with authority and some without.
	AdminWrites int
	// TargetReads is the percentage of reads of spaces made by the
	// targets: what they can read shows their memberships, which nothing
	// else of a history shows between a cascade's two halves.
	TargetReads int
}

// The workloads the tests run.
var (
	// Mixed plays every operation over several small partitions, with
	// actors of every kind, so that adds are created, kept, changed and
	// denied, removes find and miss, and cascades remove what they find.
	Mixed = Workload{
		Name: "mixed", Partitions: 4, Clients: 8, Ops: 200,
		Mix:     Mix{Add: 25, Remove: 15, ListMembers: 13, OrgAdd: 10, OrgRemove: 8, GetSpace: 15, ListSpaces: 14},
		Targets: 3, WriteSpaces: 3, AdminWrites: 40, TargetReads: 75,
	}
	// Contended puts every client on one membership of one space and its
	// organization membership: concurrent adds of a membership that does
	// not exist yet and concurrent removes of one that does, which a store
	// that writes on stale facts answers in no sequential order.
	Contended = Workload{
		Name: "contended", Partitions: 2, Clients: 8, Ops: 200,
		Mix:     Mix{Add: 35, Remove: 30, ListMembers: 10, OrgAdd: 10, OrgRemove: 5, GetSpace: 5, ListSpaces: 5},
		Targets: 1, WriteSpaces: 1, AdminWrites: 80, TargetReads: 100,
	}
	// Cascade has one target join the organization and a private space,
	// and leave the organization again, while the target reads spaces: a
	// read between the halves of a cascade that is not atomic sees the
	// public spaces, which only the organization membership opens, without
	// the private one, which only the space membership opened.
	Cascade = Workload{
		Name: "cascade", Partitions: 2, Clients: 8, Ops: 200,
		Mix:     Mix{Add: 20, OrgAdd: 15, OrgRemove: 12, GetSpace: 20, ListSpaces: 33},
		Targets: 1, WriteSpaces: 1, AdminWrites: 100, TargetReads: 100,
	}
)

// WithOps returns w with ops operations per history.
func (w Workload) WithOps(ops int) Workload {
	w.Ops = ops
	return w
}

// client draws the operations of one client.
type client struct {
	w     *World
	load  Workload
	rng   *rand.Rand
	kinds []any // pickWeighted's pairs for the mix
}

func newClient(w *World, load Workload, rng *rand.Rand) *client {
	m := load.Mix
	kinds := []any{m.Add, Add, m.Remove, Remove, m.ListMembers, ListMembers, m.OrgAdd, OrgAdd,
		m.OrgRemove, OrgRemove, m.GetSpace, GetSpace, m.ListSpaces, ListSpaces}
	return &client{w: w, load: load, rng: rng, kinds: kinds}
}

// next draws an operation. It depends on nothing but the client's random
// stream, so that a seed replays the same operations.
func (c *client) next() Input {
	p := c.w.Partitions[c.rng.IntN(len(c.w.Partitions))]
	in := Input{Kind: pickWeighted[Kind](c.rng, c.kinds...), Partition: p.Index}
	target := p.Targets[c.rng.IntN(c.load.Targets)]
	space := p.Spaces[c.rng.IntN(c.load.WriteSpaces)]
	switch in.Kind {
	case Add:
		in.Actor, in.Space, in.User, in.Role = c.writer(p), space, target, p.roleFor(target, c.rng)
	case Remove:
		in.Actor, in.Space, in.User = c.writer(p), space, target
	case ListMembers:
		in.Actor, in.Space = c.anyone(p), space
	case OrgAdd:
		in.Actor, in.Org, in.User, in.Role = c.writer(p), p.Org, target, p.roleFor(target, c.rng)
	case OrgRemove:
		in.Actor, in.Org, in.User = c.writer(p), p.Org, target
	case GetSpace:
		in.Actor, in.Space = c.reader(p, target), p.Spaces[c.rng.IntN(len(p.Spaces))]
	case ListSpaces:
		in.Actor = c.reader(p, target)
	}
	return in
}

// writer is the actor of a change.
func (c *client) writer(p *Partition) string {
	if c.rng.IntN(100) < c.load.AdminWrites {
		return p.Admin
	}
	return c.anyone(p)
}

// reader is the actor of a read of spaces.
func (c *client) reader(p *Partition, target string) string {
	if c.rng.IntN(100) < c.load.TargetReads {
		return target
	}
	return c.anyone(p)
}

// anyone is any user of the partition: with authority over every space
// (admin, lead), over none (peer, outsider), or with whatever the history
// has given them (the targets).
func (c *client) anyone(p *Partition) string {
	return pickWeighted[string](c.rng, 15, p.Admin, 20, p.Lead, 15, p.Peer, 10, p.Outsider,
		40, p.Targets[c.rng.IntN(len(p.Targets))])
}
