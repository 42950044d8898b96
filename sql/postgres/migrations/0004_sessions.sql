-- Sessions: a token names its member and the member's session key, drawn at random by the database when the
-- member joins and drawn again by signOutEverywhere. A key is never reused, so a token never authenticates
-- another member than its own: not after a restore from a backup, a recreated database, or a copy (the key
-- travels with the row). sessions_revoked_at (real time, seconds) refuses identity-provider tokens issued
-- before it.
ALTER TABLE members ADD COLUMN session_key text NOT NULL DEFAULT replace(gen_random_uuid()::text, '-', '')
    CHECK (length(session_key) = 32);
ALTER TABLE members ADD COLUMN sessions_revoked_at bigint;
