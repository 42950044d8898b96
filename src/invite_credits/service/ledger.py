"""The ledger's write primitives, run inside a write transaction: expire, grant, take.

Every function that changes a member's credits first writes that member's due expiries, so entries stay in
time order and balance_after chains exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..domain import rules
from ..domain.policy import Policy, Reason, Tier
from ..store import ledger, lots
from ..store.protocol import Reader, Tx
from ..store.rows import DueLot
from ..views import BalanceView


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
    last = ledger.head(tx, member_id=member_id)
    if last is None:
        return 0, tx.now
    return last.balance_after, max(tx.now, last.occurred_at)


def _append(tx: Tx, member_id: int, reason: Reason, amount: int, requested: int, balance_after: int,
            occurred_at: int, lot_id: int | None, refs: Refs) -> int:
    return ledger.insert(
        tx, member_id=member_id, occurred_at=occurred_at, reason=reason, amount=amount, requested=requested,
        balance_after=balance_after, lot_id=lot_id, invitation_id=refs.invitation_id, company_id=refs.company_id,
        post_id=refs.post_id, referred_member_id=refs.referred_member_id, contacts_count=refs.contacts_count,
        note=refs.note,
    )


def expire(tx: Tx, due: list[DueLot]) -> tuple[int, set[int]]:
    """Write an EXPIRED entry for each due lot, at its expiry time, and write the lots off. Set-based: two
    statements however many lots, so a sweep holds the write lock briefly. Returns (credits, members)."""
    if not due:
        return 0, set()
    lot_ids = [lot.id for lot in due]
    written = ledger.expire(tx, lot_ids=lot_ids)
    if lots.write_off(tx, lot_ids=lot_ids) != len(written) or len(written) != len(due):
        raise RuntimeError("expiry wrote entries and lots out of step")
    credits = sum(e.credits for e in written)
    tx.moved["expired"] += credits
    return credits, {e.member_id for e in written}


def expire_member(tx: Tx, member_id: int) -> None:
    """Write the member's due expiries before anything else touches their credits."""
    expire(tx, lots.member_due(tx, member_id=member_id, now=tx.now))


def allowance_left(tx: Tx, policy: Policy, member_id: int, reason: Reason) -> int | None:
    """What the reason may still grant this member in the current period; None when unlimited."""
    rule = policy.earning_limit(reason)
    if rule.limit is None:
        return None
    since = rules.period_start(rule.period, tx.now) or 0
    return rule.limit - ledger.granted_since(tx, member_id=member_id, since=since, reasons=[reason]).get(reason, 0)


def grant(tx: Tx, policy: Policy, member_id: int, reason: Reason, requested: int, refs: Refs = Refs(),
          *, limited: bool = True) -> int | None:
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
        lot_id = lots.insert(tx, member_id=member_id, reason=reason, amount=plan.granted, granted_at=at,
                             expires_at=rules.expires_at(at, policy))
    return _append(tx, member_id, reason, plan.granted, plan.requested, available + plan.granted, at, lot_id, refs)


def take(tx: Tx, member_id: int, amount: int, reason: Reason, refs: Refs = Refs(), *, partial: bool = False) -> int:
    """Take `amount` from the lots that expire first and write one entry. Returns the entry id.

    Refuses INSUFFICIENT_CREDITS, unless `partial` (admin adjustments), which takes what there is.
    """
    expire_member(tx, member_id)
    taken = 0
    for draw in rules.plan_spend(lots.spendable(tx, member_id=member_id, now=tx.now), amount, partial=partial):
        if not lots.draw(tx, id=draw.lot_id, amount=draw.amount):
            raise RuntimeError(f"lot {draw.lot_id} changed under a write")
        taken += draw.amount
    written, at = head(tx, member_id)
    tx.moved["spent" if reason is Reason.INVITATION_SENT else "removed"] += taken
    return _append(tx, member_id, reason, -taken, -amount, written - taken, at, None, refs)


def soon(now: int, policy: Policy) -> int:
    return now + policy.expiring_soon_days * 86400


def balance_at(r: Reader, policy: Policy, member_id: int, tier: Tier, now: int) -> BalanceView:
    """The member's balance at `now`: exact whether or not expiry was written yet."""
    live = lots.live_credits(r, member_id=member_id, now=now, soon=soon(now, policy))
    return BalanceView(member_id=member_id, available=live.available, unlimited=tier is Tier.RECRUITER, cap=policy.balance_cap,
                       expiring_soon=live.expiring_soon, next_expiry_at=live.next_expiry_at, as_of=now)
