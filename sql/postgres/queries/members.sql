-- name: member_next_id
-- The id the next member gets, drawn ahead (a write that sends it with others needs no answer first).
SELECT nextval(pg_get_serial_sequence('members', 'id')) AS id;

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
-- Lock the members a write touches, in id order (so two writes never wait for each other in a circle),
-- until the transaction ends: every write to a member's credits, invitations or profile holds it.
-- (= ANY(ARRAY(...)): a primary-key probe per id; IN (SELECT ...) was planned as a scan of every member.)
-- The rows it locks are the members as the write then reads them: they answer its member_by_id reads.
-- answers: member_by_id for each id in :ids
SELECT * FROM members WHERE id = ANY(ARRAY(SELECT value::bigint FROM jsonb_array_elements_text(:ids::jsonb)))
 ORDER BY id FOR UPDATE;

-- name: members_lock_invitation
-- The two parties of an invitation, locked as members_lock locks (in id order): one statement, where reading
-- the invitation first to learn them would cost a round trip (its parties never change).
-- answers: member_by_id
SELECT * FROM members
 WHERE id = ANY(ARRAY(SELECT inviter_id FROM invitations WHERE id = :invitation_id
                      UNION ALL SELECT invitee_id FROM invitations WHERE id = :invitation_id))
 ORDER BY id FOR UPDATE;

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
UPDATE members SET session_key = replace(gen_random_uuid()::text, '-', ''), sessions_revoked_at = :revoked_at WHERE id = :id;
