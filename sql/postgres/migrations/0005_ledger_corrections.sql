-- Corrections, history and tamper evidence (as sql/sqlite/migrations/0005).
--
-- ledger_entries gains its place in the member's chain (seq, from 1), the chain's hash (hex SHA-256, see
-- docs/rules.md "The hash chain") and the entry a REVERSAL reverses; two reasons join (REVERSAL and
-- LOT_EXTENDED). The hashes of the rows already there are computed by the step named below (Python:
-- store/backfill.py), in this transaction. The member's head row now also holds the chain's length, so an
-- entry written from a stale view of the chain (even one that moves no credit) is refused.

ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_no_update;

ALTER TABLE ledger_entries ADD COLUMN seq bigint;
ALTER TABLE ledger_entries ADD COLUMN reverses_id bigint REFERENCES ledger_entries (id);
ALTER TABLE ledger_entries ADD COLUMN hash text;

UPDATE ledger_entries AS e SET seq = n.seq
  FROM (SELECT id, row_number() OVER (PARTITION BY member_id ORDER BY id) AS seq FROM ledger_entries) AS n
 WHERE e.id = n.id;

ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_reason_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_reason_check CHECK (reason IN (
    'SIGNUP', 'INVITATION_ACCEPTED', 'CONTACTS_IMPORTED', 'COMPANY_FOLLOWED', 'PROFILE_COMPLETED', 'DISCUSSION',
    'REFERRAL', 'INVITATION_SENT', 'EXPIRED', 'ADMIN_ADJUSTMENT', 'REVERSAL', 'LOT_EXTENDED'));
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_check CHECK (
    reason IN ('INVITATION_SENT', 'EXPIRED', 'ADMIN_ADJUSTMENT', 'REVERSAL', 'LOT_EXTENDED')
    OR (amount >= 0 AND requested >= amount));
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_reversal_names_entry
    CHECK ((reason = 'REVERSAL') = (reverses_id IS NOT NULL));
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_reversal_moves_back
    CHECK (reason <> 'REVERSAL' OR (amount >= 0 AND requested >= amount) OR (amount <= 0 AND requested <= amount));
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_extension_moves_nothing
    CHECK (reason <> 'LOT_EXTENDED' OR (amount = 0 AND requested = 0 AND lot_id IS NOT NULL));

-- The balance at a past time: the member's last entry at or before it.
CREATE INDEX ledger_entries_by_time ON ledger_entries (member_id, occurred_at, id);
-- An entry is reversed at most once.
CREATE UNIQUE INDEX ledger_entries_one_reversal ON ledger_entries (reverses_id) WHERE reverses_id IS NOT NULL;

-- Which lots a spend (or a reversed grant) took its credits from.
CREATE TABLE lot_draws (
    entry_id bigint NOT NULL REFERENCES ledger_entries (id),
    lot_id   bigint NOT NULL REFERENCES credit_lots (id),
    amount   bigint NOT NULL CHECK (amount > 0),
    at       bigint NOT NULL,
    PRIMARY KEY (entry_id, lot_id)
);
CREATE INDEX lot_draws_by_lot ON lot_draws (lot_id, at);
CREATE TRIGGER lot_draws_no_update BEFORE UPDATE ON lot_draws
    FOR EACH ROW EXECUTE FUNCTION refuse('lot draws are append-only');
CREATE TRIGGER lot_draws_no_delete BEFORE DELETE ON lot_draws
    FOR EACH ROW EXECUTE FUNCTION refuse('lot draws are append-only');

-- Each move of a lot's expiry, with the LOT_EXTENDED entry that records it.
CREATE TABLE lot_extensions (
    entry_id       bigint PRIMARY KEY REFERENCES ledger_entries (id),
    lot_id         bigint NOT NULL REFERENCES credit_lots (id),
    at             bigint NOT NULL,
    old_expires_at bigint NOT NULL,
    new_expires_at bigint NOT NULL,
    CHECK (new_expires_at > old_expires_at)
);
CREATE INDEX lot_extensions_by_lot ON lot_extensions (lot_id, at);
CREATE TRIGGER lot_extensions_no_update BEFORE UPDATE ON lot_extensions
    FOR EACH ROW EXECUTE FUNCTION refuse('lot extensions are append-only');
