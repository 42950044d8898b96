-- name: post_insert
INSERT INTO discussion_posts (member_id, kind, body, posted_at) VALUES (:member_id, :kind, :body, :posted_at)
RETURNING id;

-- name: post_by_id
SELECT * FROM discussion_posts WHERE id = :id;
