-- name: entry_insert
INSERT INTO ledger_entries (member_id, occurred_at, reason, amount, requested, balance_after, lot_id,
                            invitation_id, company_id, post_id, referred_member_id, contacts_count, note)
VALUES (:member_id, :occurred_at, :reason, :amount, :requested, :balance_after, :lot_id,
        :invitation_id, :company_id, :post_id, :referred_member_id, :contacts_count, :note);

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

-- name: entries_changed_since
-- Members with entries newer than :after_id, and their newest: what the live feed tells subscribers.
-- slow: after a large sweep, every entry it wrote
-- NOT INDEXED: the primary-key range of the new entries, not a walk of the member index to group them.
SELECT member_id, max(id) AS last_id FROM ledger_entries NOT INDEXED WHERE id > :after_id GROUP BY member_id;

-- name: entries_after
-- One member's entries newer than :after_id, oldest first (for ledgerEntryAdded).
SELECT * FROM ledger_entries WHERE member_id = :member_id AND id > :after_id ORDER BY id LIMIT :limit;
