"""Connections between members (one row each way)."""

from __future__ import annotations

from .members import _member
from .protocol import Reader, Tx
from .rows import Member


def insert(tx: Tx, *, member_id: int, other_id: int, invitation_id: int, connected_at: int) -> None:
    tx.run_later("connection_insert", expect=1, member_id=member_id, other_id=other_id, invitation_id=invitation_id,
           connected_at=connected_at)


def connected(r: Reader, *, a: int, b: int) -> bool:
    return r.one("connected", a=a, b=b) is not None


def share_a_connection(r: Reader, *, a: int, b: int) -> bool:
    return r.one("share_connection", a=a, b=b) is not None


def page(r: Reader, *, member_id: int, before_id: int, limit: int) -> list[tuple[int, Member]]:
    """(cursor key, member) for the member's connections, most recent first."""
    rows = r.all("connections_page", member_id=member_id, before_id=before_id, limit=limit)
    return [(int(row["cursor_id"]), member) for row in rows if (member := _member(row)) is not None]
