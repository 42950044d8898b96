-- name: member_next_id
-- The id the next member gets: the one SQLite would choose (no AUTOINCREMENT; one writer).
SELECT coalesce(max(id), 0) + 1 AS id FROM members;

-- name: member_insert
INSERT INTO members (id, email, name, tier, referral_code, referred_by, joined_at)
VALUES (:id, :email, :name, 'FREE', :referral_code, :referred_by, :joined_at);

-- name: member_by_id
SELECT * FROM members WHERE id = :id;

-- name: member_by_email
SELECT * FROM members WHERE email = :email;

-- name: member_by_referral_code
SELECT * FROM members WHERE referral_code = :referral_code;

-- name: members_lock
-- PostgreSQL's takes row locks (FOR UPDATE, in id order). SQLite's one writer already runs writes one at a
-- time, so store/members.lock never runs this here; it is kept so both dialects answer the same names.
SELECT id FROM members WHERE id IN (SELECT value FROM json_each(:ids)) ORDER BY id;

-- name: members_lock_invitation
-- The two parties of an invitation, locked as members_lock does (kept, unused, as members_lock is).
SELECT id FROM members
 WHERE id IN (SELECT inviter_id FROM invitations WHERE id = :invitation_id
              UNION SELECT invitee_id FROM invitations WHERE id = :invitation_id)
 ORDER BY id;

-- name: member_set_tier
UPDATE members SET tier = :tier, tier_changed_at = :now WHERE id = :id;

-- name: member_set_profile
UPDATE members
   SET name = :name, headline = :headline, about = :about, location = :location,
       experience = :experience, education = :education, skills = :skills
 WHERE id = :id;

-- name: member_session
-- What a token is checked against on every request: the member's session key and when they last signed out.
SELECT session_key, sessions_revoked_at FROM members WHERE id = :id;

-- name: member_sign_out
-- signOutEverywhere: a new random session key (every token of the old one is refused) and the time, for tokens
-- that carry no key (an identity provider's).
UPDATE members SET session_key = lower(hex(randomblob(16))), sessions_revoked_at = :revoked_at WHERE id = :id;
