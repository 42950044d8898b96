-- Identity-provider subjects linked to members: a token from (issuer, subject) acts as member_id.
CREATE TABLE member_identities (
    issuer    TEXT    NOT NULL,
    subject   TEXT    NOT NULL,
    member_id INTEGER NOT NULL REFERENCES members (id),
    linked_at INTEGER NOT NULL,
    PRIMARY KEY (issuer, subject)
) WITHOUT ROWID;

CREATE TRIGGER member_identities_fixed BEFORE UPDATE ON member_identities
BEGIN
    SELECT RAISE(ABORT, 'an identity stays linked to its member');
END;
