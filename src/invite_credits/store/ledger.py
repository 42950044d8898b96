"""Ledger entries: appended, never changed."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..domain.policy import Reason
from .protocol import Reader, Row, Tx
from .rows import ChainHead, Entry, Expired


def _entry(row: Row) -> Entry:
    return Entry(
        id=row["id"], member_id=row["member_id"], occurred_at=row["occurred_at"], reason=Reason(row["reason"]),
        amount=row["amount"], requested=row["requested"], balance_after=row["balance_after"], lot_id=row["lot_id"],
        invitation_id=row["invitation_id"], company_id=row["company_id"], post_id=row["post_id"],
        referred_member_id=row["referred_member_id"], contacts_count=row["contacts_count"], note=row["note"],
    )


def insert(tx: Tx, *, member_id: int, occurred_at: int, reason: Reason, amount: int, requested: int,
           balance_after: int, lot_id: int | None, invitation_id: int | None, company_id: int | None,
           post_id: int | None, referred_member_id: int | None, contacts_count: int | None, note: str | None) -> int:
    return tx.insert(
        "entry_insert", member_id=member_id, occurred_at=occurred_at, reason=reason.value, amount=amount,
        requested=requested, balance_after=balance_after, lot_id=lot_id, invitation_id=invitation_id,
        company_id=company_id, post_id=post_id, referred_member_id=referred_member_id, contacts_count=contacts_count,
        note=note,
    )


def by_id(r: Reader, *, id: int) -> Entry | None:
    row = r.one("entry_by_id", id=id)
    return _entry(row) if row else None


def head(r: Reader, *, member_id: int) -> ChainHead | None:
    row = r.one("entry_last", member_id=member_id)
    return ChainHead(int(row["balance_after"]), int(row["occurred_at"])) if row else None


def page(r: Reader, *, member_id: int, before_id: int, limit: int, reasons: Sequence[Reason] | None) -> list[Entry]:
    encoded = json.dumps([reason.value for reason in reasons]) if reasons else None
    return [_entry(row) for row in r.all("entries_page", member_id=member_id, before_id=before_id, limit=limit,
                                         reasons=encoded)]


def expire(tx: Tx, *, lot_ids: list[int]) -> list[Expired]:
    """An EXPIRED entry for each of these due lots, at its expiry time, continuing each member's chain."""
    rows = tx.all("expiry_entries_insert", lot_ids=json.dumps(lot_ids))
    return [Expired(int(row["member_id"]), int(row["credits"])) for row in rows]


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
