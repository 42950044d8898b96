"""The outbox: events written by the database's triggers with the changes they report (and the sweep's expiry
notices), read back as a feed in commit-safe order."""

from __future__ import annotations

import json
from collections.abc import Sequence

from .protocol import Reader, Row, Tx
from .rows import Event

Position = tuple[int, int]  # (tx, id): the feed's order


def _event(row: Row) -> Event:
    return Event(id=row["id"], tx=row["tx"], type=row["type"], occurred_at=row["occurred_at"],
                 member_id=row["member_id"], data=row["data"])


def page(r: Reader, *, after: Position, types: Sequence[str] | None, limit: int) -> list[Event]:
    """Events after `after`, oldest first, of `types` (all when None)."""
    encoded = json.dumps(list(types)) if types else None
    return [_event(row) for row in r.all("events_page", tx=after[0], id=after[1], types=encoded, limit=limit)]


def by_id(r: Reader, *, id: int) -> Event | None:
    row = r.one("event_by_id", id=id)
    return _event(row) if row else None


def last_position(r: Reader) -> Position:
    row = r.one("events_last_position")
    return (int(row["tx"]), int(row["id"])) if row else (0, 0)


def pruned_through(r: Reader) -> int:
    """The newest event id retention has removed (0: none)."""
    row = r.one("events_pruned_through")
    return int(row["through_id"]) if row else 0


def prune(tx: Tx, *, before: int, limit: int) -> int:
    """Remove up to `limit` events older than the oldest one at or after `before`; returns how many."""
    removed = [int(row["id"]) for row in tx.all("events_prune", before=before, limit=limit)]
    if removed:
        tx.run("events_pruned_set", through_id=max(removed))
        tx.run("deliveries_prune", through_id=max(removed))
    return len(removed)


def write_expiry_notices(tx: Tx, *, notice_seconds: int) -> int:
    """CREDITS_EXPIRING_SOON for every lot with credits left whose expiry is within `notice_seconds`, once per
    lot and expiry date; returns how many were written."""
    until = tx.now + notice_seconds
    state = tx.one("expiry_notices_state")
    through, last = (int(state["through"]), int(state["at"])) if state else (0, 0)
    written = tx.run("expiry_notices_insert", now=tx.now, until=until, through=through, extended_since=last)
    tx.run("expiry_notices_set", through=max(through, until), at=tx.now)
    return written


def broker_position(r: Reader) -> Position:
    row = r.one("broker_cursor_get")
    return (int(row["tx"]), int(row["event_id"])) if row else (0, 0)


def advance_broker(tx: Tx, *, old: Position, new: Position) -> bool:
    """Move the broker's cursor from `old` to `new`; False when another process moved it first."""
    return tx.run("broker_cursor_advance", tx=new[0], event_id=new[1], old_tx=old[0], old_event_id=old[1]) == 1
