"""Events out, as the service serves them: the outbox's rows with the API's IDs and times, the feed in an order
no late commit can break, the sweep's expiry notices and retention."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..domain import ids, rules
from ..domain.errors import BadUserInput
from ..domain.policy import EventType
from ..store import events, ledger
from ..store.events import Position
from ..store.protocol import Reader, Tx
from ..store.rows import Entry, Event
from .idempotency import UseCases

# The keys of an event's data that name an object (rendered as its global ID) or a time (ISO-8601 UTC).
_IDS = {"member": "Member", "referredBy": "Member", "inviter": "Member", "invitee": "Member", "referredMember": "Member",
        "entry": "LedgerEntry", "reverses": "LedgerEntry", "creditLot": "CreditLot", "invitation": "Invitation",
        "company": "Company", "post": "DiscussionPost"}
_TIMES = frozenset({"occurredAt", "joinedAt", "sentAt", "respondedAt", "expiresAt"})
PRUNE_BATCH = 5000


@dataclass(frozen=True)
class EventView:
    id: int
    position: Position
    type: str
    occurred_at: int
    member_id: int | None
    data: dict[str, Any]


def _entry_data(e: Entry) -> dict[str, Any]:
    """A LEDGER_ENTRY_ADDED's data: the entry as LedgerEntry shows it (the event names the entry, which never
    changes)."""
    return {"entry": e.id, "member": e.member_id, "occurredAt": e.occurred_at, "reason": e.reason.value,
            "amount": e.amount, "requested": e.requested, "balanceAfter": e.balance_after, "creditLot": e.lot_id,
            "invitation": e.invitation_id, "company": e.company_id, "post": e.post_id,
            "referredMember": e.referred_member_id, "contactsCount": e.contacts_count, "note": e.note,
            "reverses": e.reverses_id, "seq": e.seq, "hash": e.hash}


def render(event: Event, entry: Entry | None = None) -> EventView:
    raw: dict[str, Any] = json.loads(event.data)
    if entry is not None:
        raw = _entry_data(entry)
    data = {key: (ids.encode(_IDS[key], value) if key in _IDS and value is not None
                  else rules.iso(int(value)) if key in _TIMES and value is not None else value)
            for key, value in raw.items()}
    return EventView(event.id, (event.tx, event.id), event.type, event.occurred_at, event.member_id, data)


def render_all(r: Reader, found: Sequence[Event]) -> list[EventView]:
    """Events as served: a ledger entry's event with its entry's fields (one read for the page)."""
    named = {e.id: int(json.loads(e.data)["entry"]) for e in found if e.type == "LEDGER_ENTRY_ADDED"}
    entries = ledger.by_ids(r, ids=sorted(set(named.values())))
    return [render(e, entries.get(named[e.id]) if e.id in named else None) for e in found]


def unknown_types(types: Sequence[str] | None) -> list[str]:
    return sorted(set(types or ()) - {t.value for t in EventType})


def as_json(view: EventView) -> str:
    """An event as one line of JSON: what `invite-credits events tail` prints."""
    return json.dumps({"id": ids.encode("Event", view.id), "type": view.type, "occurredAt": rules.iso(view.occurred_at),
                       "member": ids.encode("Member", view.member_id) if view.member_id else None, "data": view.data},
                      ensure_ascii=False, separators=(",", ":"))


def follow(r: Reader, types: Sequence[str] | None, *, from_start: bool, once: bool,
           interval: float) -> Iterator[str]:
    """Events as they commit (from the newest, or the oldest kept), as JSON lines; with `once`, what there is."""
    position = (0, 0) if from_start else events.last_position(r)
    while True:
        page = events.page(r, after=position, types=types, limit=500)
        for view in render_all(r, page):
            position = view.position
            yield as_json(view)
        if not page:
            if once:
                return
            time.sleep(interval)


def write_notices_and_prune(tx: Tx, notice_days: int, retention_days: int) -> tuple[int, int]:
    """The sweep's part of events out: expiry notices, then one batch of retention. (notices, pruned)."""
    notices = events.write_expiry_notices(tx, notice_seconds=notice_days * 86400)
    pruned = events.prune(tx, before=tx.now - retention_days * 86400, limit=PRUNE_BATCH)
    return notices, pruned


class EventReads(UseCases):
    def events(self, first: int, after: Position | None, types: list[str] | None) -> tuple[list[EventView], bool]:
        """The feed after `after`, oldest first: (a page, whether more follow)."""
        position = after or (0, 0)
        if after is not None and after[1] <= events.pruned_through(self.db.reader):
            raise BadUserInput(f"This cursor is older than the events kept ({self.policy.event_retention_days} "
                               "days): start again from the oldest event (no `after`).")
        rows = events.page(self.db.reader, after=position, types=types, limit=first + 1)
        return render_all(self.db.reader, rows[:first]), len(rows) > first

    def event(self, event_id: int) -> EventView | None:
        found = events.by_id(self.db.reader, id=event_id)
        return render_all(self.db.reader, [found])[0] if found else None

    # -- the broker publisher's -----------------------------------------------------------------------------
    def broker_batch(self, limit: int) -> tuple[Position, list[EventView]]:
        """Where the broker's cursor stands, and the events after it (in the feed's order)."""
        r = self.db.reader
        position = events.broker_position(r)
        return position, render_all(r, events.page(r, after=position, types=None, limit=limit))

    async def advance_broker(self, old: Position, new: Position) -> bool:
        return await self.db.write(lambda tx: events.advance_broker(tx, old=old, new=new))

    def events_position(self) -> Position:
        """The newest event's position: where a tail starts."""
        return events.last_position(self.db.reader)
