"""Imported contacts."""

from __future__ import annotations

import json
from collections.abc import Sequence

from .protocol import Reader, Tx


def insert_new(tx: Tx, *, member_id: int, email: str, name: str | None, imported_at: int) -> None:
    """A contact the member does not have (known_among said so, under the member's lock): the transaction fails
    if it was there after all."""
    tx.run_later("contact_insert", expect=1, member_id=member_id, email=email, name=name, imported_at=imported_at)


def known_among(r: Reader, *, member_id: int, emails: Sequence[str]) -> set[str]:
    """Which of `emails` the member imported before."""
    return {row["email"] for row in r.all("contacts_known_among", member_id=member_id, emails=json.dumps(list(emails)))}


def known(r: Reader, *, member_id: int, email: str) -> bool:
    return r.one("contact_known", member_id=member_id, email=email) is not None
