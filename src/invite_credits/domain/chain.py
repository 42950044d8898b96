"""The ledger's hash chain: each entry's hash covers the member's previous entry's hash and the entry's own
fields, as the API shows them, so anyone can recompute a member's chain from their ledger with nothing but
SHA-256 and a JSON encoder (docs/rules.md, "The hash chain", has the encoding byte for byte and an example).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from . import ids
from .rules import iso

GENESIS = "0" * 64


@dataclass(frozen=True)
class Fields:
    """What an entry's hash covers: every field of the entry a reader can see, but its own ID (given by the
    database after the hash is computed) and `reversedBy` (written later, by another entry)."""

    member_id: int
    occurred_at: int
    reason: str
    amount: int
    requested: int
    balance_after: int
    lot_id: int | None
    invitation_id: int | None
    company_id: int | None
    post_id: int | None
    referred_member_id: int | None
    contacts_count: int | None
    note: str | None
    reverses_id: int | None


def _id(kind: str, key: int | None) -> str:
    return f'"{ids.encode(kind, key)}"' if key is not None else "null"


def _number(value: int | None) -> str:
    return "null" if value is None else str(int(value))


def canonical(f: Fields) -> bytes:
    """The entry's fields as compact JSON, keys sorted, UTF-8, non-ASCII kept as is: API names, global IDs,
    ISO-8601 UTC times. Written key by key in sorted order (the same bytes as `json.dumps(..., sort_keys=True,
    separators=(",", ":"), ensure_ascii=False)`, a test checks), as this runs once per entry written."""
    note = "null" if f.note is None else json.dumps(f.note, ensure_ascii=False)
    text = (f'{{"amount":{int(f.amount)},"balanceAfter":{int(f.balance_after)},"company":{_id("Company", f.company_id)},'
            f'"contactsCount":{_number(f.contacts_count)},"creditLot":{_id("CreditLot", f.lot_id)},'
            f'"invitation":{_id("Invitation", f.invitation_id)},"member":{_id("Member", f.member_id)},'
            f'"note":{note},"occurredAt":"{iso(f.occurred_at)}","post":{_id("DiscussionPost", f.post_id)},'
            f'"reason":{json.dumps(f.reason)},"referredMember":{_id("Member", f.referred_member_id)},'
            f'"requested":{int(f.requested)},"reverses":{_id("LedgerEntry", f.reverses_id)}}}')
    return text.encode("utf-8")


def link(previous: str, f: Fields) -> str:
    """The entry's hash: hex SHA-256 of the previous entry's hash (64 ASCII hex digits, GENESIS for the first)
    followed by the entry's canonical encoding."""
    return hashlib.sha256(previous.encode("ascii") + canonical(f)).hexdigest()
