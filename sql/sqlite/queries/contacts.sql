-- name: contact_insert
-- Ignored when the member imported this email before.
INSERT OR IGNORE INTO contacts (member_id, email, name, imported_at)
VALUES (:member_id, :email, :name, :imported_at);

-- name: contact_known
SELECT 1 FROM contacts WHERE member_id = :member_id AND email = :email;

-- name: contacts_known_among
-- Which of :emails (a JSON array) the member imported before.
SELECT email FROM contacts WHERE member_id = :member_id AND email IN (SELECT value FROM json_each(:emails));
