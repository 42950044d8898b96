"""A member's ledger as a file: CSV (RFC 4180) for `GET /ledger.csv`, NDJSON too for `invite-credits export`.

One row per entry, oldest first, the API's IDs and names. Cells a spreadsheet would run as a formula (text
starting with `=`, `+`, `-`, `@`, a tab or a carriage return: OWASP's CSV injection rule) are written as text
with a leading `'`; numeric cells stay numbers. The file is streamed a page of entries at a time.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Iterable
from typing import Any, TextIO

from ..domain import ids
from ..domain.rules import iso
from ..store.rows import Entry

COLUMNS = ("id", "occurred_at", "reason", "amount", "requested", "balance_after", "credit_lot", "invitation",
           "company", "post", "referred_member", "contacts_count", "note", "reverses", "reversed_by", "seq", "hash")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def record(e: Entry, reversed_by: int | None) -> dict[str, Any]:
    """An entry as an export row: the API's global IDs, ISO-8601 UTC times, numbers as numbers."""
    def ref(kind: str, key: int | None) -> str | None:
        return ids.encode(kind, key) if key is not None else None

    return {
        "id": ids.encode("LedgerEntry", e.id), "occurred_at": iso(e.occurred_at), "reason": e.reason.value,
        "amount": e.amount, "requested": e.requested, "balance_after": e.balance_after,
        "credit_lot": ref("CreditLot", e.lot_id), "invitation": ref("Invitation", e.invitation_id),
        "company": ref("Company", e.company_id), "post": ref("DiscussionPost", e.post_id),
        "referred_member": ref("Member", e.referred_member_id), "contacts_count": e.contacts_count, "note": e.note,
        "reverses": ref("LedgerEntry", e.reverses_id), "reversed_by": ref("LedgerEntry", reversed_by),
        "seq": e.seq, "hash": e.hash,
    }


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return "" if value is None else value


def csv_text(rows: Iterable[dict[str, Any]], header: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if header:
        writer.writerow(COLUMNS)
    writer.writerows([_cell(row[c]) for c in COLUMNS] for row in rows)
    return out.getvalue()


def ndjson_text(rows: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n" for row in rows)


async def lines(pages: AsyncIterator[tuple[list[Entry], dict[int, int]]], form: str) -> AsyncIterator[str]:
    """The export, a page at a time: CSV with its header row first, or NDJSON."""
    if form == "csv":
        yield csv_text([], header=True)
    async for page, reversed_by in pages:
        rows = [record(e, reversed_by.get(e.id)) for e in page]
        yield csv_text(rows) if form == "csv" else ndjson_text(rows)


def write(pages: Iterable[tuple[list[Entry], dict[int, int]]], form: str, out: TextIO) -> None:
    """The export to `out` (operators' `invite-credits export`), a page at a time."""
    if form == "csv":
        out.write(csv_text([], header=True))
    for page, reversed_by in pages:
        rows = [record(e, reversed_by.get(e.id)) for e in page]
        out.write(csv_text(rows) if form == "csv" else ndjson_text(rows))
    out.flush()
