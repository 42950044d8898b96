-- Corrections, history and tamper evidence.
--
-- ledger_entries gains its place in the member's chain (seq, from 1), the chain's hash (hex SHA-256, see
-- docs/rules.md "The hash chain") and the entry a REVERSAL reverses; two reasons join (REVERSAL and
-- LOT_EXTENDED). SQLite cannot change a table's CHECK constraints, so the table is rebuilt; the hashes of the
-- rows already there are computed by the step named below (Python: store/backfill.py), in this transaction.

CREATE TABLE ledger_entries_v5 (
    id                 INTEGER PRIMARY KEY,
    member_id          INTEGER NOT NULL REFERENCES members (id),
    seq                INTEGER NOT NULL CHECK (seq >= 1),
    occurred_at        INTEGER NOT NULL,
    reason             TEXT    NOT NULL CHECK (reason IN (
                           'SIGNUP', 'INVITATION_ACCEPTED', 'CONTACTS_IMPORTED', 'COMPANY_FOLLOWED',
                           'PROFILE_COMPLETED', 'DISCUSSION', 'REFERRAL', 'INVITATION_SENT', 'EXPIRED',
                           'ADMIN_ADJUSTMENT', 'REVERSAL', 'LOT_EXTENDED')),
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
    reverses_id        INTEGER REFERENCES ledger_entries_v5 (id),
    hash               TEXT    NOT NULL CHECK (length(hash) = 64),
    -- Grants add what they granted, at most what was requested.
    CHECK (reason IN ('INVITATION_SENT', 'EXPIRED', 'ADMIN_ADJUSTMENT', 'REVERSAL', 'LOT_EXTENDED')
           OR (amount >= 0 AND requested >= amount)),
    CHECK (reason <> 'INVITATION_SENT' OR (amount < 0 AND requested = amount)),
    CHECK (reason <> 'EXPIRED' OR (amount < 0 AND requested = amount AND lot_id IS NOT NULL)),
    CHECK (reason <> 'ADMIN_ADJUSTMENT' OR (amount >= 0 AND requested >= amount) OR (amount <= 0 AND requested <= amount)),
    -- A reversal names what it reverses and moves at most what that entry moved, the other way.
    CHECK ((reason = 'REVERSAL') = (reverses_id IS NOT NULL)),
    CHECK (reason <> 'REVERSAL' OR (amount >= 0 AND requested >= amount) OR (amount <= 0 AND requested <= amount)),
    CHECK (reason <> 'LOT_EXTENDED' OR (amount = 0 AND requested = 0 AND lot_id IS NOT NULL))
);

INSERT INTO ledger_entries_v5 (id, member_id, seq, occurred_at, reason, amount, requested, balance_after, lot_id,
                               invitation_id, company_id, post_id, referred_member_id, contacts_count, note, hash)
SELECT id, member_id, row_number() OVER (PARTITION BY member_id ORDER BY id), occurred_at, reason, amount,
       requested, balance_after, lot_id, invitation_id, company_id, post_id, referred_member_id, contacts_count,
       note, '0000000000000000000000000000000000000000000000000000000000000000'
  FROM ledger_entries;

DROP TABLE ledger_entries;
ALTER TABLE ledger_entries_v5 RENAME TO ledger_entries;

CREATE INDEX ledger_entries_by_member ON ledger_entries (member_id, id);
CREATE INDEX ledger_entries_by_reason ON ledger_entries (member_id, reason, occurred_at);
-- The balance at a past time: the member's last entry at or before it.
CREATE INDEX ledger_entries_by_time ON ledger_entries (member_id, occurred_at, id);
CREATE UNIQUE INDEX ledger_entries_one_expiry_per_lot ON ledger_entries (lot_id) WHERE reason = 'EXPIRED';
-- An entry is reversed at most once.
CREATE UNIQUE INDEX ledger_entries_one_reversal ON ledger_entries (reverses_id) WHERE reverses_id IS NOT NULL;

-- Which lots a spend (or a reversed grant) took its credits from: what a reversal gives back, and what each
-- lot held at a past time. Backfilled for the spends already written by replaying the spending rule.
CREATE TABLE lot_draws (
    entry_id INTEGER NOT NULL REFERENCES ledger_entries (id),
    lot_id   INTEGER NOT NULL REFERENCES credit_lots (id),
    amount   INTEGER NOT NULL CHECK (amount > 0),
    at       INTEGER NOT NULL,
    PRIMARY KEY (entry_id, lot_id)
) WITHOUT ROWID;
CREATE INDEX lot_draws_by_lot ON lot_draws (lot_id, at);

