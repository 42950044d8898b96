-- name: lot_insert
INSERT INTO credit_lots (member_id, reason, amount, remaining, granted_at, expires_at)
VALUES (:member_id, :reason, :amount, :amount, :granted_at, :expires_at)
RETURNING id;

-- name: lot_by_id
SELECT * FROM credit_lots WHERE id = :id;

-- name: lots_spendable
-- Lots with credit left that have not expired, in spending order.
SELECT id, remaining, expires_at
  FROM credit_lots
 WHERE member_id = :member_id AND remaining > 0 AND written_off = 0 AND expires_at > :now
 ORDER BY expires_at, id;

-- name: lot_draw
UPDATE credit_lots SET remaining = remaining - :amount WHERE id = :id AND remaining >= :amount;

-- name: lots_due
-- The :limit oldest due lots of everyone (the sweep, and its lag), in the order their expiry is written.
SELECT id, member_id, remaining, expires_at
  FROM credit_lots
 WHERE remaining > 0 AND written_off = 0 AND expires_at <= :now
 ORDER BY expires_at, member_id, id
 LIMIT :limit;

-- name: member_lots_due
-- One member's due lots, before any other write to them.
SELECT id, member_id, remaining, expires_at
  FROM credit_lots
 WHERE member_id = :member_id AND remaining > 0 AND written_off = 0 AND expires_at <= :now
 ORDER BY expires_at, id;

-- name: expiry_entries_insert
-- One EXPIRED entry for each lot in :lot_ids (a JSON array of due lots), dated at the lot's expiry and
-- continuing each member's chain from their head row (read once, before this statement's own rows).
INSERT INTO ledger_entries (member_id, occurred_at, reason, amount, requested, balance_after, lot_id)
SELECT due.member_id, due.expires_at, 'EXPIRED', -due.remaining, -due.remaining,
       h.balance - sum(due.remaining) OVER (PARTITION BY due.member_id ORDER BY due.expires_at, due.id
                                            ROWS UNBOUNDED PRECEDING),
       due.id
  FROM credit_lots AS due
  JOIN member_heads AS h ON h.member_id = due.member_id
 WHERE due.id = ANY(ARRAY(SELECT value::bigint FROM jsonb_array_elements_text(:lot_ids::jsonb)))
 ORDER BY due.member_id, due.expires_at, due.id
RETURNING member_id, -amount AS credits;

-- name: lots_write_off
-- Mark the lots whose EXPIRED entries were just written.
UPDATE credit_lots SET written_off = 1
 WHERE id = ANY(ARRAY(SELECT value::bigint FROM jsonb_array_elements_text(:lot_ids::jsonb))) AND written_off = 0;

-- name: balance
-- Exact at :now whether or not expiry has been written yet.
SELECT coalesce(sum(remaining), 0) AS available,
       coalesce(sum(CASE WHEN expires_at <= :soon THEN remaining ELSE 0 END), 0) AS expiring_soon,
       min(expires_at) AS next_expiry_at
  FROM credit_lots
 WHERE member_id = :member_id AND remaining > 0 AND written_off = 0 AND expires_at > :now;

-- name: lots_page
-- Newest lot first; without :include_spent only lots that still hold credits now.
SELECT *
  FROM credit_lots
 WHERE member_id = :member_id AND id < :before_id
   AND (:include_spent::integer = 1 OR (remaining > 0 AND written_off = 0 AND expires_at > :now))
 ORDER BY id DESC
 LIMIT :limit;
