-- name: entry_insert
INSERT INTO ledger_entries (member_id, occurred_at, reason, amount, requested, balance_after, lot_id,
                            invitation_id, company_id, post_id, referred_member_id, contacts_count, note)
VALUES (:member_id, :occurred_at, :reason, :amount, :requested, :balance_after, :lot_id,
        :invitation_id, :company_id, :post_id, :referred_member_id, :contacts_count, :note)
RETURNING id;

-- name: entry_by_id
SELECT * FROM ledger_entries WHERE id = :id;

-- name: entry_last
-- The member's newest entry: its balance_after is the balance the ledger has written so far.
SELECT id, balance_after, occurred_at
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
