-- The audit log: one entry per change that changed a membership, written
-- in the change's own transaction (Store.Write), and never changed after.
--
-- position orders the entries of an account in commit order. A plain
-- sequence default would not: two writers take 5 and 6, 6 commits first, a
-- reader that sees 6 resumes after it and never sees 5. So the writer takes
-- its position in the last statement before COMMIT, while it holds a
-- transaction advisory lock on its account, held until its commit is
-- visible: an entry is then visible only after every entry of its account
-- with a smaller position. CACHE 1 is part of that design: a session that
-- cached values would hand out a position below one another session has
-- already committed.
CREATE SEQUENCE audit_entry_positions AS BIGINT CACHE 1;

-- An entry copies the ids it names and refers to nothing: it outlives the
-- memberships, spaces and users it names, and a foreign key check would
-- take a row lock after the advisory lock (see above), where no statement
-- may wait. The roles are stored as space_members stores them, NULL in both
-- columns for none; ip and body are NULL for none.
CREATE TABLE audit_entries (
    id                     TEXT PRIMARY KEY,
    position               BIGINT NOT NULL,
    account_id             TEXT NOT NULL,
    created_at             TIMESTAMPTZ NOT NULL,
    actor_id               TEXT NOT NULL,
    ip                     TEXT,
    body                   TEXT,
    operation              TEXT NOT NULL CHECK (operation IN ('add', 'remove', 'org_add', 'org_remove')),
    space_id               TEXT,
    organization_id        TEXT,
    user_id                TEXT NOT NULL,
    predefined_role_before TEXT CHECK (predefined_role_before IN ('ADMIN', 'MEMBER', 'READ_ONLY', 'ANNOTATOR')),
    custom_role_id_before  TEXT,
    predefined_role_after  TEXT CHECK (predefined_role_after IN ('ADMIN', 'MEMBER', 'READ_ONLY', 'ANNOTATOR')),
    custom_role_id_after   TEXT,
    CHECK (predefined_role_before IS NULL OR custom_role_id_before IS NULL),
    CHECK (predefined_role_after IS NULL OR custom_role_id_after IS NULL),
    CHECK ((space_id IS NULL) <> (organization_id IS NULL))
);
-- The changelog walks an account's entries forward from a position, the
-- log backward from one; a B-tree serves both directions. The second index
-- serves the log filtered by actor.
CREATE UNIQUE INDEX audit_entries_account_position ON audit_entries (account_id, position);
CREATE INDEX audit_entries_account_actor_position ON audit_entries (account_id, actor_id, position);

-- The space memberships an organization removal's cascade removed, one row
-- each, written by the statement that deletes them (from its DELETE ...
-- RETURNING) in the transaction of their entry, and read back with it.
CREATE TABLE audit_entry_removals (
    entry_id        TEXT NOT NULL,
    space_id        TEXT NOT NULL,
    membership_id   TEXT NOT NULL,
    predefined_role TEXT CHECK (predefined_role IN ('ADMIN', 'MEMBER', 'READ_ONLY', 'ANNOTATOR')),
    custom_role_id  TEXT,
    PRIMARY KEY (entry_id, space_id),
    CHECK ((predefined_role IS NULL AND custom_role_id IS NOT NULL)
        OR (predefined_role IS NOT NULL AND custom_role_id IS NULL))
);

-- Entries never change: the store only inserts and reads them. The role
-- that migrates (the tables' owner, which is usually the store's own) loses
-- the right to change or delete them, so that a mistaken statement fails
-- rather than rewrites history. An owner may grant the rights back, for a
-- retention job say; a superuser is not held by privileges at all.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_entries, audit_entry_removals FROM CURRENT_USER;
