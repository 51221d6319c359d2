// Package linearizable checks that the membership operations, run
// concurrently through membership.Service on a store, behave as if each
// took effect at one instant between its call and its return, in an order
// that the contract's sequential rules explain.
//
// A history is recorded from many concurrent clients (adds, removes and
// lists of a space's members, adds and removes of organization members, and
// reads of spaces by the users those changes are about), each operation
// with its call and return times, its input and what it observed. The
// sequential model is internal/model's World, which states the contract's
// checks in plain Go without the library's policy; porcupine searches for
// an order of the history that the model accepts. Histories are partitioned
// by organization: each partition is an account of its own with one
// organization, a few users and spaces, and no operation reaches across
// partitions, so each is checked on its own.
//
// Histories are drawn from a seed and a history number, so that a failure
// can be replayed: the same operations, though not the same interleaving.
// A failed check writes porcupine's visualisation to a file. A check that
// does not finish in time fails like one that found a violation: a history
// that could not be checked proves nothing.
package linearizable
