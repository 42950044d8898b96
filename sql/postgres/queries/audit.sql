-- name: audit_insert
INSERT INTO audit_records (at, actor, action, member_id, reason, request_id, details)
VALUES (:at, :actor, :action, :member_id, :reason, :request_id, :details)
RETURNING id;

-- name: audit_page
-- Newest first, keyset on id; of one member when :member_id is not NULL.
SELECT * FROM audit_records
 WHERE id < :before_id AND (:member_id::bigint IS NULL OR member_id = :member_id)
 ORDER BY id DESC
 LIMIT :limit;

-- name: audit_by_id
SELECT * FROM audit_records WHERE id = :id;
