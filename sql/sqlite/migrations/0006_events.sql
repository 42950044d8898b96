-- Events out: a transactional outbox. Every change worth telling another system is a row of `events`, written
-- by a trigger on the row that changed, so it commits, or rolls back, with the change: whatever code path
-- wrote it. `data` holds the raw values (the service renders the API's IDs and times when it serves them);
-- `tx` orders the feed (0 on SQLite, where the one writer commits in id order; the transaction's id on
-- PostgreSQL). The sweep writes CREDITS_EXPIRING_SOON itself, once per lot and expiry date (`dedupe`).

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    tx          INTEGER NOT NULL DEFAULT 0,
    type        TEXT    NOT NULL CHECK (type IN (
                    'MEMBER_SIGNED_UP', 'LEDGER_ENTRY_ADDED', 'INVITATION_SENT', 'INVITATION_ACCEPTED',
                    'INVITATION_DECLINED', 'INVITATION_WITHDRAWN', 'CREDITS_EXPIRING_SOON', 'MEMBER_TIER_CHANGED')),
    occurred_at INTEGER NOT NULL,
    member_id   INTEGER REFERENCES members (id),
    data        TEXT    NOT NULL CHECK (json_valid(data)),
    dedupe      TEXT
);
-- (No index on (tx, id): tx is always 0 here, so the primary key orders the feed.)
-- One CREDITS_EXPIRING_SOON per lot and expiry date; other events carry no dedupe key and skip this index.
CREATE UNIQUE INDEX events_dedupe ON events (dedupe) WHERE dedupe IS NOT NULL;

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are never changed');
END;

-- How far retention has pruned the feed: a cursor before it missed events and is refused.
CREATE TABLE events_pruned (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    through_id INTEGER NOT NULL
);

-- When a member's tier last changed (the time MEMBER_TIER_CHANGED carries).
-- How far the sweep has written CREDITS_EXPIRING_SOON: lots expiring up to `through`, as of `at`.
CREATE TABLE expiry_notices (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    through INTEGER NOT NULL,
    at      INTEGER NOT NULL
);

ALTER TABLE members ADD COLUMN tier_changed_at INTEGER;

CREATE TRIGGER events_member_signed_up AFTER INSERT ON members
BEGIN
    INSERT INTO events (type, occurred_at, member_id, data)
    VALUES ('MEMBER_SIGNED_UP', NEW.joined_at, NEW.id,
            json_object('member', NEW.id, 'tier', NEW.tier, 'referredBy', NEW.referred_by, 'joinedAt', NEW.joined_at));
END;

CREATE TRIGGER events_member_tier_changed AFTER UPDATE OF tier ON members
WHEN NEW.tier IS NOT OLD.tier
BEGIN
    INSERT INTO events (type, occurred_at, member_id, data)
    VALUES ('MEMBER_TIER_CHANGED', coalesce(NEW.tier_changed_at, NEW.joined_at), NEW.id,
            json_object('member', NEW.id, 'before', OLD.tier, 'after', NEW.tier));
END;

-- The entry itself is append-only: the event names it, and the service renders its fields when it serves it.
CREATE TRIGGER events_ledger_entry_added AFTER INSERT ON ledger_entries
BEGIN
    INSERT INTO events (type, occurred_at, member_id, data)
    VALUES ('LEDGER_ENTRY_ADDED', NEW.occurred_at, NEW.member_id, json_object('entry', NEW.id));
END;

CREATE TRIGGER events_invitation_sent AFTER INSERT ON invitations
BEGIN
    INSERT INTO events (type, occurred_at, member_id, data)
    VALUES ('INVITATION_SENT', NEW.sent_at, NEW.inviter_id,
            json_object('invitation', NEW.id, 'inviter', NEW.inviter_id, 'invitee', NEW.invitee_id,
                        'status', NEW.status, 'creditsSpent', NEW.credits_spent, 'sentAt', NEW.sent_at,
                        'respondedAt', NEW.responded_at));
END;

CREATE TRIGGER events_invitation_answered AFTER UPDATE OF status ON invitations
WHEN OLD.status = 'PENDING' AND NEW.status <> 'PENDING'
BEGIN
    INSERT INTO events (type, occurred_at, member_id, data)
    VALUES ('INVITATION_' || NEW.status, NEW.responded_at,
            CASE NEW.status WHEN 'WITHDRAWN' THEN NEW.inviter_id ELSE NEW.invitee_id END,
            json_object('invitation', NEW.id, 'inviter', NEW.inviter_id, 'invitee', NEW.invitee_id,
                        'status', NEW.status, 'creditsSpent', NEW.credits_spent, 'sentAt', NEW.sent_at,
                        'respondedAt', NEW.responded_at));
END;
