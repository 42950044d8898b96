"""Credit lots: what each grant added, what is left of it, and which are due to expire."""

from __future__ import annotations

import json

from ..domain import rules
from ..domain.policy import Reason
from .ahead import drawn
from .protocol import Reader, Row, Tx
from .rows import DueLot, LiveCredits, Lot


def _lot(row: Row) -> Lot:
    return Lot(id=row["id"], member_id=row["member_id"], reason=Reason(row["reason"]), amount=row["amount"],
               remaining=row["remaining"], granted_at=row["granted_at"], expires_at=row["expires_at"])


def _due(row: Row) -> DueLot:
    return DueLot(id=row["id"], member_id=row["member_id"], remaining=row["remaining"], expires_at=row["expires_at"])


def next_id(r: Reader) -> int | None:
    """The id `insert` gives the next lot (a use case may declare it ahead)."""
    row = r.one("lot_next_id")
    return int(row["id"]) if row else None


def insert(tx: Tx, *, member_id: int, reason: Reason, amount: int, granted_at: int, expires_at: int) -> int:
    """The new lot's id, drawn first, so the insert goes out with the statements after it."""
    id = drawn(next_id(tx), "lot")
    tx.run_later("lot_insert", expect=1, id=id, member_id=member_id, reason=reason.value, amount=amount,
                 granted_at=granted_at, expires_at=expires_at)
    return id


def by_id(r: Reader, *, id: int) -> Lot | None:
    row = r.one("lot_by_id", id=id)
    return _lot(row) if row else None


def of_entry(r: Reader, *, entry_id: int) -> Lot | None:
    """The lot the entry names, if it names one."""
    row = r.one("lot_of_entry", entry_id=entry_id)
    return _lot(row) if row else None


def spendable(r: Reader, *, member_id: int, now: int) -> list[rules.Lot]:
    """Lots with credit left that have not expired, in spending order (the one that expires first first)."""
    return [rules.Lot(row["id"], row["remaining"], row["expires_at"])
            for row in r.all("lots_spendable", member_id=member_id, now=now)]


def draw(tx: Tx, *, id: int, amount: int) -> None:
    """Take `amount` from the lot; the transaction fails (before its commit) if the lot no longer holds that
    much: the member's lock guards it, so that would be a bug."""
    tx.run_later("lot_draw", expect=1, id=id, amount=amount)


def due(r: Reader, *, now: int, limit: int) -> list[DueLot]:
    """The oldest due lots of everyone, in the order their expiry is written."""
    return [_due(row) for row in r.all("lots_due", now=now, limit=limit)]


def member_due(r: Reader, *, member_id: int, now: int) -> list[DueLot]:
    return [_due(row) for row in r.all("member_lots_due", member_id=member_id, now=now)]


def write_off(tx: Tx, *, lot_ids: list[int]) -> int:
    return tx.run("lots_write_off", lot_ids=json.dumps(lot_ids))


def live_credits(r: Reader, *, member_id: int, now: int, soon: int) -> LiveCredits:
    row = r.one("balance", member_id=member_id, now=now, soon=soon)
    if row is None:
        return LiveCredits(0, 0, None)
    return LiveCredits(int(row["available"]), int(row["expiring_soon"]), row["next_expiry_at"])


def page(r: Reader, *, member_id: int, before_id: int, limit: int, include_spent: bool, now: int) -> list[Lot]:
    return [_lot(row) for row in r.all("lots_page", member_id=member_id, before_id=before_id, limit=limit,
                                       include_spent=int(include_spent), now=now)]


def extend(tx: Tx, *, id: int, expires_at: int) -> bool:
    """Move the lot's expiry to `expires_at` (later); its extension must be written first."""
    return tx.run("lot_extend", id=id, expires_at=expires_at) == 1


def insert_extension(tx: Tx, *, entry_id: int, lot_id: int, at: int, old_expires_at: int, new_expires_at: int) -> None:
    tx.run("extension_insert", entry_id=entry_id, lot_id=lot_id, at=at, old_expires_at=old_expires_at,
           new_expires_at=new_expires_at)


def unwritten_due(r: Reader, *, member_id: int, at: int) -> list[tuple[int, int]]:
    """(expires_at, remaining) of the member's lots that expired by `at` and whose expiry is not written yet."""
    return [(int(row["expires_at"]), int(row["remaining"]))
            for row in r.all("lots_unwritten_due", member_id=member_id, at=at)]


def credits_at(r: Reader, *, member_id: int, at: int, soon: int) -> LiveCredits:
    """The member's lots as they stood at `at`: what each held then, with its expiry then (slow: read_slow)."""
    row = r.one("balance_at", member_id=member_id, at=at, soon=soon)
    if row is None:
        return LiveCredits(0, 0, None)
    return LiveCredits(int(row["available"]), int(row["expiring_soon"]), row["next_expiry_at"])
