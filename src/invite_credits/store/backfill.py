"""What the corrections migration computes for entries written before it: each entry's hash, and which lots
each spend drew from (found by replaying the spending rule over the member's entries, oldest first).

Both dialects' migrations call `ledger_chain` with their own readers and writers; it streams the ledger once,
member by member, so memory stays bounded by one member's lots.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from ..domain import chain

ENTRY_COLUMNS = ("id, member_id, occurred_at, reason, amount, requested, balance_after, lot_id, invitation_id, "
                 "company_id, post_id, referred_member_id, contacts_count, note, reverses_id")
ENTRIES = f"SELECT {ENTRY_COLUMNS} FROM ledger_entries ORDER BY member_id, id"
LOTS = "SELECT id, member_id, expires_at FROM credit_lots ORDER BY member_id, id"
BATCH = 20_000

Hashes = Callable[[Sequence[tuple[str, int]]], None]  # (hash, entry id)
Draws = Callable[[Sequence[tuple[int, int, int, int]]], None]  # (entry id, lot id, amount, at)


@dataclass
class _Lot:
    id: int
    expires_at: int
    remaining: int = 0


def _spends(reason: str, amount: int) -> bool:
    return amount < 0 and reason in ("INVITATION_SENT", "ADMIN_ADJUSTMENT")


def _replay(entries: list[Sequence[Any]], lots: dict[int, _Lot]) -> Iterator[tuple[int, int, int, int]]:
    """The draws of one member's spends: each takes from the live lots that expire first, as `take` does. The
    live lots are a heap on (expiry, id); spent, expired and written-off lots leave it as they are met."""
    live: list[tuple[int, int]] = []
    gone: set[int] = set()
    for row in entries:
        entry_id, at, reason, amount, lot_id = row[0], row[2], row[3], row[4], row[7]
        lot = lots.get(lot_id) if lot_id is not None else None
        if lot is not None and amount > 0:
            lot.remaining = amount
            heapq.heappush(live, (lot.expires_at, lot.id))
        elif reason == "EXPIRED" and lot is not None:
            gone.add(lot.id)
        elif _spends(reason, amount):
            wanted = -amount
            while wanted and live:
                expires_at, candidate_id = live[0]
                candidate = lots[candidate_id]
                if candidate_id in gone or candidate.remaining == 0 or expires_at <= at:
                    heapq.heappop(live)
                    continue
                took = min(wanted, candidate.remaining)
                candidate.remaining -= took
                wanted -= took
                yield entry_id, candidate_id, took, at


def ledger_chain(entries: Iterable[Sequence[Any]], lots: Iterable[Sequence[Any]], write_hashes: Hashes,
                 write_draws: Draws) -> int:
    """Hash every member's chain and record every spend's draws. `entries` rows are in ENTRY_COLUMNS order,
    sorted by member then id; `lots` rows are (id, member_id, expires_at) sorted by member. Returns the
    number of entries hashed."""
    lots_by_member = groupby(lots, key=lambda row: row[1])
    pending_lots: tuple[int, list[Sequence[Any]]] | None = None
    hashes: list[tuple[str, int]] = []
    draws: list[tuple[int, int, int, int]] = []
    count = 0
    for member_id, rows in groupby(entries, key=lambda row: row[1]):
        member_entries = list(rows)
        member_lots: dict[int, _Lot] = {}
        while True:  # both streams are sorted by member: advance the lots to this member's
            if pending_lots is None:
                nxt = next(lots_by_member, None)
                if nxt is None:
                    break
                pending_lots = (nxt[0], list(nxt[1]))
            if pending_lots[0] < member_id:
                pending_lots = None
                continue
            if pending_lots[0] == member_id:
                member_lots = {row[0]: _Lot(row[0], row[2]) for row in pending_lots[1]}
                pending_lots = None
            break
        previous = chain.GENESIS
        for row in member_entries:
            previous = chain.link(previous, chain.Fields(*row[1:]))
            hashes.append((previous, row[0]))
        draws.extend(_replay(member_entries, member_lots))
        count += len(member_entries)
        if len(hashes) >= BATCH:
            write_hashes(hashes)
            hashes = []
        if len(draws) >= BATCH:
            write_draws(draws)
            draws = []
    if hashes:
        write_hashes(hashes)
    if draws:
        write_draws(draws)
    return count