CREATE TRIGGER lot_draws_no_update BEFORE UPDATE ON lot_draws
BEGIN
    SELECT RAISE(ABORT, 'lot draws are append-only');
END;

CREATE TRIGGER lot_draws_no_delete BEFORE DELETE ON lot_draws
BEGIN
    SELECT RAISE(ABORT, 'lot draws are append-only');
END;

-- Each move of a lot's expiry, with the LOT_EXTENDED entry that records it.
CREATE TABLE lot_extensions (
    entry_id       INTEGER PRIMARY KEY REFERENCES ledger_entries (id),
    lot_id         INTEGER NOT NULL REFERENCES credit_lots (id),
    at             INTEGER NOT NULL,
    old_expires_at INTEGER NOT NULL,
    new_expires_at INTEGER NOT NULL,
    CHECK (new_expires_at > old_expires_at)
);
CREATE INDEX lot_extensions_by_lot ON lot_extensions (lot_id, at);

CREATE TRIGGER lot_extensions_no_update BEFORE UPDATE ON lot_extensions
BEGIN
    SELECT RAISE(ABORT, 'lot extensions are append-only');
END;

CREATE TRIGGER lot_extensions_no_delete BEFORE DELETE ON lot_extensions
BEGIN
    SELECT RAISE(ABORT, 'lot extensions are append-only');
END;

-- A lot's grant stays as it was, but for one change: its expiry moves later, recorded by its extension.
DROP TRIGGER credit_lots_fixed_fields;
CREATE TRIGGER credit_lots_fixed_fields BEFORE UPDATE ON credit_lots
WHEN NEW.member_id IS NOT OLD.member_id OR NEW.reason IS NOT OLD.reason OR NEW.amount IS NOT OLD.amount
  OR NEW.granted_at IS NOT OLD.granted_at
  OR (NEW.expires_at IS NOT OLD.expires_at AND NOT EXISTS (
        SELECT 1 FROM lot_extensions AS x
         WHERE x.lot_id = NEW.id AND x.old_expires_at = OLD.expires_at AND x.new_expires_at = NEW.expires_at))
BEGIN
    SELECT RAISE(ABORT, 'a lot''s grant is immutable');
END;

-- Admins' actions, each written in the transaction of the action itself.
CREATE TABLE audit_records (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL CHECK (length(actor) > 0),
    action     TEXT    NOT NULL CHECK (action IN (
                   'TIER_CHANGED', 'CREDITS_ADJUSTED', 'ENTRY_REVERSED', 'LOT_EXTENDED', 'COMPANY_CREATED',
                   'TEST_CLOCK_ADVANCED', 'WEBHOOK_ENDPOINT_CREATED', 'WEBHOOK_ENDPOINT_UPDATED',
                   'WEBHOOK_ENDPOINT_DELETED', 'WEBHOOK_SECRET_ROTATED', 'EVENT_REDELIVERED',
                   'SIGNED_OUT_EVERYWHERE')),
    member_id  INTEGER REFERENCES members (id),
    reason     TEXT,
    request_id TEXT,
    details    TEXT    NOT NULL CHECK (json_valid(details))
);
CREATE INDEX audit_records_by_member ON audit_records (member_id, id);

CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only');
END;

CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only');
END;

-- step: ledger_chain

CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are append-only');
END;

CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN
    SELECT RAISE(ABORT, 'ledger entries are append-only');
END;

-- Each entry continues the member's chain: the next seq, balance_after = previous + amount, entries in time
-- order; one probe of the member's newest entry. (The hash is the writer's: `invite-credits check` recomputes
-- every chain.)
CREATE TRIGGER ledger_entries_chain BEFORE INSERT ON ledger_entries
WHEN NOT EXISTS (
        SELECT 1 FROM (SELECT balance_after, occurred_at, seq FROM ledger_entries
                        WHERE member_id = NEW.member_id ORDER BY id DESC LIMIT 1) AS last
         WHERE last.balance_after + NEW.amount = NEW.balance_after AND last.occurred_at <= NEW.occurred_at
           AND last.seq + 1 = NEW.seq)
 AND NOT (NEW.seq = 1 AND NEW.balance_after = NEW.amount AND NEW.occurred_at >= 0
          AND NOT EXISTS (SELECT 1 FROM ledger_entries WHERE member_id = NEW.member_id))
BEGIN
    SELECT RAISE(ABORT, 'ledger entry breaks the member''s chain');
END;
