"""Imported contacts."""

from __future__ import annotations

from .protocol import Reader, Tx


def insert(tx: Tx, *, member_id: int, email: str, name: str | None, imported_at: int) -> bool:
    """True when the contact is new to this member."""
    return tx.run("contact_insert", member_id=member_id, email=email, name=name, imported_at=imported_at) == 1


def known(r: Reader, *, member_id: int, email: str) -> bool:
    return r.one("contact_known", member_id=member_id, email=email) is not None
