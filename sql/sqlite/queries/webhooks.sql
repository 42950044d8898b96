-- name: endpoint_insert
INSERT INTO webhook_endpoints (url, event_types, description, secret, created_at, idempotency_key)
VALUES (:url, :event_types, :description, :secret, :created_at, :idempotency_key);

-- name: endpoint_by_id
SELECT * FROM webhook_endpoints WHERE id = :id AND deleted_at IS NULL;

-- name: endpoint_by_key
SELECT * FROM webhook_endpoints WHERE idempotency_key = :idempotency_key;

-- name: endpoints_page
-- Oldest first, keyset on id; retired endpoints left out.
SELECT * FROM webhook_endpoints WHERE id > :after_id AND deleted_at IS NULL ORDER BY id LIMIT :limit;

-- name: endpoint_update
UPDATE webhook_endpoints SET url = :url, event_types = :event_types, enabled = :enabled, description = :description
 WHERE id = :id AND deleted_at IS NULL;

-- name: endpoint_delete
-- Retire the endpoint; its pending deliveries end as FAILED (nothing will be sent to it any more).
UPDATE webhook_endpoints SET deleted_at = :now, enabled = 0 WHERE id = :id AND deleted_at IS NULL;

-- name: endpoint_deliveries_cancel
UPDATE webhook_deliveries SET status = 'FAILED', next_attempt_at = NULL, leased_until = NULL,
       last_error = 'the endpoint was deleted'
 WHERE endpoint_id = :endpoint_id AND status = 'PENDING';

-- name: endpoint_rotate
UPDATE webhook_endpoints SET previous_secret = secret, previous_until = :previous_until, secret = :secret
 WHERE id = :id AND deleted_at IS NULL;

-- name: delivery_insert
INSERT INTO webhook_deliveries (endpoint_id, event_id, next_attempt_at, created_at)
VALUES (:endpoint_id, :event_id, :now, :now);

-- name: delivery_by_id
SELECT * FROM webhook_deliveries WHERE id = :id;

-- name: deliveries_page
-- Newest first, keyset on id; of :status when not NULL.
SELECT * FROM webhook_deliveries
 WHERE endpoint_id = :endpoint_id AND id < :before_id AND (:status IS NULL OR status = :status)
 ORDER BY id DESC
 LIMIT :limit;

-- name: deliveries_due_any
-- Is any delivery due now (a read, before a process takes the write lock to claim)?
SELECT 1 AS due FROM webhook_deliveries
 WHERE status = 'PENDING' AND next_attempt_at <= :now AND (leased_until IS NULL OR leased_until < :now)
 LIMIT 1;

-- name: deliveries_claim
-- Lease up to :limit due deliveries to this process until :until (the one writer makes it exclusive).
UPDATE webhook_deliveries SET leased_until = :until
 WHERE id IN (SELECT id FROM webhook_deliveries
               WHERE status = 'PENDING' AND next_attempt_at <= :now AND (leased_until IS NULL OR leased_until < :now)
               ORDER BY next_attempt_at, id
               LIMIT :limit)
RETURNING id, endpoint_id, event_id, attempts;

-- name: delivery_record
-- An attempt's outcome; only while the delivery is still this lease's (pending, leased until :until).
UPDATE webhook_deliveries
   SET status = :status, attempts = attempts + 1, next_attempt_at = :next_attempt_at, last_attempt_at = :at,
       last_status_code = :status_code, last_error = :error, leased_until = NULL
 WHERE id = :id AND status = 'PENDING' AND leased_until = :until;

-- name: deliveries_lag
-- The oldest undelivered event per endpoint: when its delivery was made (real time).
SELECT endpoint_id, min(created_at) AS oldest FROM webhook_deliveries WHERE status = 'PENDING' GROUP BY endpoint_id;
