"""The ledger's write primitives, run inside a write transaction: expire, grant, spend.

Every function that changes a member's credits first writes that member's due
expiries, so entries stay in time order and balance_after chains exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from .domain import rules
from .domain.policy import Policy, Reason, Tier
from .store.database import Tx
from .views import BalanceView


@dataclass(frozen=True)
class Refs:
    """What an entry refers to."""

    invitation_id: int | None = None
    company_id: int | None = None
    post_id: int | None = None
    referred_member_id: int | None = None
    contacts_count: int | None = None
    note: str | None = None


def head(tx: Tx, member_id: int) -> tuple[int, int]:
    """The member's written balance and the time of their next entry: the transaction's time, or their last
    entry's when that is later (a wall clock stepped back, another process's clock ahead), so the chain stays
    in time order and no write is refused for it."""
    row = tx.one("entry_last", member_id=member_id)
    if row is None:
        return 0, tx.now
    return int(row["balance_after"]), max(tx.now, int(row["occurred_at"]))


def _append(
    tx: Tx, member_id: int, reason: Reason, amount: int, requested: int, balance_after: int,
    occurred_at: int, lot_id: int | None, refs: Refs,
) -> int:
    return tx.insert(
        "entry_insert",
        member_id=member_id, occurred_at=occurred_at, reason=reason.value, amount=amount, requested=requested,
        balance_after=balance_after, lot_id=lot_id, invitation_id=refs.invitation_id, company_id=refs.company_id,
        post_id=refs.post_id, referred_member_id=refs.referred_member_id, contacts_count=refs.contacts_count,
        note=refs.note,
    )


def expire_due(tx: Tx, member_id: int | None = None, limit: int = 2**62) -> tuple[int, int, set[int]]:
    """Write an EXPIRED entry, at the lot's expiry time, for each due lot: one member's, or (for the sweep)
    at most `limit` of everyone's, oldest first. Returns (lots, credits, members).

    Set-based: a few statements however many lots, so a sweep holds the GIL and the write lock briefly.
    """
    if member_id is None:
        rows = tx.all("expiry_entries_insert", now=tx.now, limit=limit)
        marked = tx.run("expiry_lots_write_off", now=tx.now, limit=limit) if rows else 0
    else:
        rows = tx.all("member_expiry_entries_insert", member_id=member_id, now=tx.now)
        marked = tx.run("member_expiry_lots_write_off", member_id=member_id, now=tx.now) if rows else 0
    if marked != len(rows):
        raise RuntimeError("expiry wrote entries and lots out of step")
    if not rows:
        return 0, 0, set()
    credits = sum(row["credits"] for row in rows)
    tx.moved["expired"] += credits
    return len(rows), credits, {row["member_id"] for row in rows}


def expire_member(tx: Tx, member_id: int) -> tuple[int, int]:
    """Write the member's due expiries before anything else touches their credits. Returns (lots, credits)."""
    lots, credits, _ = expire_due(tx, member_id)
    return lots, credits


def allowance_left(tx: Tx, policy: Policy, member_id: int, reason: Reason) -> int | None:
    """What the reason may still grant this member in the current period; None when unlimited."""
    rule = policy.earning_limit(reason)
    if rule.limit is None:
        return None
    since = rules.period_start(rule.period, tx.now) or 0
    row = tx.one("reason_granted_since", member_id=member_id, reason=reason.value, since=since)
    granted = int(row["granted"]) if row else 0
    return rule.limit - granted


def grant(
    tx: Tx, policy: Policy, member_id: int, reason: Reason, requested: int, refs: Refs = Refs(),
    *, limited: bool = True,
) -> int | None:
    """Grant under the reason's limit, then the cap. Returns the entry id, or None when nothing was written."""
    expire_member(tx, member_id)
    left = allowance_left(tx, policy, member_id, reason) if limited else None
    available, at = head(tx, member_id)
    plan = rules.plan_grant(requested, left, available, policy.balance_cap)
    if plan is None:
        return None
    tx.moved["granted"] += plan.granted
    tx.moved["forfeited"] += plan.forfeited
    lot_id = None
    if plan.granted > 0:
        lot_id = tx.insert(
            "lot_insert", member_id=member_id, reason=reason.value, amount=plan.granted,
            granted_at=at, expires_at=rules.expires_at(at, policy),
        )
    return _append(tx, member_id, reason, plan.granted, plan.requested, available + plan.granted, at, lot_id, refs)


def take(tx: Tx, member_id: int, amount: int, reason: Reason, refs: Refs = Refs(), *, partial: bool = False) -> int:
    """Take `amount` from the lots that expire first and write one entry. Returns the entry id.

    Refuses INSUFFICIENT_CREDITS, unless `partial` (admin adjustments), which takes what there is.
    """
    expire_member(tx, member_id)
    lots = [rules.Lot(r["id"], r["remaining"], r["expires_at"]) for r in tx.all("lots_spendable", member_id=member_id, now=tx.now)]
    draws = rules.plan_spend(lots, amount, partial=partial)
    taken = 0
    for draw in draws:
        if tx.run("lot_draw", id=draw.lot_id, amount=draw.amount) != 1:
            raise RuntimeError(f"lot {draw.lot_id} changed under a write")
        taken += draw.amount
    written, at = head(tx, member_id)
    tx.moved["spent" if reason is Reason.INVITATION_SENT else "removed"] += taken
    return _append(tx, member_id, reason, -taken, -amount, written - taken, at, None, refs)


def balance_at(tx: Tx, policy: Policy, member_id: int, tier: Tier) -> BalanceView:
    return balance_from_row(tx.one("balance", member_id=member_id, now=tx.now, soon=soon(tx.now, policy)), policy, tier, tx.now)


def soon(now: int, policy: Policy) -> int:
    return now + policy.expiring_soon_days * 86400


def balance_from_row(row: object, policy: Policy, tier: Tier, now: int) -> BalanceView:
    available = int(row["available"]) if row else 0  # type: ignore[index]
    return BalanceView(
        available=available,
        unlimited=tier is Tier.RECRUITER,
        cap=policy.balance_cap,
        expiring_soon=int(row["expiring_soon"]) if row else 0,  # type: ignore[index]
        next_expiry_at=row["next_expiry_at"] if row else None,  # type: ignore[index]
        as_of=now,
    )
