-- The whole first schema. Times are whole seconds since the Unix epoch, UTC.
-- Invariants the code must keep are repeated here so the database refuses
-- what the code should never do.

CREATE TABLE members (
    id              INTEGER PRIMARY KEY,
    email           TEXT    NOT NULL UNIQUE CHECK (email = lower(trim(email)) AND length(email) > 0),
    name            TEXT    NOT NULL CHECK (length(trim(name)) > 0),
    tier            TEXT    NOT NULL DEFAULT 'FREE' CHECK (tier IN ('FREE', 'PREMIUM', 'RECRUITER')),
    referral_code   TEXT    NOT NULL UNIQUE,
    referred_by     INTEGER REFERENCES members (id),
    joined_at       INTEGER NOT NULL,
    headline        TEXT,
    about           TEXT,
    location        TEXT,
    experience      TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(experience)),
    education       TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(education)),
    skills          TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(skills))
);

CREATE TRIGGER members_no_delete BEFORE DELETE ON members
BEGIN
    SELECT RAISE(ABORT, 'members are never deleted');
END;

-- One lot per grant that added credits.
CREATE TABLE credit_lots (
    id          INTEGER PRIMARY KEY,
    member_id   INTEGER NOT NULL REFERENCES members (id),
    reason      TEXT    NOT NULL,
    amount      INTEGER NOT NULL CHECK (amount > 0),
    remaining   INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= amount),
    granted_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL CHECK (expires_at > granted_at),
    -- 1 once an EXPIRED entry has written off what was left at expires_at.
    written_off INTEGER NOT NULL DEFAULT 0 CHECK (written_off IN (0, 1)),
    CHECK (written_off = 0 OR remaining > 0)
);

-- Lots that still count: the balance read and spending walk this index only.
CREATE INDEX credit_lots_live ON credit_lots (member_id, expires_at, id)
    WHERE remaining > 0 AND written_off = 0;
-- Lots the expiry sweep has to write off, oldest expiry first.
CREATE INDEX credit_lots_due ON credit_lots (expires_at, member_id)
    WHERE remaining > 0 AND written_off = 0;
CREATE INDEX credit_lots_by_member ON credit_lots (member_id, id);

CREATE TRIGGER credit_lots_no_delete BEFORE DELETE ON credit_lots
BEGIN
    SELECT RAISE(ABORT, 'credit lots are never deleted');
END;

CREATE TRIGGER credit_lots_fixed_fields BEFORE UPDATE ON credit_lots
WHEN NEW.member_id IS NOT OLD.member_id OR NEW.reason IS NOT OLD.reason OR NEW.amount IS NOT OLD.amount
  OR NEW.granted_at IS NOT OLD.granted_at OR NEW.expires_at IS NOT OLD.expires_at
BEGIN
    SELECT RAISE(ABORT, 'a lot''s grant is immutable');
END;

CREATE TRIGGER credit_lots_only_decrease BEFORE UPDATE OF remaining ON credit_lots
WHEN NEW.remaining > OLD.remaining
BEGIN
    SELECT RAISE(ABORT, 'a lot''s remaining credits never grow');
END;

CREATE TRIGGER credit_lots_written_off_is_final BEFORE UPDATE ON credit_lots
WHEN OLD.written_off = 1
BEGIN
    SELECT RAISE(ABORT, 'a written-off lot never changes');
END;

CREATE TABLE invitations (
    id                INTEGER PRIMARY KEY,
    inviter_id        INTEGER NOT NULL REFERENCES members (id),
    invitee_id        INTEGER NOT NULL REFERENCES members (id),
    status            TEXT    NOT NULL DEFAULT 'PENDING'
                      CHECK (status IN ('PENDING', 'ACCEPTED', 'DECLINED', 'WITHDRAWN')),
    message           TEXT,
    follow_up_message TEXT,
    sent_at           INTEGER NOT NULL,
    responded_at      INTEGER,
    credits_spent     INTEGER NOT NULL CHECK (credits_spent >= 0),
    CHECK (inviter_id <> invitee_id),
    CHECK ((status = 'PENDING') = (responded_at IS NULL))
);

-- At most one pending invitation between two members, in either direction.
CREATE UNIQUE INDEX invitations_one_pending
    ON invitations (min(inviter_id, invitee_id), max(inviter_id, invitee_id))
    WHERE status = 'PENDING';
CREATE INDEX invitations_by_inviter ON invitations (inviter_id, id);
CREATE INDEX invitations_by_invitee ON invitations (invitee_id, id);

CREATE TRIGGER invitations_no_delete BEFORE DELETE ON invitations
BEGIN
    SELECT RAISE(ABORT, 'invitations are never deleted');
END;

CREATE TRIGGER invitations_answer_once BEFORE UPDATE OF status ON invitations
WHEN OLD.status <> 'PENDING' AND NEW.status IS NOT OLD.status
BEGIN
    SELECT RAISE(ABORT, 'an invitation is answered once');
END;

CREATE TRIGGER invitations_follow_up_once BEFORE UPDATE OF follow_up_message ON invitations
WHEN OLD.follow_up_message IS NOT NULL AND NEW.follow_up_message IS NOT OLD.follow_up_message
BEGIN
    SELECT RAISE(ABORT, 'an invitation takes one follow-up');
END;

