-- name: post_next_id
-- The id the next post gets: the one SQLite would choose (no AUTOINCREMENT; one writer).
SELECT coalesce(max(id), 0) + 1 AS id FROM discussion_posts;

-- name: post_insert
INSERT INTO discussion_posts (id, member_id, kind, body, posted_at) VALUES (:id, :member_id, :kind, :body, :posted_at);

-- name: post_by_id
SELECT * FROM discussion_posts WHERE id = :id;
