-- Lists of the spaces a caller can see.
--
-- A name filter matches names ignoring case by Unicode simple case folding,
-- which lower() is not: name_fold holds membership.FoldName(name), written by
-- the store with every space, and a filter looks for the folded filter in it.
-- Go code fills it for the rows that exist right after this file runs, in the
-- same transaction, and then makes it NOT NULL, so that a writer that does
-- not fill it is refused rather than listed wrongly. Every writer of spaces
-- must write it as PutSpace does.
ALTER TABLE spaces ADD COLUMN name_fold TEXT;

-- The sources of a list, each read in space id order byte by byte: every
-- space of an account, the spaces of one organization (of each of the
-- actor's organization memberships too), its public spaces alone, and the
-- actor's memberships.
CREATE INDEX spaces_account_list ON spaces (account_id, id COLLATE "C");
CREATE INDEX spaces_organization_list ON spaces (organization_id, id COLLATE "C");
-- The public spaces of an organization: what a plain member of it reads.
CREATE INDEX spaces_public_list ON spaces (organization_id, id COLLATE "C") WHERE NOT is_private;
CREATE INDEX organization_members_user ON organization_members (user_id, organization_id);
CREATE INDEX space_members_user ON space_members (user_id, space_id COLLATE "C");