-- A connection is stored once from each side, so "my connections" and
-- "do we share a connection" are both index lookups.
CREATE TABLE connections (
    id            INTEGER PRIMARY KEY,
    member_id     INTEGER NOT NULL REFERENCES members (id),
    other_id      INTEGER NOT NULL REFERENCES members (id),
    invitation_id INTEGER NOT NULL REFERENCES invitations (id),
    connected_at  INTEGER NOT NULL,
    CHECK (member_id <> other_id),
    UNIQUE (member_id, other_id)
);
CREATE INDEX connections_by_member ON connections (member_id, id);

CREATE TABLE ledger_entries (
    id                 INTEGER PRIMARY KEY,
    member_id          INTEGER NOT NULL REFERENCES members (id),
    occurred_at        INTEGER NOT NULL,
    reason             TEXT    NOT NULL CHECK (reason IN (
                           'SIGNUP', 'INVITATION_ACCEPTED', 'CONTACTS_IMPORTED', 'COMPANY_FOLLOWED',
                           'PROFILE_COMPLETED', 'DISCUSSION', 'REFERRAL', 'INVITATION_SENT', 'EXPIRED',
                           'ADMIN_ADJUSTMENT')),
    amount             INTEGER NOT NULL,
    requested          INTEGER NOT NULL,
    balance_after      INTEGER NOT NULL CHECK (balance_after >= 0),
    lot_id             INTEGER REFERENCES credit_lots (id),
    invitation_id      INTEGER REFERENCES invitations (id),
    company_id         INTEGER,
    post_id            INTEGER,
    referred_member_id INTEGER REFERENCES members (id),
    contacts_count     INTEGER,
    note               TEXT,
    -- Grants add what they granted, at most what was requested.
    CHECK (reason IN ('INVITATION_SENT', 'EXPIRED', 'ADMIN_ADJUSTMENT') OR (amount >= 0 AND requested >= amount)),
    CHECK (reason <> 'INVITATION_SENT' OR (amount < 0 AND requested = amount)),
    CHECK (reason <> 'EXPIRED' OR (amount < 0 AND requested = amount AND lot_id IS NOT NULL)),
    CHECK (reason <> 'ADMIN_ADJUSTMENT' OR (amount >= 0 AND requested >= amount) OR (amount <= 0 AND requested <= amount))
);

CREATE INDEX ledger_entries_by_member ON ledger_entries (member_id, id);
CREATE INDEX ledger_entries_by_reason ON ledger_entries (member_id, reason, occurred_at);
CREATE UNIQUE INDEX ledger_entries_one_expiry_per_lot ON ledger_entries (lot_id) WHERE reason = 'EXPIRED';

CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are append-only');
END;

CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are append-only');
END;

-- Each entry continues the member's chain: balance_after = previous + amount,
-- and entries are in time order.
CREATE TRIGGER ledger_entries_chain BEFORE INSERT ON ledger_entries
WHEN NEW.balance_after IS NOT coalesce(
        (SELECT balance_after FROM ledger_entries WHERE member_id = NEW.member_id ORDER BY id DESC LIMIT 1), 0
     ) + NEW.amount
  OR NEW.occurred_at < coalesce(
        (SELECT occurred_at FROM ledger_entries WHERE member_id = NEW.member_id ORDER BY id DESC LIMIT 1), 0)
BEGIN
    SELECT RAISE(ABORT, 'ledger entry breaks the member''s chain');
END;

CREATE TABLE contacts (
    member_id   INTEGER NOT NULL REFERENCES members (id),
    email       TEXT    NOT NULL CHECK (email = lower(trim(email))),
    name        TEXT,
    imported_at INTEGER NOT NULL,
    PRIMARY KEY (member_id, email)
) WITHOUT ROWID;

CREATE TABLE companies (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL CHECK (length(trim(name)) > 0),
    slug       TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

-- A row is made the first time a member follows a company and kept for
-- ever: it remembers that the follow was already rewarded.
CREATE TABLE company_follows (
    member_id         INTEGER NOT NULL REFERENCES members (id),
    company_id        INTEGER NOT NULL REFERENCES companies (id),
    first_followed_at INTEGER NOT NULL,
    following         INTEGER NOT NULL DEFAULT 1 CHECK (following IN (0, 1)),
    PRIMARY KEY (member_id, company_id)
) WITHOUT ROWID;

CREATE TRIGGER company_follows_no_delete BEFORE DELETE ON company_follows
BEGIN
    SELECT RAISE(ABORT, 'follow history is never deleted');
END;

CREATE TABLE discussion_posts (
    id        INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members (id),
    kind      TEXT    NOT NULL CHECK (kind IN ('POST', 'COMMENT', 'ARTICLE')),
    body      TEXT    NOT NULL CHECK (length(trim(body)) > 0),
    posted_at INTEGER NOT NULL
);
CREATE INDEX discussion_posts_by_member ON discussion_posts (member_id, id);

-- First answers of mutations, replayed for a repeated idempotency key.
CREATE TABLE idempotency_keys (
    scope        TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    operation    TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    response     TEXT    NOT NULL CHECK (json_valid(response)),
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

-- The test clock's time, kept so it survives a restart.
CREATE TABLE test_clock (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    now INTEGER NOT NULL
);

CREATE TRIGGER test_clock_forward_only BEFORE UPDATE ON test_clock
WHEN NEW.now < OLD.now
BEGIN
    SELECT RAISE(ABORT, 'the test clock never goes back');
END;
