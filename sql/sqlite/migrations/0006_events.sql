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

-- Webhooks (the Standard Webhooks specification). An endpoint receives the events of its types while enabled;
-- `deleted_at` retires it (its deliveries stay for the record). Secrets are `whsec_` + base64; after a rotation
-- the previous secret signs too until `previous_until` (real time).
CREATE TABLE webhook_endpoints (
    id              INTEGER PRIMARY KEY,
    url             TEXT    NOT NULL CHECK (url LIKE 'http://%' OR url LIKE 'https://%'),
    event_types     TEXT    NOT NULL CHECK (json_valid(event_types) AND json_array_length(event_types) > 0),
    enabled         INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    description     TEXT,
    secret          TEXT    NOT NULL CHECK (secret LIKE 'whsec_%'),
    previous_secret TEXT,
    previous_until  INTEGER,
    created_at      INTEGER NOT NULL,
    deleted_at      INTEGER,
    idempotency_key TEXT    UNIQUE
);

-- One attempt plan per (endpoint, event), and one more per redelivery. Times are real time (seconds), never
-- the test clock: signatures stay verifiable and retries happen while test time stands still. A process
-- leases a delivery (`leased_until`) while it attempts it; a lease that runs out (a process killed
-- mid-delivery) lets another process, or the same one restarted, attempt it again with the same webhook-id.
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY,
    endpoint_id      INTEGER NOT NULL REFERENCES webhook_endpoints (id),
    event_id         INTEGER NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED')),
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  INTEGER,
    last_attempt_at  INTEGER,
    last_status_code INTEGER,
    last_error       TEXT,
    leased_until     INTEGER,
    created_at       INTEGER NOT NULL,
    CHECK ((status = 'PENDING') = (next_attempt_at IS NOT NULL))
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, id);

-- Fan-out in the event's own transaction: every enabled endpoint of the event's type gets a delivery.
CREATE TRIGGER events_fan_out AFTER INSERT ON events
BEGIN
    INSERT INTO webhook_deliveries (endpoint_id, event_id, next_attempt_at, created_at)
    SELECT w.id, NEW.id, CAST(strftime('%s', 'now') AS INTEGER), CAST(strftime('%s', 'now') AS INTEGER)
      FROM webhook_endpoints AS w
     WHERE w.enabled = 1 AND w.deleted_at IS NULL
       AND EXISTS (SELECT 1 FROM json_each(w.event_types) AS t WHERE t.value = NEW.type);
END;

-- How far the events are published to NATS JetStream (INVITE_CREDITS_NATS_URL): the feed position of the last
-- event the broker acknowledged. Processes advance it by compare-and-set; one that loses a race has published
-- a batch twice, which JetStream drops by its Nats-Msg-Id.
CREATE TABLE broker_cursor (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    tx       INTEGER NOT NULL,
    event_id INTEGER NOT NULL
);
INSERT INTO broker_cursor (id, tx, event_id) VALUES (1, 0, 0);
