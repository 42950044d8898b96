-- name: invitation_next_id
-- The id the next invitation gets, drawn ahead (a write that sends it with others needs no answer first).
SELECT nextval(pg_get_serial_sequence('invitations', 'id')) AS id;

-- name: invitation_insert
-- answers: invitation_by_id
INSERT INTO invitations (id, inviter_id, invitee_id, status, message, sent_at, credits_spent)
VALUES (:id, :inviter_id, :invitee_id, 'PENDING', :message, :sent_at, :credits_spent)
RETURNING *;

-- name: invitation_by_id
SELECT * FROM invitations WHERE id = :id;

-- name: invitation_pending_between
SELECT id FROM invitations
 WHERE LEAST(inviter_id, invitee_id) = LEAST(:a::bigint, :b::bigint)
   AND GREATEST(inviter_id, invitee_id) = GREATEST(:a::bigint, :b::bigint)
   AND status = 'PENDING';

-- name: invitation_answer
UPDATE invitations SET status = :status, responded_at = :responded_at
 WHERE id = :id AND status = 'PENDING';

-- name: invitation_follow_up
UPDATE invitations SET follow_up_message = :message
 WHERE id = :id AND status = 'PENDING' AND follow_up_message IS NULL;

-- name: invitations_sent_page
SELECT * FROM invitations
 WHERE inviter_id = :member_id AND id < :before_id AND (:status::text IS NULL OR status = :status::text)
 ORDER BY id DESC
 LIMIT :limit;

-- name: invitations_received_page
SELECT * FROM invitations
 WHERE invitee_id = :member_id AND id < :before_id AND (:status::text IS NULL OR status = :status::text)
 ORDER BY id DESC
 LIMIT :limit;

-- name: connection_insert
INSERT INTO connections (member_id, other_id, invitation_id, connected_at)
VALUES (:member_id, :other_id, :invitation_id, :connected_at)
RETURNING id;

-- name: connected
SELECT 1 FROM connections WHERE member_id = :a AND other_id = :b;

-- name: share_connection
SELECT 1
  FROM connections AS mine
  JOIN connections AS theirs ON theirs.member_id = :b AND theirs.other_id = mine.other_id
 WHERE mine.member_id = :a
 LIMIT 1;

-- name: connections_page
SELECT c.id AS cursor_id, m.*
  FROM connections AS c
  JOIN members AS m ON m.id = c.other_id
 WHERE c.member_id = :member_id AND c.id < :before_id
 ORDER BY c.id DESC
 LIMIT :limit;
