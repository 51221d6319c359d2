// Package pgstore is a membership.Store on PostgreSQL, through
// github.com/jackc/pgx/v5, for services that run as more than one process
// on one database. It also implements membership.Seeder, so that
// fixture.Seed and the conformance suite of package storetest work on it.
//
// Open connects (Store owns the pool), New wraps a pool the host owns,
// Migrate creates or updates the schema, Close closes what Open opened:
//
//	store, err := pgstore.Open(ctx, "postgres://app@db.internal/app?search_path=spaceauthz")
//	...
//	defer store.Close()
//	if err := store.Migrate(ctx); err != nil { ... }
//	svc, err := membership.NewService(store, engine)
//
// A Store is safe for concurrent use by any number of goroutines, and any
// number of Stores, in one process or in many, may work on one database:
// every guarantee below holds between replicas, because it is the
// database's.
//
// # Schema
//
// The schema is a sequence of SQL migrations embedded in the package
// (migrations/NNNN_name.sql), applied by Migrate in the schema that the
// connections' search_path selects and recorded in table
// pgstore_migrations. Migrate is idempotent and safe to run from several
// replicas at once; a database with a newer schema than the package knows is
// refused. There is one table per record of the domain: accounts,
// users, organizations, custom_roles (permissions as a TEXT[] array),
// organization_members, spaces and space_members, and the audit log's
// audit_entries and audit_entry_removals. IDs are the opaque base64
// strings, as TEXT; enum values are stored in their upper-case spelling.
//
// The schema holds the rules a database can hold on its own:
//   - one membership per (space, user): UNIQUE (space_id, user_id);
//   - account scoping: users, organizations and custom roles carry their
//     account_id, and organization members, spaces and space members carry
//     the account of the records they join, with every reference to a user,
//     organization, space or (for space members) custom role made through
//     (account_id, id), so that no membership or space can cross accounts,
//     whoever writes it;
//   - a role is either predefined (a CHECKed name) or custom, never both;
//   - no space membership whose user is not a member of the space's
//     organization: a space member carries its space's organization_id and
//     refers to (organization_id, user_id) of organization_members, ON
//     DELETE CASCADE. A database migrated from a schema without that key
//     keeps the space memberships that broke the rule (the key is NOT
//     VALID for the rows that existed before it), and holds every row
//     written since.
//
// The Seeder writes therefore need what a record refers to to exist
// (fixture.Seed writes in that order), and a write that crosses accounts
// fails with the foreign key violation. An organization member's custom role
// has no foreign key, so that the facts can report a grant of a role that
// no longer exists, as the membership.Facts contract allows.
//
// # Atomicity
//
// Read is one round trip: a read-only REPEATABLE READ transaction whose
// BEGIN, facts SELECT, page SELECT and COMMIT are pipelined, so that the
// facts and the page come from one snapshot.
//
// Write runs one REPEATABLE READ transaction in two round trips (pgx
// batches, pipelined): BEGIN and one SELECT that gathers every fact with
// LEFT JOINs; then, after decide returned with no lock held, the row locks
// on every record behind the facts (SELECT ... FOR SHARE; the membership
// to change FOR NO KEY UPDATE, or FOR UPDATE when it is removed), the
// INSERT ... ON CONFLICT (space_id, user_id) DO UPDATE or the DELETE, and
// COMMIT. In REPEATABLE READ a lock on a row that changed or went after the
// facts were read fails with SQLSTATE 40001, and a change that comes after
// the lock waits for the commit: the write commits only on facts that are
// still current, and a demotion, a user leaving the organization or an
// account role turning ANNOTATOR that commits before the write makes it
// start again on fresh facts and call decide again. A membership of the
// target that appears after the facts were read makes the upsert fail with
// 40001 too (REPEATABLE READ will not update a row its snapshot does not
// see). Other rows that were absent are not locked, since PostgreSQL locks
// rows, not their absence; that is the narrowing membership.Store allows.
// Lost races (40001, 40P01) are retried up to WithMaxRetries times with
// jittered exponential backoff (WithRetryBackoff). A denied write costs the
// first round trip and a ROLLBACK. The first write on a connection also
// prepares its statements, one more round trip per batch.
//
// An organization operation works the same way on the organization's
// records: its upsert is an INSERT ... ON CONFLICT (organization_id,
// user_id) DO UPDATE that keeps the membership's id, and its removal locks
// the organization membership FOR UPDATE, then deletes, in the same second
// round trip, the user's memberships of the organization's spaces
// (DELETE ... RETURNING) and the organization membership, and commits: two
// round trips however many space memberships go with it. A space add that
// races it either commits first, its foreign key check holding a KEY SHARE
// lock on the organization membership until then, and the removal's own
// foreign key cascade, finding a membership its snapshot does not hold,
// fails with 40001 and is retried on facts that hold it; or it commits
// after, and its lock or foreign key check fails (40001, retried on facts
// without the organization membership, or the foreign key violation, which
// answers membership.ErrUserNotInOrganization).
//
// SERIALIZABLE is not used, because it would not be enough: PostgreSQL's
// serializable snapshot isolation lets an add whose facts were read before
// a demotion commit after it (ordering the add first is serializable), which
// the membership.Store contract forbids; and it would abort concurrent adds
// to one space on shared index pages. The row locks give the guarantee, the
// snapshot gives the 40001.
//
// # Audit log
//
// Every write that changes a membership inserts its entry into
// audit_entries in its own transaction, in the same second round trip, as
// the statement just before COMMIT; a cascade records the space
// memberships it removed in audit_entry_removals, from the rows its DELETE
// ... RETURNING gives, in the statement that deletes them. A change and its
// entry commit together or not at all, a lost connection included.
//
// An entry's position orders the entries of its account in commit order.
// A position taken from a sequence early in the transaction would not: two
// writers take 5 and 6, 6 commits first, and a reader that saw 6 resumes
// after it and never sees 5. So the entry's statement first takes
// pg_advisory_xact_lock on a key hashed from the account id (seeded with
// the table's OID, so that stores in different schemas do not share
// keys), then nextval of audit_entry_positions (CACHE 1: cached values
// would break the order) and clock_timestamp() for the time. The lock is
// held until the commit is visible, so a snapshot that holds an entry
// holds every entry of the account with a smaller position. Every row lock
// of the write comes before that statement, and the entry table has no
// foreign keys, so nothing waits on a row while holding the advisory lock:
// the commits of one account queue on it for the time of that statement
// and the COMMIT, WAL flush included, and never for a network round trip
// (the COMMIT is pipelined in the same batch). That bounds the commits of
// one account per second by the commit latency of the database; other
// accounts do not wait. Positions are not consecutive: a write that takes
// one and then fails leaves a hole.
//
// AuditLog is one round trip, like Read: a read-only REPEATABLE READ
// transaction with the actor's row and one page of entries, walked by
// (account_id, position) forward for the changelog or backward for the log,
// or by (account_id, actor_id, position) for the log of one actor. The time
// window is a filter on created_at, whose microseconds are what the
// database keeps.
//
// Entries never change. Migrate revokes UPDATE, DELETE and TRUNCATE on the
// two tables from the role it runs as, which owns them, so that a mistaken
// statement fails instead of rewriting history; a superuser is not bound
// by privileges, and an owner may grant the rights back (for a retention
// job). A store whose role does not own the tables needs SELECT and INSERT
// on them and USAGE on the sequence.
//
// # Lists of spaces
//
// ListSpaces with an exact filter is one statement, so one round trip and
// one snapshot. The actor's row comes from a CTE, LEFT JOINed so that it
// comes back when no space does; beside it, through a LEFT JOIN LATERAL,
// the first spaces in id order (byte order, COLLATE "C") of the union of
// the sources that the filter's Condition.Plan names. Each source is a
// subquery driven by an index made for it: the account's spaces by
// (account_id, id), an organization's by (organization_id, id), one space
// by its key, the spaces of the actor's organization memberships through
// organization_members (user_id, organization_id), those of the actor's
// space memberships through space_members (user_id, space_id). Each joins
// the facts a read of the space gathers (its organization, the actor's
// grants in both, their custom roles), keeps the rows on which the
// condition, rendered to SQL, holds, and stops at the page's end. A
// source's guard reads the actor's row alone, so PostgreSQL decides it once
// (a one-time filter) and reads nothing of a source whose guard is false: a
// caller who sees 1% of an account reads about 1% of its spaces.
//
// The condition's SQL is exactly membership.Condition's semantics: each
// field is described by the kinds of value it can hold and when it holds
// each (a grant not held is null, its fields absent), an atom is false where
// an operand is absent before its negation, a comparison of values of
// different kinds is decided while rendering by the kind order, strings
// compare byte by byte, and constants are bind parameters.
//
// A name filter matches the column name_fold, which PutSpace fills with
// membership.FoldName of the name (lower() does not fold as Unicode
// simple case folding does; Migrate fills the column of the spaces that
// exist when it adds it), with LIKE and the filter's %, _ and \ escaped.
// A writer of spaces other than PutSpace must fill it the same way.
//
// With a decision, the same statement reads the candidates in batches,
// inside one REPEATABLE READ READ ONLY transaction, and decide runs on each
// candidate's facts, those Read returns, until the page is full.
//
// # Errors
//
// decide's error is returned unchanged. A lost connection, a pool without a
// free connection for WithAcquireTimeout, a server that is shutting down,
// overloaded or timing a statement out, and retries spent are errors that
// wrap membership.ErrUnavailable (the service answers 503). A done context
// gives an error that wraps the context's. Other errors (a constraint
// violation, a schema that was not migrated) are returned wrapped, as
// internal errors. Nothing is written on any failure, except that a
// connection lost while COMMIT is in flight leaves the outcome unknown; an
// add is idempotent and a repeated remove answers 404, so either can be
// retried.
//
// # Portability
//
// The SQL is written to run unchanged on CockroachDB and YugabyteDB, the
// distributed engines that speak PostgreSQL's protocol and dialect: TEXT,
// BOOLEAN and TEXT[] columns, composite foreign keys, no sequences as
// defaults (IDs are random 128-bit values made in Go, which also spreads
// writes over ranges), no triggers, no stored procedures. Where PostgreSQL's
// dialect is needed, the form chosen is one those engines implement, with
// these caveats (only PostgreSQL is tested):
//
//   - The audit log's commit order rests on PostgreSQL's transaction
//     advisory locks, hashtextextended and a sequence used under them
//     (see Audit log). CockroachDB does not implement advisory locks and
//     YugabyteDB only recently does; neither is known to make a lock
//     released at commit order the visibility of commits as PostgreSQL
//     does. On those engines the changelog's promise does not hold as
//     written.
//   - INSERT ... ON CONFLICT ... DO UPDATE ... excluded: PostgreSQL syntax,
//     implemented by CockroachDB and YugabyteDB; there is no portable
//     upsert in standard SQL that they all run (MERGE is missing from
//     CockroachDB).
//   - SELECT ... FOR SHARE and FOR NO KEY UPDATE: CockroachDB ignores FOR
//     SHARE under SERIALIZABLE unless enable_shared_locking_for_serializable
//     is on, and a write would then not see a demotion committed during its
//     decision; set it for the store's connections (ALTER ROLE ... SET, or
//     options=-c enable_shared_locking_for_serializable=on, URL-encoded, in
//     the DSN). CockroachDB takes FOR NO KEY UPDATE as FOR UPDATE.
//   - BEGIN ISOLATION LEVEL REPEATABLE READ: YugabyteDB runs it as snapshot
//     isolation, like PostgreSQL. CockroachDB runs it as SERIALIZABLE
//     unless its repeatable-read isolation is enabled; with the shared locks
//     above, a lock on a row written after the transaction's read timestamp
//     forces a refresh that fails with 40001, which is retried as here.
//   - TEXT[] for a custom role's permissions: both support arrays of
//     strings. A list's condition may test a permission with = ANY and
//     compare arrays (slices, cardinality), which only PostgreSQL is
//     tested with.
//   - A list's statement uses a MATERIALIZED CTE, LEFT JOIN LATERAL and
//     UNION of ORDER BY ... LIMIT subqueries; PostgreSQL skips a source
//     whose guard is false, and another engine may read it for nothing.
//   - Migrations run their DDL inside a transaction. CockroachDB and
//     YugabyteDB limit transactional DDL (a failed migration may have to be
//     cleaned up by hand there); run Migrate once per deploy rather than from
//     every replica at once.
//   - Foreign keys with ON DELETE CASCADE and NOT VALID, and the
//     organization removal's reliance on PostgreSQL failing a REPEATABLE
//     READ cascade that meets a row its snapshot does not hold: both
//     engines implement such keys, but how their cascade meets a row
//     written after the transaction's snapshot is not tested here.
//   - search_path as a startup parameter, to give the store a schema of its
//     own: PostgreSQL and YugabyteDB take it from the DSN
//     (?search_path=...); CockroachDB from options=-c search_path=...
//
// The retry codes 40001 and 40P01 are the ones all three use for a
// transaction that must be retried.
package pgstore
