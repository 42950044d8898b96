-- Bulk inserts for the benchmark datasets. The product's triggers and constraints stay on.

-- name: bench_member
INSERT INTO members (id, email, name, tier, referral_code, joined_at)
VALUES (:id, :email, :name, 'FREE', :code, :joined_at);

-- name: bench_lot
INSERT INTO credit_lots (id, member_id, reason, amount, remaining, granted_at, expires_at)
VALUES (:id, :member_id, :reason, :amount, :remaining, :granted_at, :expires_at);

-- name: bench_entry
INSERT INTO ledger_entries (id, member_id, occurred_at, reason, amount, requested, balance_after, lot_id)
VALUES (:id, :member_id, :occurred_at, :reason, :amount, :amount, :balance_after, :lot_id);
