"""Every invariant of the rulebook, verified over a whole database."""

from __future__ import annotations

import json
from typing import Any

from ..domain import chain, ids
from ..domain.policy import Period, Policy
from ..store import ledger
from ..store.protocol import Reader
from ..store.rows import Entry

CHECKS: dict[str, str] = {
    "check_lot_bounds": "1. a lot's remaining is outside 0..amount",
    "check_negative_balance": "2. a recorded balance is negative",
    "check_chain": "3. an entry does not continue its member's balance chain in time order",
    "check_ledger_matches_lots": "3. a member's ledger does not sum to their live lots",
    "check_written_off": "3. a written-off lot lacks its one EXPIRED entry",
    "check_cap": "4. a grant took the balance above the cap",
    "check_lifetime_allowances": "5. a reason's lifetime allowance was exceeded",
    "check_monthly_allowances": "5. a reason's monthly allowance was exceeded",
    "check_signup_once": "5. a member has other than one SIGNUP entry",
    "check_invitation_debits": "6. an invitation was debited other than once",
    "check_idempotent_answers": "6. an idempotency key answer is dangling or shared",
    "check_connections_symmetric": "a connection is one-sided",
}


def find_violations(r: Reader, policy: Policy) -> list[str]:
    """One line per violation; empty when the database keeps every invariant."""
    rules = policy.earning_limits()
    lifetime = {r.reason.value: r.limit for r in rules if r.limit is not None and r.period is not Period.MONTH}
    lifetime.pop("SIGNUP", None)  # one entry per member, checked on its own: its amount depends on the email
    monthly = {r.reason.value: r.limit for r in rules if r.limit is not None and r.period is Period.MONTH}
    params: dict[str, dict[str, Any]] = {
        "check_cap": {"cap": policy.balance_cap},
        "check_lifetime_allowances": {"limits": json.dumps(lifetime)},
        "check_monthly_allowances": {"limits": json.dumps(monthly)},
    }
    problems: list[str] = []
    for name, meaning in CHECKS.items():
        for row in r.all(name, **params.get(name, {})):
            problems.append(f"{meaning}: {dict(row)}")
    return problems + chain_breaks(r)


def _fields(e: Entry) -> chain.Fields:
    return chain.Fields(
        member_id=e.member_id, occurred_at=e.occurred_at, reason=e.reason.value, amount=e.amount,
        requested=e.requested, balance_after=e.balance_after, lot_id=e.lot_id, invitation_id=e.invitation_id,
        company_id=e.company_id, post_id=e.post_id, referred_member_id=e.referred_member_id,
        contacts_count=e.contacts_count, note=e.note, reverses_id=e.reverses_id,
    )


def chain_breaks(r: Reader, page: int = 10_000) -> list[str]:
    """Recompute every member's hash chain; name the first entry of each chain that does not match (its stored
    hash, or its place). Reads the ledger a page at a time."""
    problems: list[str] = []
    member, previous, seq, broken = 0, chain.GENESIS, 0, False
    after = (0, 0)
    while rows := ledger.chain_page(r, after=after, limit=page):
        for e in rows:
            if e.member_id != member:
                member, previous, seq, broken = e.member_id, chain.GENESIS, 0, False
            seq += 1
            expected = chain.link(previous, _fields(e))
            if not broken and (e.hash != expected or e.seq != seq):
                broken = True
                what = f"its hash is {e.hash}, recomputed {expected}" if e.hash != expected else f"its seq is {e.seq}, not {seq}"
                problems.append(f"hash chain: entry {ids.encode('LedgerEntry', e.id)} (id {e.id}) of member "
                                f"{ids.encode('Member', e.member_id)} does not match: {what}")
            previous = e.hash  # the chain continues from what is stored: one changed row is one problem
        after = (rows[-1].member_id, rows[-1].id)
    return problems
