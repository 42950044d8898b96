"""Ledger entries: appended, never changed."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from ..domain.policy import Reason
from .protocol import Reader, Row, Tx
from .rows import ChainHead, Draw, Entry, made


def _entry(row: Row) -> Entry:
    """An entry from its row: the columns of ledger_entries are Entry's fields."""
    reason = row["reason"]
    return made(Entry, {**row, "reason": _REASONS.get(reason) or Reason(reason)})


_REASONS = {reason.value: reason for reason in Reason}  # Reason(value) is an Enum call: ten times a dict's


def _head(row: Row) -> ChainHead:
    return ChainHead(int(row["balance_after"]), int(row["occurred_at"]), int(row["seq"]), str(row["hash"]))


def insert(tx: Tx, *, member_id: int, seq: int, occurred_at: int, reason: Reason, amount: int, requested: int,
           balance_after: int, lot_id: int | None, invitation_id: int | None, company_id: int | None,
           post_id: int | None, referred_member_id: int | None, contacts_count: int | None, note: str | None,
           reverses_id: int | None, hash: str) -> int:
    return tx.insert(
        "entry_insert", member_id=member_id, seq=seq, occurred_at=occurred_at, reason=reason.value, amount=amount,
        requested=requested, balance_after=balance_after, lot_id=lot_id, invitation_id=invitation_id,
        company_id=company_id, post_id=post_id, referred_member_id=referred_member_id, contacts_count=contacts_count,
        note=note, reverses_id=reverses_id, hash=hash,
    )


def by_id(r: Reader, *, id: int) -> Entry | None:
    row = r.one("entry_by_id", id=id)
    return _entry(row) if row else None


def head(r: Reader, *, member_id: int) -> ChainHead | None:
    row = r.one("entry_last", member_id=member_id)
    return _head(row) if row else None


def heads(r: Reader, *, member_ids: Sequence[int]) -> dict[int, ChainHead]:
    """The newest entry of each of these members that has one."""
    rows = r.all("entries_heads", member_ids=json.dumps(list(member_ids)))
    return {int(row["member_id"]): _head(row) for row in rows}


def page(r: Reader, *, member_id: int, before_id: int, limit: int, reasons: Sequence[Reason] | None) -> list[Entry]:
    encoded = json.dumps([reason.value for reason in reasons]) if reasons else None
    return [_entry(row) for row in r.all("entries_page", member_id=member_id, before_id=before_id, limit=limit,
                                         reasons=encoded)]


def insert_expiries(tx: Tx, *, rows: Sequence[Mapping[str, object]]) -> int:
    """EXPIRED entries computed by the service (member_id, seq, occurred_at, amount, balance_after, lot_id,
    hash), in chain order, in one statement."""
    return tx.run("expiry_entries_insert", rows=json.dumps(list(rows)))


def reversed_by(r: Reader, *, id: int) -> Entry | None:
    row = r.one("entry_reversed_by", id=id)
    return _entry(row) if row else None


def reversed_among(r: Reader, *, ids: Sequence[int]) -> dict[int, int]:
    """entry -> the entry that reversed it, for those of `ids` that were reversed."""
    if not ids:
        return {}
    return {int(row["id"]): int(row["reversed_by"])
            for row in r.all("entries_reversed_among", ids=json.dumps(list(ids)))}


def insert_draws(tx: Tx, *, entry_id: int, at: int, draws: Sequence[Draw]) -> None:
    """What the entry took from each lot: one row per lot (a send takes from one)."""
    for d in draws:
        tx.run_later("draw_insert", entry_id=entry_id, lot_id=d.lot_id, amount=d.amount, at=at)


def draws_of(r: Reader, *, entry_id: int) -> list[Draw]:
    return [Draw(int(row["lot_id"]), int(row["amount"])) for row in r.all("draws_of_entry", entry_id=entry_id)]


def balance_written_at(r: Reader, *, member_id: int, at: int) -> int:
    """The balance the ledger had written for the member at `at` (0 before their first entry)."""
    row = r.one("balance_written_at", member_id=member_id, at=at)
    return int(row["balance_after"]) if row else 0


def balances_written_at(r: Reader, *, member_id: int, points: Sequence[int]) -> list[int]:
    """balance_written_at for each of `points`, in one statement."""
    rows = r.all("balances_written_at", member_id=member_id, points=json.dumps(list(points)))
    return [int(row["balance"]) for row in rows]


def export_page(r: Reader, *, member_id: int, after_id: int, since: int, limit: int) -> list[Entry]:
    """The member's entries oldest first, after `after_id`, from `since` on."""
    return [_entry(row) for row in r.all("entries_export", member_id=member_id, after_id=after_id, since=since,
                                         limit=limit)]


def chain_page(r: Reader, *, after: tuple[int, int], limit: int) -> list[Entry]:
    """A page of every member's entries in chain order (member, then id), after (member, id)."""
    return [_entry(row) for row in r.all("entries_chain", member_id=after[0], after_id=after[1], limit=limit)]


def granted_since(r: Reader, *, member_id: int, since: int, reasons: Sequence[Reason]) -> dict[Reason, int]:
    """Credits granted per reason since `since` (forfeited credits do not count)."""
    rows = r.all("granted_by_reason_since", member_id=member_id, since=since,
                 reasons=json.dumps([reason.value for reason in reasons]))
    return {Reason(row["reason"]): int(row["granted"]) for row in rows}


def last_id(r: Reader) -> int:
    row = r.one("entries_last_id")
    return int(row["last_id"]) if row else 0


def newest_of(r: Reader, *, member_ids: Sequence[int]) -> dict[int, int]:
    """member -> their newest entry id (0 for none). Slow (one probe per member): read_slow."""
    rows = r.all("entries_newest_of", member_ids=json.dumps(list(member_ids)))
    return {int(row["member_id"]): int(row["last_id"]) for row in rows}


def after(r: Reader, *, member_id: int, after_id: int, limit: int) -> list[Entry]:
    return [_entry(row) for row in r.all("entries_after", member_id=member_id, after_id=after_id, limit=limit)]


def by_ids(r: Reader, *, ids: Sequence[int]) -> dict[int, Entry]:
    if not ids:
        return {}
    return {int(row["id"]): _entry(row) for row in r.all("entries_by_ids", ids=json.dumps(list(ids)))}
