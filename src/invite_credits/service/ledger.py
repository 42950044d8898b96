"""The ledger's write primitives, run inside a write transaction: expire, grant, take, and append.

Every function that changes a member's credits first writes that member's due expiries, so entries stay in
time order and balance_after chains exactly. Every entry is appended with its place in the member's chain
(seq) and its hash (domain/chain.py), computed from the member's newest entry in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..domain import chain, rules
from ..domain.policy import Policy, Reason, Tier
from ..store import ledger, lots
from ..store.protocol import Reader, Tx
from ..store.rows import ChainHead, Draw, DueLot
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
    reverses_id: int | None = None


_EMPTY = ChainHead(0, 0, 0, chain.GENESIS)


class Head:
    """The member's chain as this transaction found it: the written balance, the time of the next entry (the
    transaction's time, or their last entry's when that is later: a wall clock stepped back, another process's
    clock ahead), the next entry's seq and the hash it continues."""

    def __init__(self, tx: Tx, member_id: int, *, fresh: bool = False) -> None:
        last = _EMPTY if fresh else ledger.head(tx, member_id=member_id) or _EMPTY
        self.member_id = member_id
        self.balance = last.balance_after
        self.at = max(tx.now, last.occurred_at)
        self._last = last

    def append(self, tx: Tx, reason: Reason, amount: int, requested: int, lot_id: int | None, refs: Refs) -> int:
        """Write the next entry of the chain; returns its id."""
        fields = chain.Fields(
            member_id=self.member_id, occurred_at=self.at, reason=reason.value, amount=amount, requested=requested,
            balance_after=self.balance + amount, lot_id=lot_id, invitation_id=refs.invitation_id,
            company_id=refs.company_id, post_id=refs.post_id, referred_member_id=refs.referred_member_id,
            contacts_count=refs.contacts_count, note=refs.note, reverses_id=refs.reverses_id,
        )
        digest = chain.link(self._last.hash, fields)
        entry_id = ledger.insert(
            tx, member_id=self.member_id, seq=self._last.seq + 1, occurred_at=self.at, reason=reason, amount=amount,
            requested=requested, balance_after=fields.balance_after, lot_id=lot_id, invitation_id=refs.invitation_id,
            company_id=refs.company_id, post_id=refs.post_id, referred_member_id=refs.referred_member_id,
            contacts_count=refs.contacts_count, note=refs.note, reverses_id=refs.reverses_id, hash=digest,
        )
        self._last = ChainHead(fields.balance_after, self.at, self._last.seq + 1, digest)
        self.balance = fields.balance_after
        return entry_id


def expire(tx: Tx, due: list[DueLot]) -> tuple[int, set[int]]:
    """Write an EXPIRED entry for each due lot, at its expiry time, and write the lots off. Set-based: three
    statements however many lots, so a sweep holds the write lock briefly. Returns (credits, members)."""
    if not due:
        return 0, set()
    found = ledger.heads(tx, member_ids=sorted({lot.member_id for lot in due}))
    rows = []
    for lot in sorted(due, key=lambda d: (d.member_id, d.expires_at, d.id)):
        last = found.get(lot.member_id, _EMPTY)
        fields = chain.Fields(
            member_id=lot.member_id, occurred_at=lot.expires_at, reason=Reason.EXPIRED.value, amount=-lot.remaining,
            requested=-lot.remaining, balance_after=last.balance_after - lot.remaining, lot_id=lot.id,
            invitation_id=None, company_id=None, post_id=None, referred_member_id=None, contacts_count=None,
            note=None, reverses_id=None,
        )
        digest = chain.link(last.hash, fields)
        found[lot.member_id] = ChainHead(fields.balance_after, lot.expires_at, last.seq + 1, digest)
        rows.append({"member_id": lot.member_id, "seq": last.seq + 1, "occurred_at": lot.expires_at,
                     "amount": -lot.remaining, "balance_after": fields.balance_after, "lot_id": lot.id, "hash": digest})
    written = ledger.insert_expiries(tx, rows=rows)
    if lots.write_off(tx, lot_ids=[lot.id for lot in due]) != written or written != len(due):
        raise RuntimeError("expiry wrote entries and lots out of step")
    credits = sum(lot.remaining for lot in due)
    tx.moved["expired"] += credits
    return credits, {lot.member_id for lot in due}


