-- name: lot_next_id
-- The id the next lot gets: the one SQLite would choose (no AUTOINCREMENT; one writer).
SELECT coalesce(max(id), 0) + 1 AS id FROM credit_lots;

-- name: lot_insert
INSERT INTO credit_lots (id, member_id, reason, amount, remaining, granted_at, expires_at)
VALUES (:id, :member_id, :reason, :amount, :amount, :granted_at, :expires_at);

-- name: lot_by_id
SELECT * FROM credit_lots WHERE id = :id;

-- name: lot_of_entry
-- The lot an entry names (a grant's, or the one a reversal wrote off), found through the entry.
SELECT l.* FROM ledger_entries AS e JOIN credit_lots AS l ON l.id = e.lot_id WHERE e.id = :entry_id;

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
-- One member's due lots, before any other write to them (their own index, not the sweep's).
SELECT id, member_id, remaining, expires_at
  FROM credit_lots
 WHERE member_id = :member_id AND remaining > 0 AND written_off = 0 AND expires_at <= :now
 ORDER BY expires_at, id;

-- name: lots_write_off
-- Mark the lots whose EXPIRED entries were just written.
UPDATE credit_lots SET written_off = 1
 WHERE id IN (SELECT value FROM json_each(:lot_ids)) AND written_off = 0;

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

-- name: lot_extend
-- Move a lot's expiry later; its extension row (lot_extensions) must already be written, or the guard refuses.
UPDATE credit_lots SET expires_at = :expires_at
 WHERE id = :id AND expires_at < :expires_at AND remaining > 0 AND written_off = 0;

-- name: extension_insert
INSERT INTO lot_extensions (entry_id, lot_id, at, old_expires_at, new_expires_at)
VALUES (:entry_id, :lot_id, :at, :old_expires_at, :new_expires_at);

-- name: lots_unwritten_due
-- Lots that expired by :at, still holding credits, whose expiry the ledger has not written yet: nothing touched
-- them since they expired, so what they hold now is what they held then.
SELECT expires_at, remaining FROM credit_lots
 WHERE member_id = :member_id AND remaining > 0 AND written_off = 0 AND expires_at <= :at
 ORDER BY expires_at;

-- name: balance_at
-- The member's lots as they stood at :at (what each held then, its expiry then), summed as `balance` does.
-- slow: walks every lot granted in the year before :at
WITH lots_then AS (
    SELECT l.amount - coalesce((SELECT sum(d.amount) FROM lot_draws AS d
                                 WHERE d.lot_id = l.id AND d.at <= :at), 0) AS remaining,
           coalesce((SELECT x.old_expires_at FROM lot_extensions AS x
                      WHERE x.lot_id = l.id AND x.at > :at ORDER BY x.at, x.entry_id LIMIT 1),
                    l.expires_at) AS expires_at
      FROM credit_lots AS l
     WHERE l.member_id = :member_id AND l.granted_at <= :at AND l.expires_at > :at
)
SELECT coalesce(sum(remaining), 0) AS available,
       coalesce(sum(CASE WHEN expires_at <= :soon THEN remaining ELSE 0 END), 0) AS expiring_soon,
       min(expires_at) AS next_expiry_at
  FROM lots_then
 WHERE remaining > 0 AND expires_at > :at;
