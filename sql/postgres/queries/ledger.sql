-- name: entry_insert
-- answers: entry_by_id
INSERT INTO ledger_entries (member_id, seq, occurred_at, reason, amount, requested, balance_after, lot_id,
                            invitation_id, company_id, post_id, referred_member_id, contacts_count, note,
                            reverses_id, hash)
VALUES (:member_id, :seq, :occurred_at, :reason, :amount, :requested, :balance_after, :lot_id,
        :invitation_id, :company_id, :post_id, :referred_member_id, :contacts_count, :note, :reverses_id, :hash)
RETURNING *;

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
   AND (:reasons::jsonb IS NULL OR reason IN (SELECT jsonb_array_elements_text(:reasons::jsonb)))
 ORDER BY id DESC
 LIMIT :limit;

-- name: granted_by_reason_since
-- Credits granted per reason since :since (forfeited credits do not count), for :reasons (a JSON array).
-- slow: sums every entry of the member's earning reasons
SELECT reason, coalesce(sum(amount), 0) AS granted
  FROM ledger_entries
 WHERE member_id = :member_id AND occurred_at >= :since
   AND reason IN (SELECT jsonb_array_elements_text(:reasons::jsonb))
 GROUP BY reason;

-- name: entries_last_id
-- The newest entry of anyone.
SELECT coalesce(max(id), 0) AS last_id FROM ledger_entries;

-- name: entries_newest_of
-- The newest entry id of each member in :member_ids (a JSON array): what the live feed compares.
-- slow: one index probe per subscribed member
SELECT m.value::bigint AS member_id,
       coalesce((SELECT max(e.id) FROM ledger_entries AS e WHERE e.member_id = m.value::bigint), 0) AS last_id
  FROM jsonb_array_elements_text(:member_ids::jsonb) AS m (value);

-- name: entries_after
-- One member's entries newer than :after_id, oldest first (for ledgerEntryAdded).
SELECT * FROM ledger_entries WHERE member_id = :member_id AND id > :after_id ORDER BY id LIMIT :limit;

-- name: entries_heads
-- The newest entry of each member in :member_ids (a JSON array), for the expiry that continues their chains.
SELECT e.member_id, e.balance_after, e.occurred_at, e.seq, e.hash
  FROM jsonb_array_elements_text(:member_ids::jsonb) AS m (value)
  JOIN LATERAL (SELECT * FROM ledger_entries AS x WHERE x.member_id = m.value::bigint ORDER BY x.id DESC LIMIT 1)
       AS e ON true;

-- name: expiry_entries_insert
-- The EXPIRED entries the service computed (a JSON array of objects, in chain order): one statement however
-- many lots. Each row's trigger moves its member's head, so a stale computation is refused (40001).
INSERT INTO ledger_entries (member_id, seq, occurred_at, reason, amount, requested, balance_after, lot_id, hash)
SELECT r.member_id, r.seq, r.occurred_at, 'EXPIRED', r.amount, r.amount, r.balance_after, r.lot_id, r.hash
  FROM ROWS FROM (jsonb_to_recordset(:rows::jsonb)
                  AS (member_id bigint, seq bigint, occurred_at bigint, amount bigint, balance_after bigint,
                      lot_id bigint, hash text))
       WITH ORDINALITY AS r (member_id, seq, occurred_at, amount, balance_after, lot_id, hash, n)
 ORDER BY r.n;

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
SELECT p.value::bigint AS at,
       coalesce((SELECT e.balance_after FROM ledger_entries AS e
                  WHERE e.member_id = :member_id AND e.occurred_at <= p.value::bigint
                  ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1), 0) AS balance
  FROM jsonb_array_elements_text(:points::jsonb) WITH ORDINALITY AS p (value, n)
 ORDER BY p.n;

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
 WHERE reverses_id = ANY(ARRAY(SELECT value::bigint FROM jsonb_array_elements_text(:ids::jsonb)));

-- name: entries_chain
-- A page of every member's entries in chain order (member, then id), after (:member_id, :after_id): what
-- `check` recomputes.
SELECT * FROM ledger_entries
 WHERE (member_id, id) > (:member_id, :after_id)
 ORDER BY member_id, id
 LIMIT :limit;

-- name: entries_by_ids
-- The entries :ids (a JSON array) names: what the events feed renders.
SELECT * FROM ledger_entries WHERE id = ANY(ARRAY(SELECT value::bigint FROM jsonb_array_elements_text(:ids::jsonb)));
