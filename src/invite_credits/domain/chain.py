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


def _id(kind: str, key: int | None) -> str | None:
    return ids.encode(kind, key) if key is not None else None


def canonical(f: Fields) -> bytes:
    """The entry's fields as compact JSON, keys sorted, UTF-8, non-ASCII kept as is: API names, global IDs,
    ISO-8601 UTC times."""
    document = {
        "amount": f.amount,
        "balanceAfter": f.balance_after,
        "company": _id("Company", f.company_id),
        "contactsCount": f.contacts_count,
        "creditLot": _id("CreditLot", f.lot_id),
        "invitation": _id("Invitation", f.invitation_id),
        "member": ids.encode("Member", f.member_id),
        "note": f.note,
        "occurredAt": iso(f.occurred_at),
        "post": _id("DiscussionPost", f.post_id),
        "reason": f.reason,
        "referredMember": _id("Member", f.referred_member_id),
        "requested": f.requested,
        "reverses": _id("LedgerEntry", f.reverses_id),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def link(previous: str, f: Fields) -> str:
    """The entry's hash: hex SHA-256 of the previous entry's hash (64 ASCII hex digits, GENESIS for the first)
    followed by the entry's canonical encoding."""
    return hashlib.sha256(previous.encode("ascii") + canonical(f)).hexdigest()
