-- name: lot_insert
INSERT INTO credit_lots (member_id, reason, amount, remaining, granted_at, expires_at)
VALUES (:member_id, :reason, :amount, :amount, :granted_at, :expires_at);

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

-- name: lots_due_for_member
-- One member's lots that expired with credit left and are not yet written off, oldest expiry first.
SELECT id, member_id, remaining, expires_at
  FROM credit_lots
 WHERE member_id = :member_id AND remaining > 0 AND written_off = 0 AND expires_at <= :now
 ORDER BY expires_at, id;

-- name: lots_due
-- Every member's lots due for write-off, a bounded batch at a time, oldest expiry first.
SELECT id, member_id, remaining, expires_at
  FROM credit_lots
 WHERE remaining > 0 AND written_off = 0 AND expires_at <= :now
 ORDER BY expires_at, member_id
 LIMIT :limit;

-- name: lot_write_off
UPDATE credit_lots SET written_off = 1 WHERE id = :id AND written_off = 0;

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
   AND (:include_spent OR (remaining > 0 AND written_off = 0 AND expires_at > :now))
 ORDER BY id DESC
 LIMIT :limit;
