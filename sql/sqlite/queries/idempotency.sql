-- name: idempotency_get
SELECT operation, request_hash, response FROM idempotency_keys WHERE scope = :scope AND key = :key;

-- name: idempotency_put
INSERT INTO idempotency_keys (scope, key, operation, request_hash, response, created_at)
VALUES (:scope, :key, :operation, :request_hash, :response, :created_at);

-- name: idempotency_prune
-- Keys older than the retention; a bounded batch per call.
DELETE FROM idempotency_keys
 WHERE (scope, key) IN (SELECT scope, key FROM idempotency_keys WHERE created_at < :before LIMIT :limit);
