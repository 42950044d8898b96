-- name: identity_member
-- The member an identity provider's subject is linked to.
SELECT member_id FROM member_identities WHERE issuer = :issuer AND subject = :subject;

-- name: identity_link
-- Link a subject to a member; a subject already linked keeps its member.
INSERT INTO member_identities (issuer, subject, member_id, linked_at)
VALUES (:issuer, :subject, :member_id, :linked_at)
    ON CONFLICT (issuer, subject) DO NOTHING;
