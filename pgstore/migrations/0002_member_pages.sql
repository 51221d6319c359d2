-- Pages of a space's members are read in user id order, byte by byte (the
-- order memstore uses too, whatever the database's collation), after the
-- last user of the previous page. This index serves that scan.
CREATE INDEX space_members_page ON space_members (space_id, user_id COLLATE "C");
