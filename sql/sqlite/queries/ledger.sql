-- name: entry_insert
INSERT INTO ledger_entries (member_id, seq, occurred_at, reason, amount, requested, balance_after, lot_id,
                            invitation_id, company_id, post_id, referred_member_id, contacts_count, note,
                            reverses_id, hash)
VALUES (:member_id, :seq, :occurred_at, :reason, :amount, :requested, :balance_after, :lot_id,
        :invitation_id, :company_id, :post_id, :referred_member_id, :contacts_count, :note, :reverses_id, :hash);

-- name: entry_by_id
SELECT * FROM ledger_entries WHERE id = :id;

-- name: entry_last
-- The member's newest entry: its balance_after is the balance the ledger has written so far, its seq the
-- chain's length and its hash the chain's head.
SELECT id, balance_after, occurred_at, seq, hash
  FROM ledger_entries
 WHERE member_id = :member_id
 ORDER BY id DESC
 LIMIT 1;

-- name: entries_page
-- Newest first, keyset on id; :reasons is a JSON array of reasons or NULL for all.
SELECT *
  FROM ledger_entries
 WHERE member_id = :member_id AND id < :before_id
   AND (:reasons IS NULL OR reason IN (SELECT value FROM json_each(:reasons)))
 ORDER BY id DESC
 LIMIT :limit;

-- name: granted_by_reason_since
-- Credits granted per reason since :since (forfeited credits do not count), for :reasons (a JSON array):
-- one reason for a grant's allowance, every limited reason for the member's earning progress.
-- slow: sums every entry of the member's earning reasons
SELECT reason, coalesce(sum(amount), 0) AS granted
  FROM ledger_entries
 WHERE member_id = :member_id AND occurred_at >= :since
   AND reason IN (SELECT value FROM json_each(:reasons))
 GROUP BY reason;

-- name: entries_last_id
-- The newest entry of anyone: where the live feed starts.
SELECT coalesce(max(id), 0) AS last_id FROM ledger_entries;

-- name: entries_newest_of
-- The newest entry id of each member in :member_ids (a JSON array): what the live feed compares.
-- slow: one index probe per subscribed member
SELECT m.value AS member_id,
       coalesce((SELECT max(e.id) FROM ledger_entries AS e WHERE e.member_id = m.value), 0) AS last_id
  FROM json_each(:member_ids) AS m;

-- name: entries_after
-- One member's entries newer than :after_id, oldest first (for ledgerEntryAdded).
SELECT * FROM ledger_entries WHERE member_id = :member_id AND id > :after_id ORDER BY id LIMIT :limit;

-- name: entries_heads
-- The newest entry of each member in :member_ids (a JSON array), for the expiry that continues their chains.
SELECT e.member_id, e.balance_after, e.occurred_at, e.seq, e.hash
  FROM json_each(:member_ids) AS m
  JOIN ledger_entries AS e
    ON e.id = (SELECT max(x.id) FROM ledger_entries AS x WHERE x.member_id = m.value);

-- name: expiry_entries_insert
-- The EXPIRED entries the service computed (a JSON array of objects, in chain order): one statement however
-- many lots, so a sweep holds the write lock briefly.
INSERT INTO ledger_entries (member_id, seq, occurred_at, reason, amount, requested, balance_after, lot_id, hash)
SELECT json_extract(r.value, '$.member_id'), json_extract(r.value, '$.seq'), json_extract(r.value, '$.occurred_at'),
       'EXPIRED', json_extract(r.value, '$.amount'), json_extract(r.value, '$.amount'),
       json_extract(r.value, '$.balance_after'), json_extract(r.value, '$.lot_id'), json_extract(r.value, '$.hash')
  FROM json_each(:rows) AS r
 ORDER BY r.key;

-- name: entry_reversed_by
-- The REVERSAL that reversed an entry, if any.
SELECT * FROM ledger_entries WHERE reverses_id = :id;

-- name: draw_insert
-- What an entry took from one lot.
INSERT INTO lot_draws (entry_id, lot_id, amount, at) VALUES (:entry_id, :lot_id, :amount, :at);

-- name: draws_of_entry
SELECT lot_id, amount FROM lot_draws WHERE entry_id = :entry_id ORDER BY lot_id;

-- name: balance_written_at
-- The member's balance as the ledger had it at :at: the balance_after of their last entry at or before it.
SELECT balance_after FROM ledger_entries
 WHERE member_id = :member_id AND occurred_at <= :at
 ORDER BY occurred_at DESC, id DESC
 LIMIT 1;

-- name: balances_written_at
-- balance_written_at for each instant of :points (a JSON array of times): one index probe per point.
-- slow: up to 1,000 index probes
SELECT p.value AS at,
       coalesce((SELECT e.balance_after FROM ledger_entries AS e
                  WHERE e.member_id = :member_id AND e.occurred_at <= p.value
                  ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1), 0) AS balance
  FROM json_each(:points) AS p
 ORDER BY p.key;

-- name: entries_export
-- One member's entries oldest first, after :after_id, from :since on: a page of an export.
-- slow: skips the entries before :since
SELECT * FROM ledger_entries
 WHERE member_id = :member_id AND id > :after_id AND occurred_at >= :since
 ORDER BY id
 LIMIT :limit;

-- name: entries_reversed_among
-- Which of the entries :ids (a JSON array) were reversed, and by which entry.
SELECT reverses_id AS id, id AS reversed_by FROM ledger_entries
 WHERE reverses_id IN (SELECT value FROM json_each(:ids));

-- name: entries_chain
-- A page of every member's entries in chain order (member, then id), after (:member_id, :after_id): what
-- `check` recomputes.
SELECT * FROM ledger_entries
 WHERE (member_id, id) > (:member_id, :after_id)
 ORDER BY member_id, id
 LIMIT :limit;

-- name: entries_by_ids
-- The entries :ids (a JSON array) names: what the events feed renders.
SELECT * FROM ledger_entries WHERE id IN (SELECT value FROM json_each(:ids));
