"""Members: who they are and their profile."""

from __future__ import annotations

import json
from typing import Any

from ..domain.policy import Tier
from .ahead import drawn
from .protocol import Reader, Row, Tx
from .rows import Member, Session, made


def _list(text: str) -> Any:
    """A profile list column: most are empty, and json.loads("[]") costs a read of a member a microsecond."""
    return [] if text == "[]" else json.loads(text)


def _member(row: Row | None) -> Member | None:
    if row is None:
        return None
    return made(Member, {
        "id": row["id"], "email": row["email"], "name": row["name"], "tier": Tier(row["tier"]),
        "referral_code": row["referral_code"], "joined_at": row["joined_at"], "headline": row["headline"],
        "about": row["about"], "location": row["location"], "experience": _list(row["experience"]),
        "education": _list(row["education"]), "skills": _list(row["skills"]),
    })


def by_id(r: Reader, *, id: int) -> Member | None:
    return _member(r.one("member_by_id", id=id))


def by_email(r: Reader, *, email: str) -> Member | None:
    return _member(r.one("member_by_email", email=email))


def by_referral_code(r: Reader, *, referral_code: str) -> Member | None:
    return _member(r.one("member_by_referral_code", referral_code=referral_code))


def next_id(r: Reader) -> int | None:
    """The id `insert` gives the next member (a use case may declare it ahead)."""
    row = r.one("member_next_id")
    return int(row["id"]) if row else None


def insert(tx: Tx, *, email: str, name: str, referral_code: str, referred_by: int | None, joined_at: int) -> int:
    """The new member's id, drawn first, so the insert goes out with the statements after it."""
    id = drawn(next_id(tx), "member")
    tx.run_later("member_insert", expect=1, id=id, email=email, name=name, referral_code=referral_code,
                 referred_by=referred_by, joined_at=joined_at)
    return id


def lock(tx: Tx, *ids: int | None) -> bool:
    """Hold the members a write touches until it commits, in id order: every write to a member's credits,
    invitations or profile takes this first. False when the store runs writes one at a time (SQLite's one
    writer): nothing to lock, and nothing read before could have changed."""
    if tx.serial:
        return False
    tx.all("members_lock", ids=json.dumps(sorted({i for i in ids if i is not None})))
    return True


def lock_invitation(tx: Tx, *, invitation_id: int) -> bool:
    """`lock` of an invitation's two parties, found through it in the same statement."""
    if tx.serial:
        return False
    tx.all("members_lock_invitation", invitation_id=invitation_id)
    return True


def set_tier(tx: Tx, *, id: int, tier: Tier) -> None:
    """The new tier, and when it changed (what MEMBER_TIER_CHANGED carries)."""
    tx.run("member_set_tier", id=id, tier=tier.value, now=tx.now)


def set_profile(tx: Tx, *, id: int, name: str, headline: str | None, about: str | None, location: str | None,
                experience: list[Any], education: list[Any], skills: list[str]) -> None:
    tx.run_later("member_set_profile", expect=1, id=id, name=name, headline=headline, about=about, location=location,
           experience=json.dumps(experience), education=json.dumps(education), skills=json.dumps(skills))


def signed_in(r: Reader, *, id: int) -> tuple[Member, Session] | None:
    """The member and their session in one read: a token's check, whose request then shows the member."""
    row = r.one("member_by_id", id=id)
    member = _member(row)
    if row is None or member is None:
        return None
    return member, Session(key=row["session_key"], revoked_at=row["sessions_revoked_at"])


def session(r: Reader, *, id: int) -> Session | None:
    row = r.one("member_session", id=id)
    return Session(key=row["session_key"], revoked_at=row["sessions_revoked_at"]) if row else None


def sign_out(tx: Tx, *, id: int, revoked_at: int) -> None:
    """A new session key, drawn by the database: every token of the old one is refused from now on."""
    tx.run("member_sign_out", id=id, revoked_at=revoked_at)
