-- Sessions: a token names its member and the member's session key, drawn at random by the database when the
-- member joins and drawn again by signOutEverywhere. A key is never reused, so a token never authenticates
-- another member than its own: not after a restore from a backup, a recreated database, or a copy (the key
-- travels with the row). sessions_revoked_at (real time, seconds) refuses identity-provider tokens issued
-- before it.
ALTER TABLE members ADD COLUMN session_key TEXT CHECK (session_key IS NULL OR length(session_key) = 32);
ALTER TABLE members ADD COLUMN sessions_revoked_at INTEGER;
UPDATE members SET session_key = lower(hex(randomblob(16)));

-- SQLite cannot add a column with a random default: a new member's key is drawn right after the insert.
CREATE TRIGGER members_session_key_drawn AFTER INSERT ON members
WHEN NEW.session_key IS NULL
BEGIN
    UPDATE members SET session_key = lower(hex(randomblob(16))) WHERE id = NEW.id;
END;

CREATE TRIGGER members_session_key_kept BEFORE UPDATE OF session_key ON members
WHEN NEW.session_key IS NULL
BEGIN
    SELECT RAISE(ABORT, 'a member always has a session key');
END;