CREATE TRIGGER lot_extensions_no_delete BEFORE DELETE ON lot_extensions
    FOR EACH ROW EXECUTE FUNCTION refuse('lot extensions are append-only');

-- A lot's grant stays as it was, but for one change: its expiry moves later, recorded by its extension.
CREATE OR REPLACE FUNCTION credit_lots_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.written_off = 1 THEN
        RAISE EXCEPTION 'a written-off lot never changes' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.member_id IS DISTINCT FROM OLD.member_id OR NEW.reason IS DISTINCT FROM OLD.reason
       OR NEW.amount IS DISTINCT FROM OLD.amount OR NEW.granted_at IS DISTINCT FROM OLD.granted_at
       OR (NEW.expires_at IS DISTINCT FROM OLD.expires_at AND NOT EXISTS (
             SELECT 1 FROM lot_extensions AS x
              WHERE x.lot_id = NEW.id AND x.old_expires_at = OLD.expires_at AND x.new_expires_at = NEW.expires_at))
    THEN
        RAISE EXCEPTION 'a lot''s grant is immutable' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.remaining > OLD.remaining THEN
        RAISE EXCEPTION 'a lot''s remaining credits never grow' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;

-- Admins' actions, each written in the transaction of the action itself.
CREATE TABLE audit_records (
    id         bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at         bigint NOT NULL,
    actor      text   NOT NULL CHECK (length(actor) > 0),
    action     text   NOT NULL CHECK (action IN (
                   'TIER_CHANGED', 'CREDITS_ADJUSTED', 'ENTRY_REVERSED', 'LOT_EXTENDED', 'COMPANY_CREATED',
                   'TEST_CLOCK_ADVANCED', 'WEBHOOK_ENDPOINT_CREATED', 'WEBHOOK_ENDPOINT_UPDATED',
                   'WEBHOOK_ENDPOINT_DELETED', 'WEBHOOK_SECRET_ROTATED', 'EVENT_REDELIVERED',
                   'SIGNED_OUT_EVERYWHERE')),
    member_id  bigint REFERENCES members (id),
    reason     text,
    request_id text,
    details    text   NOT NULL CHECK (details::jsonb IS NOT NULL)
);
CREATE INDEX audit_records_by_member ON audit_records (member_id, id);
CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
    FOR EACH ROW EXECUTE FUNCTION refuse('audit records are append-only');
CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
    FOR EACH ROW EXECUTE FUNCTION refuse('audit records are append-only');
CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records
    FOR EACH STATEMENT EXECUTE FUNCTION refuse('audit records are append-only');

-- step: ledger_chain

ALTER TABLE ledger_entries ALTER COLUMN seq SET NOT NULL;
ALTER TABLE ledger_entries ALTER COLUMN hash SET NOT NULL;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_seq_check CHECK (seq >= 1);
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_hash_check CHECK (length(hash) = 64);
ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_no_update;

ALTER TABLE member_heads ADD COLUMN entries bigint NOT NULL DEFAULT 0;
UPDATE member_heads AS h SET entries = n.entries
  FROM (SELECT member_id, count(*) AS entries FROM ledger_entries GROUP BY member_id) AS n
 WHERE h.member_id = n.member_id;

-- Each entry continues its member's chain: the next seq, balance_after = the head's balance + amount, not
-- before the head's time. An entry computed from a stale head changes no row and is refused with
-- serialization_failure (SQLSTATE 40001), which the store retries from the start.
CREATE OR REPLACE FUNCTION ledger_entries_chain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE member_heads SET balance = NEW.balance_after, last_at = NEW.occurred_at, entries = NEW.seq
     WHERE member_id = NEW.member_id AND balance + NEW.amount = NEW.balance_after AND last_at <= NEW.occurred_at
       AND entries + 1 = NEW.seq;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ledger entry breaks the member''s chain' USING ERRCODE = 'serialization_failure';
    END IF;
    RETURN NEW;
END $$;
