"""Reads: bounded ones inline on the store's reader; unbounded ones (marked slow) off the event loop."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from ..domain import rules
from ..domain.policy import InvitationStatus, Period, Reason
from ..store import companies, connections, discussions, invitations, ledger, lots, members
from ..store.protocol import Reader
from ..store.rows import Company, Entry, Invitation, Lot, Member, Post
from .idempotency import UseCases
from .ledger import balance_at
from .views import BalanceView, EarningProgress, Page

T = TypeVar("T")
NEVER = 2**62  # a keyset bound past every id: the first page



class Reads(UseCases):
    def member(self, member_id: int | None) -> Member | None:
        return members.by_id(self.db.reader, id=member_id) if member_id is not None else None

    def balance(self, member: Member) -> BalanceView:
        return balance_at(self.db.reader, self.policy, member.id, member.tier, self.now())

    def ledger(self, member_id: int, first: int, after: int | None, reasons: Sequence[Reason] | None) -> Page[Entry]:
        rows = ledger.page(self.db.reader, member_id=member_id, before_id=before(after), limit=first + 1,
                           reasons=reasons)
        return page_of(rows, first)

    def entries_after(self, member_id: int, after_id: int, limit: int) -> list[Entry]:
        """The member's entries newer than `after_id`, oldest first."""
        return ledger.after(self.db.reader, member_id=member_id, after_id=after_id, limit=limit)

    def lots(self, member_id: int, first: int, after: int | None, include_spent: bool) -> Page[Lot]:
        rows = lots.page(self.db.reader, member_id=member_id, before_id=before(after), limit=first + 1,
                         include_spent=include_spent, now=self.now())
        return page_of(rows, first)

    def entry(self, entry_id: int | None) -> Entry | None:
        return ledger.by_id(self.db.reader, id=entry_id) if entry_id is not None else None

    def lot(self, lot_id: int) -> Lot | None:
        return lots.by_id(self.db.reader, id=lot_id)

    def invitation(self, invitation_id: int | None) -> Invitation | None:
        return invitations.by_id(self.db.reader, id=invitation_id) if invitation_id is not None else None

    def invitations(self, member_id: int, sent: bool, status: InvitationStatus | None, first: int,
                    after: int | None) -> Page[Invitation]:
        rows = invitations.page(self.db.reader, member_id=member_id, sent=sent, status=status,
                                before_id=before(after), limit=first + 1)
        return page_of(rows, first)

    def connections(self, member_id: int, first: int, after: int | None) -> Page[tuple[int, Member]]:
        rows = connections.page(self.db.reader, member_id=member_id, before_id=before(after), limit=first + 1)
        return page_of(rows, first)

    def company(self, company_id: int | None) -> Company | None:
        return companies.by_id(self.db.reader, id=company_id) if company_id is not None else None

    async def companies(self, search: str | None, first: int, after: tuple[str, int] | None) -> Page[Company]:
        term = (search or "").strip() or None
        rows = await self.db.read_slow(lambda r: companies.page(r, search=term, after=after, limit=first + 1))
        return page_of(rows, first)

    def follows(self, member_id: int, company_id: int) -> bool:
        follow = companies.follow(self.db.reader, member_id=member_id, company_id=company_id)
        return bool(follow and follow.following)

    def post(self, post_id: int | None) -> Post | None:
        return discussions.by_id(self.db.reader, id=post_id) if post_id is not None else None

    async def earning(self, member: Member | None) -> list[EarningProgress]:
        """Every earning rule; with a member, what they earned in the current period."""
        signup = rules.signup_credits(member.email, self.policy) if member else None
        limits = self.policy.earning_limits(signup)
        earned: dict[Reason, int] = {}
        if member is not None:
            month_start = rules.period_start(Period.MONTH, self.now()) or 0
            lifetime = [r.reason for r in limits if r.period is not Period.MONTH]
            monthly = [r.reason for r in limits if r.period is Period.MONTH]

            def granted(r: Reader) -> dict[Reason, int]:
                return (ledger.granted_since(r, member_id=member.id, since=0, reasons=lifetime)
                        | ledger.granted_since(r, member_id=member.id, since=month_start, reasons=monthly))

            earned = await self.db.read_slow(granted)
        return [EarningProgress(r.reason, r.credits_per_action, r.period, r.limit, earned.get(r.reason, 0))
                for r in limits]


def page_of(rows: list[T], first: int) -> Page[T]:
    """A page of `first` items from a query asked for first + 1: the extra row says another page follows."""
    return Page(rows[:first], len(rows) > first)


def before(key: int | None) -> int:
    return key if key is not None else NEVER
