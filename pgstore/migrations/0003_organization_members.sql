-- Organization memberships become records of their own, with an id that an
-- upsert keeps, and spaces gain their description and creation time.
--
-- The invariant of the membership cascade, no space membership whose user
-- is not a member of the space's organization, is held by the database
-- itself: each space membership names its organization, and refers to the
-- organization membership of its user there. An add that races the removal
-- of that organization membership either commits first (its foreign key
-- check holds a KEY SHARE lock on the organization membership until then,
-- and the removal then cascades over it or, in REPEATABLE READ, fails with a
-- serialization error and is tried again) or comes after it and is refused.

-- Existing organization memberships get generated ids: 16 bytes of md5 over
-- randomness, the time and the row's own key, in standard base64 like every
-- other id. pgcrypto's gen_random_bytes is not used: the extension may not
-- be installed, and creating it needs rights the store may not have.
ALTER TABLE organization_members ADD COLUMN id TEXT;
UPDATE organization_members
SET id = encode(decode(md5(random()::text || clock_timestamp()::text || organization_id || ' ' || user_id), 'hex'), 'base64');
ALTER TABLE organization_members ALTER COLUMN id SET NOT NULL;
ALTER TABLE organization_members ADD CONSTRAINT organization_members_id_key UNIQUE (id);

-- Existing spaces get an empty description and the time of the migration
-- as their creation time: when they were created is not known.
ALTER TABLE spaces
    ADD COLUMN description TEXT NOT NULL DEFAULT '',
    ADD COLUMN created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ADD CONSTRAINT spaces_id_organization_key UNIQUE (id, organization_id);

ALTER TABLE space_members ADD COLUMN organization_id TEXT;
UPDATE space_members AS sm SET organization_id = sp.organization_id FROM spaces AS sp WHERE sp.id = sm.space_id;
ALTER TABLE space_members ALTER COLUMN organization_id SET NOT NULL;

-- A space that moves to another organization takes its memberships along;
-- each must then rest on a membership of the new organization.
ALTER TABLE space_members ADD CONSTRAINT space_members_space_organization_fkey
    FOREIGN KEY (space_id, organization_id) REFERENCES spaces (id, organization_id)
    ON UPDATE CASCADE ON DELETE CASCADE;

-- NOT VALID: a database written before this migration may hold space
-- memberships of users who are not members of the space's organization.
-- Those memberships are kept, not deleted; the constraint holds every row
-- written from now on, and deleting an organization membership cascades to
-- the space memberships that rest on it, old rows included.
ALTER TABLE space_members ADD CONSTRAINT space_members_organization_member_fkey
    FOREIGN KEY (organization_id, user_id) REFERENCES organization_members (organization_id, user_id)
    ON DELETE CASCADE NOT VALID;

-- The cascade of an organization removal finds the user's space
-- memberships in that organization through this index, and so does the
-- foreign key's own cascade.
CREATE INDEX space_members_organization_user ON space_members (organization_id, user_id);
