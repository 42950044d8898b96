-- name: idempotency_get
SELECT operation, request_hash, response FROM idempotency_keys WHERE scope = :scope AND key = :key;

-- name: idempotency_claim
-- Claim a key before the work it guards (answer 'null' until idempotency_answer). A key another
-- transaction holds makes this wait for it; a key already claimed changes no row.
INSERT INTO idempotency_keys (scope, key, operation, request_hash, response, created_at)
VALUES (:scope, :key, :operation, :request_hash, 'null', :created_at)
    ON CONFLICT (scope, key) DO NOTHING;

-- name: idempotency_answer
UPDATE idempotency_keys SET response = :response WHERE scope = :scope AND key = :key AND response = 'null';

-- name: idempotency_prune
-- Keys older than the retention; a bounded batch per call.
DELETE FROM idempotency_keys
 WHERE (scope, key) IN (SELECT scope, key FROM idempotency_keys WHERE created_at < :before LIMIT :limit);
