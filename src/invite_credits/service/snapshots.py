"""A mutation's answer: what it touched, with a snapshot of every object its payload shows, read inside its
write transaction, so the first answer and every replay of it are the same."""

from __future__ import annotations

from collections.abc import Sequence

from ..domain.policy import Policy, Tier
from ..store import companies, discussions, invitations, ledger, lots, members
from ..store.protocol import Tx
from .ledger import balance_at
from .views import Outcome, Snapshot


def outcome(tx: Tx, policy: Policy, member_id: int | None = None, *, members_too: Sequence[int] = (),
            invitation_id: int | None = None, entry_id: int | None = None, company_id: int | None = None,
            post_id: int | None = None, imported: int | None = None, reversed_id: int | None = None) -> Outcome:
    def read(r: Tx, declaring: bool = False) -> Snapshot:
        snap = Snapshot(at=tx.now)
        for mid in dict.fromkeys([*([member_id] if member_id is not None else []), *members_too]):
            member = members.by_id(r, id=mid)
            # The other party's balance is private to them: read live if an admin asks.
            balance = balance_at(r, policy, mid, member.tier if member else Tier.FREE, tx.now) if mid == member_id else None
            if member is not None:
                snap.members[mid] = member
                if balance is not None:
                    snap.balances[mid] = balance
        if invitation_id is not None and (invitation := invitations.by_id(r, id=invitation_id)) is not None:
            snap.invitations[invitation_id] = invitation
        for key in (entry_id, reversed_id):
            if key is None:
                continue
            entry = ledger.by_id(r, id=key)
            if entry is not None:
                snap.entries[key] = entry
            # The lot through the entry, not its lot_id: declared ahead, it goes out with the entry's own read.
            if (declaring or (entry is not None and entry.lot_id is not None)) and (
                    lot := lots.of_entry(r, entry_id=key)) is not None:
                snap.lots[lot.id] = lot
        if company_id is not None:
            company = companies.by_id(r, id=company_id)
            follow = companies.follow(r, member_id=member_id, company_id=company_id) if member_id is not None else None
            if company is not None:
                snap.companies[company_id] = company
                if member_id is not None:
                    snap.following[company_id] = bool(follow and follow.following)
        if post_id is not None and (post := discussions.by_id(r, id=post_id)) is not None:
            snap.posts[post_id] = post
        return snap

    tx.ahead(lambda r: read(r, declaring=True))  # every read that does not depend on another goes out at once
    return Outcome(member_id=member_id, invitation_id=invitation_id, entry_id=entry_id, company_id=company_id,
                   post_id=post_id, imported=imported, reversed_id=reversed_id, snapshot=read(tx))
