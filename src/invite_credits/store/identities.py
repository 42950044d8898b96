"""Identity-provider subjects linked to members."""

from __future__ import annotations

from .protocol import Reader, Tx


def member(r: Reader, *, issuer: str, subject: str) -> int | None:
    row = r.one("identity_member", issuer=issuer, subject=subject)
    return int(row["member_id"]) if row else None


def link(tx: Tx, *, issuer: str, subject: str, member_id: int, linked_at: int) -> None:
    tx.run("identity_link", issuer=issuer, subject=subject, member_id=member_id, linked_at=linked_at)
