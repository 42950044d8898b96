-- name: check_lot_bounds
-- Invariant 1: every lot has 0 <= remaining <= amount.
SELECT id, member_id, amount, remaining FROM credit_lots WHERE remaining < 0 OR remaining > amount;

-- name: check_negative_balance
-- Invariant 2: no balance the ledger recorded is negative.
SELECT id, member_id, balance_after FROM ledger_entries WHERE balance_after < 0;

-- name: check_chain
-- Each entry's balance_after is the previous one's plus its amount, in time order.
SELECT id, member_id, balance_after, previous_balance, amount FROM (
    SELECT id, member_id, balance_after, amount, occurred_at,
           coalesce(lag(balance_after) OVER w, 0) AS previous_balance,
           coalesce(lag(occurred_at) OVER w, occurred_at) AS previous_at
      FROM ledger_entries
    WINDOW w AS (PARTITION BY member_id ORDER BY id)
) AS chain
WHERE balance_after <> previous_balance + amount OR occurred_at < previous_at;

-- name: check_heads
-- Each member's head row holds their newest entry's balance and time (PostgreSQL's chain guard).
SELECT h.member_id, h.balance, h.last_at, e.balance_after, e.occurred_at
  FROM member_heads AS h
  LEFT JOIN LATERAL (SELECT balance_after, occurred_at FROM ledger_entries
                      WHERE member_id = h.member_id ORDER BY id DESC LIMIT 1) AS e ON true
 WHERE h.balance <> coalesce(e.balance_after, 0) OR h.last_at <> coalesce(e.occurred_at, 0);

-- name: check_ledger_matches_lots
-- Invariant 3: a member's ledger sums to the remaining credits of lots not yet written off.
SELECT member_id, ledger_sum, lots_sum FROM (
    SELECT m.id AS member_id,
           (SELECT coalesce(sum(amount), 0) FROM ledger_entries WHERE member_id = m.id) AS ledger_sum,
           (SELECT coalesce(sum(remaining), 0) FROM credit_lots WHERE member_id = m.id AND written_off = 0) AS lots_sum
      FROM members AS m
) AS sums
 WHERE ledger_sum <> lots_sum;

-- name: check_written_off
-- A written-off lot has exactly one EXPIRED entry, at its expiry time, for what it held.
SELECT l.id, l.member_id, l.remaining, count(e.id) AS entries
  FROM credit_lots AS l
  LEFT JOIN ledger_entries AS e ON e.lot_id = l.id AND e.reason = 'EXPIRED'
 WHERE l.written_off = 1
 GROUP BY l.id
HAVING count(e.id) <> 1 OR min(e.amount) <> -l.remaining OR min(e.occurred_at) <> l.expires_at;

-- name: check_cap
-- Invariant 4: no grant took the balance above the cap (a reversal that gives a spend back is no grant).
SELECT id, member_id, reason, balance_after FROM ledger_entries
 WHERE amount > 0 AND balance_after > :cap AND reason <> 'REVERSAL';

-- name: check_lifetime_allowances
-- Invariant 5, lifetime and once limits: :limits is a JSON object reason -> limit.
SELECT member_id, reason, sum(amount) AS granted, (:limits::jsonb ->> reason)::bigint AS lim
  FROM ledger_entries
 WHERE :limits::jsonb ? reason
 GROUP BY member_id, reason
HAVING sum(amount) > (:limits::jsonb ->> reason)::bigint;

-- name: check_monthly_allowances
-- Invariant 5, monthly limits: :limits is a JSON object reason -> limit per calendar month (UTC).
SELECT member_id, reason, to_char(to_timestamp(occurred_at) AT TIME ZONE 'UTC', 'YYYY-MM') AS month,
       sum(amount) AS granted, (:limits::jsonb ->> reason)::bigint AS lim
  FROM ledger_entries
 WHERE :limits::jsonb ? reason
 GROUP BY member_id, reason, to_char(to_timestamp(occurred_at) AT TIME ZONE 'UTC', 'YYYY-MM')
HAVING sum(amount) > (:limits::jsonb ->> reason)::bigint;

-- name: check_signup_once
SELECT member_id, count(*) AS n FROM ledger_entries WHERE reason = 'SIGNUP' GROUP BY member_id
HAVING count(*) <> 1;

-- name: check_invitation_debits
-- Invariant 6 for sends: one debit per paid invitation, none for free ones.
SELECT i.id, i.credits_spent, count(e.id) AS debits, coalesce(-sum(e.amount), 0) AS debited
  FROM invitations AS i
  LEFT JOIN ledger_entries AS e ON e.invitation_id = i.id AND e.reason = 'INVITATION_SENT'
 GROUP BY i.id
HAVING coalesce(-sum(e.amount), 0) <> i.credits_spent OR count(e.id) > 1;

-- name: check_idempotent_answers
-- Invariant 6: every stored first answer points at an effect that exists, and no effect was answered twice.
SELECT entry_id, count(*) AS answers
  FROM (SELECT (response::jsonb ->> 'entry_id')::bigint AS entry_id FROM idempotency_keys
         WHERE jsonb_typeof(response::jsonb) = 'object') AS answered
 WHERE entry_id IS NOT NULL
 GROUP BY entry_id
HAVING count(*) > 1 OR entry_id NOT IN (SELECT id FROM ledger_entries);

-- name: check_connections_symmetric
SELECT a.member_id, a.other_id FROM connections AS a
 WHERE NOT EXISTS (SELECT 1 FROM connections AS b WHERE b.member_id = a.other_id AND b.other_id = a.member_id);
