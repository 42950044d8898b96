-- name: events_page
-- The feed, oldest first: events after the cursor position (:tx, :id), of :types (a JSON array) or all; only
-- those of transactions older than every transaction still running, so none can commit before the cursor later.
SELECT * FROM events
 WHERE (tx, id) > (:tx, :id)
   AND tx < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
   AND (:types::jsonb IS NULL OR type IN (SELECT jsonb_array_elements_text(:types::jsonb)))
 ORDER BY tx, id
 LIMIT :limit;

-- name: events_pruned_through
SELECT through_id FROM events_pruned WHERE id = 1;

-- name: events_prune
-- Retention: of the :limit oldest events, those before the first one that is still recent (so an expiry
-- written late, dated at the lot's expiry, is kept until what came before it goes); returns what it removed.
DELETE FROM events
 WHERE id IN (SELECT oldest.id FROM (SELECT id, occurred_at FROM events ORDER BY id LIMIT :limit) AS oldest
               WHERE oldest.id < coalesce((SELECT min(first.id)
                                             FROM (SELECT id, occurred_at FROM events ORDER BY id LIMIT :limit)
                                                  AS first
                                            WHERE first.occurred_at >= :before), 9223372036854775807))
RETURNING id;

-- name: deliveries_prune
-- The deliveries of events retention removed go with them.
DELETE FROM webhook_deliveries WHERE event_id <= :through_id;

-- name: events_pruned_set
INSERT INTO events_pruned (id, through_id) VALUES (1, :through_id)
ON CONFLICT (id) DO UPDATE SET through_id = greatest(events_pruned.through_id, excluded.through_id);

-- name: expiry_notices_state
SELECT through, at FROM expiry_notices WHERE id = 1;

-- name: expiry_notices_set
INSERT INTO expiry_notices (id, through, at) VALUES (1, :through, :at)
ON CONFLICT (id) DO UPDATE SET through = excluded.through, at = excluded.at;

-- name: expiry_notices_insert
-- CREDITS_EXPIRING_SOON for each lot with credits left whose expiry falls in (:now, :until] and past the last
-- pass's horizon (:through), or that was extended since the last pass (:extended_since): once per lot and
-- expiry date (an extended lot gets one more notice, for its new date).
INSERT INTO events (type, occurred_at, member_id, data, dedupe)
SELECT 'CREDITS_EXPIRING_SOON', :now, l.member_id,
       json_build_object('member', l.member_id, 'creditLot', l.id, 'reason', l.reason, 'remaining', l.remaining,
                         'expiresAt', l.expires_at)::text,
       'CREDITS_EXPIRING_SOON:' || l.id || ':' || l.expires_at
  FROM credit_lots AS l
 WHERE l.remaining > 0 AND l.written_off = 0 AND l.expires_at > :now AND l.expires_at <= :until
   AND (l.expires_at > :through OR l.id IN (SELECT lot_id FROM lot_extensions WHERE at >= :extended_since))
   AND NOT EXISTS (SELECT 1 FROM events AS e WHERE e.dedupe = 'CREDITS_EXPIRING_SOON:' || l.id || ':' || l.expires_at)
 ORDER BY l.expires_at, l.id;

-- name: events_last_position
-- Where a tail starts: the newest event's position.
SELECT tx, id FROM events ORDER BY tx DESC, id DESC LIMIT 1;

-- name: event_by_id
SELECT * FROM events WHERE id = :id;

-- name: broker_cursor_get
SELECT tx, event_id FROM broker_cursor WHERE id = 1;

-- name: broker_cursor_advance
-- Move the broker's cursor from where this process read it to the last event it published (compare-and-set).
UPDATE broker_cursor SET tx = :tx, event_id = :event_id
 WHERE id = 1 AND tx = :old_tx AND event_id = :old_event_id AND (tx, event_id) < (:tx, :event_id);
