-- name: post_next_id
-- The id the next post gets, drawn ahead (a write that sends it with others needs no answer first).
SELECT nextval(pg_get_serial_sequence('discussion_posts', 'id')) AS id;

-- name: post_insert
INSERT INTO discussion_posts (id, member_id, kind, body, posted_at) VALUES (:id, :member_id, :kind, :body, :posted_at);

-- name: post_by_id
SELECT * FROM discussion_posts WHERE id = :id;