def take_reads(r: Tx, member_id: int) -> None:
    """The reads `take` makes, for a use case to declare ahead (Tx.ahead)."""
    lots.member_due(r, member_id=member_id, now=r.now)
    lots.spendable(r, member_id=member_id, now=r.now)
    ledger.head(r, member_id=member_id)


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


def grant_reads(r: Tx, policy: Policy, member_id: int, reason: Reason, *, limited: bool = True) -> None:
    """The reads `grant` makes, for a use case to declare ahead (Tx.ahead)."""
    lots.member_due(r, member_id=member_id, now=r.now)
    if limited:
        allowance_left(r, policy, member_id, reason)
    ledger.head(r, member_id=member_id)
    lots.next_id(r)


def grant(tx: Tx, policy: Policy, member_id: int, reason: Reason, requested: int, refs: Refs = Refs(),
          *, limited: bool = True, fresh: bool = False) -> int | None:
    """Grant under the reason's limit, then the cap. Returns the entry id, or None when nothing was written.
    `fresh`: the member was inserted by this transaction, so has no lots or entries to read yet."""
    if not fresh:
        expire_member(tx, member_id)
    left = allowance_left(tx, policy, member_id, reason) if limited else None
    head = Head(tx, member_id, fresh=fresh)
    plan = rules.plan_grant(requested, left, head.balance, policy.balance_cap)
    if plan is None:
        return None
    tx.moved["granted"] += plan.granted
    tx.moved["forfeited"] += plan.forfeited
    lot_id = None
    if plan.granted > 0:
        lot_id = lots.insert(tx, member_id=member_id, reason=reason, amount=plan.granted, granted_at=head.at,
                             expires_at=rules.expires_at(head.at, policy))
    return head.append(tx, reason, plan.granted, plan.requested, lot_id, refs)


def take(tx: Tx, member_id: int, amount: int, reason: Reason, refs: Refs = Refs(), *, partial: bool = False) -> int:
    """Take `amount` from the lots that expire first and write one entry. Returns the entry id.

    Refuses INSUFFICIENT_CREDITS, unless `partial` (admin adjustments), which takes what there is.
    """
    expire_member(tx, member_id)
    draws = []
    for draw in rules.plan_spend(lots.spendable(tx, member_id=member_id, now=tx.now), amount, partial=partial):
        lots.draw(tx, id=draw.lot_id, amount=draw.amount)
        draws.append(Draw(draw.lot_id, draw.amount))
    taken = sum(d.amount for d in draws)
    head = Head(tx, member_id)
    tx.moved["spent" if reason is Reason.INVITATION_SENT else "removed"] += taken
    entry_id = head.append(tx, reason, -taken, -amount, None, refs)
    ledger.insert_draws(tx, entry_id=entry_id, at=head.at, draws=draws)
    return entry_id


def soon(now: int, policy: Policy) -> int:
    return now + policy.expiring_soon_days * 86400


def balance_at(r: Reader, policy: Policy, member_id: int, tier: Tier, now: int) -> BalanceView:
    """The member's balance at `now`: exact whether or not expiry was written yet."""
    live = lots.live_credits(r, member_id=member_id, now=now, soon=soon(now, policy))
    return BalanceView(member_id=member_id, available=live.available, unlimited=tier is Tier.RECRUITER, cap=policy.balance_cap,
                       expiring_soon=live.expiring_soon, next_expiry_at=live.next_expiry_at, as_of=now)
