-- The records of the domain (docs/contract.md). IDs are the opaque base64 strings, kept as
-- TEXT; enum values use the upper-case spelling.
--
-- Account scoping: every table below accounts carries the account_id of the
-- record it belongs to, and each reference to a user, an organization, a
-- space or a custom role goes through (account_id, id), so the database
-- itself refuses a membership, a space or an organization member that
-- crosses accounts. The UNIQUE (account_id, id) constraints exist to be the
-- targets of those references.

CREATE TABLE accounts (
    id TEXT PRIMARY KEY
);

CREATE TABLE users (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('ADMIN', 'MEMBER', 'ANNOTATOR')),
    UNIQUE (account_id, id)
);

CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    name       TEXT NOT NULL,
    UNIQUE (account_id, id)
);

-- permissions is an array rather than a join table: a role is read and
-- written whole, the policy needs the list in its stored order, and one
-- column keeps the fact-gathering query to one row.
CREATE TABLE custom_roles (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    name        TEXT NOT NULL,
    permissions TEXT[] NOT NULL,
    UNIQUE (account_id, id)
);

-- A role is either predefined_role or custom_role_id. custom_role_id has no
-- foreign key here: an organization membership is the host's record and may
-- name a custom role that no longer exists (the facts then carry the grant
-- without its role).
CREATE TABLE organization_members (
    organization_id TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    account_id      TEXT NOT NULL,
    predefined_role TEXT CHECK (predefined_role IN ('ADMIN', 'MEMBER', 'READ_ONLY', 'ANNOTATOR')),
    custom_role_id  TEXT,
    PRIMARY KEY (organization_id, user_id),
    FOREIGN KEY (account_id, organization_id) REFERENCES organizations (account_id, id) ON DELETE CASCADE,
    FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id) ON DELETE CASCADE,
    CHECK ((predefined_role IS NULL AND custom_role_id IS NOT NULL)
        OR (predefined_role IS NOT NULL AND custom_role_id IS NULL))
);

CREATE TABLE spaces (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    name            TEXT NOT NULL,
    is_private      BOOLEAN NOT NULL,
    UNIQUE (account_id, id),
    FOREIGN KEY (account_id, organization_id) REFERENCES organizations (account_id, id) ON DELETE CASCADE
);

-- The memberships AddUserToSpace upserts: at most one per (space, user).
-- Unlike an organization member, a space member's custom role must exist in
-- the space's account: pgstore writes one only after the policy found the
-- role there, and the foreign key holds the same line for every writer.
CREATE TABLE space_members (
    id              TEXT PRIMARY KEY,
    space_id        TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    account_id      TEXT NOT NULL,
    predefined_role TEXT CHECK (predefined_role IN ('ADMIN', 'MEMBER', 'READ_ONLY', 'ANNOTATOR')),
    custom_role_id  TEXT,
    UNIQUE (space_id, user_id),
    FOREIGN KEY (account_id, space_id) REFERENCES spaces (account_id, id) ON DELETE CASCADE,
    FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id) ON DELETE CASCADE,
    FOREIGN KEY (account_id, custom_role_id) REFERENCES custom_roles (account_id, id),
    CHECK ((predefined_role IS NULL AND custom_role_id IS NOT NULL)
        OR (predefined_role IS NOT NULL AND custom_role_id IS NULL))
);
