"""The ledger's past and its proof: balances as they stood, a member's balance over time, the chain's head,
the audit log, and a member's entries for export."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from functools import partial

from ..domain import chain, rules
from ..domain.errors import BadUserInput
from ..domain.policy import HistoryInterval, Tier
from ..store import audit, ledger, lots, members
from ..store.protocol import Reader
from ..store.rows import AuditRecord, Entry, Member
from .idempotency import UseCases
from .ledger import soon
from .reads import before, page_of
from .views import BalancePoint, BalanceView, LedgerHead, Page

_STEP = {HistoryInterval.HOUR: timedelta(hours=1), HistoryInterval.DAY: timedelta(days=1),
         HistoryInterval.WEEK: timedelta(weeks=1)}
EXPORT_PAGE = 1000
# A page of an export: its entries, oldest first, and which of them were reversed (entry id -> reversing id).
ExportPage = tuple[list[Entry], dict[int, int]]


def history_points(start: int, end: int, interval: HistoryInterval, limit: int) -> list[int]:
    """`start`, then every interval after it while not past `end`; months are calendar months counted from
    `start` (31 January, 28 February, 31 March). More than `limit` points is BAD_USER_INPUT."""
    if start > end:
        raise BadUserInput("`from` must not be after `to`.")
    points: list[int] = []
    origin = rules.to_datetime(start)
    k = 0
    while True:
        if interval is HistoryInterval.MONTH:
            at = rules.to_timestamp(rules.add_months(origin, k))
        else:
            at = rules.to_timestamp(origin + _STEP[interval] * k)
        if at > end:
            return points
        if len(points) == limit:
            raise BadUserInput(f"A balance history has at most {limit} points: choose a longer interval or a "
                               "shorter span.")
        points.append(at)
        k += 1


class HistoryReads(UseCases):
    async def balance_as_of(self, member: Member, at: int) -> BalanceView:
        """The balance as it stood at `at`: what the ledger had written by then, less the expiries due by then
        that were written later; expiring soon and next expiry from the lots as they stood then."""
        now = self.now()
        if at > now:
            raise BadUserInput(f"`asOf` is in the future: the balance is known up to now ({rules.iso(now)}).")

        def read(r: Reader) -> BalanceView:
            due = sum(remaining for _, remaining in lots.unwritten_due(r, member_id=member.id, at=at))
            available = ledger.balance_written_at(r, member_id=member.id, at=at) - due
            then = lots.credits_at(r, member_id=member.id, at=at, soon=soon(at, self.policy))
            return BalanceView(member_id=member.id, available=available, unlimited=member.tier is Tier.RECRUITER,
                               cap=self.policy.balance_cap, expiring_soon=min(then.expiring_soon, available),
                               next_expiry_at=then.next_expiry_at if available else None, as_of=at, past=True)

        return await self.db.read_slow(read)

    async def balance_history(self, member: Member, start: int, end: int,
                              interval: HistoryInterval) -> list[BalancePoint]:
        """The available balance at each point: two statements however many points. A point after now is what
        the balance will be if nothing else happens: the credits left, less the expiries due by then."""
        points = history_points(start, end, interval, self.policy.history_max_points)

        def read(r: Reader) -> list[BalancePoint]:
            written = ledger.balances_written_at(r, member_id=member.id, points=points)
            unwritten = lots.unwritten_due(r, member_id=member.id, at=end)
            return [BalancePoint(at, balance - sum(left for expires, left in unwritten if expires <= at))
                    for at, balance in zip(points, written, strict=True)]

        return await self.db.read_slow(read)

    def ledger_head(self, member_id: int) -> LedgerHead:
        head = ledger.head(self.db.reader, member_id=member_id)
        return LedgerHead(head.seq, head.hash) if head else LedgerHead(0, chain.GENESIS)

    def reversed_by(self, entry_id: int) -> Entry | None:
        return ledger.reversed_by(self.db.reader, id=entry_id)

    def audit_record(self, record_id: int) -> AuditRecord | None:
        return audit.by_id(self.db.reader, id=record_id)

    def audit_log(self, member_id: int | None, first: int, after: int | None) -> Page[AuditRecord]:
        return page_of(audit.page(self.db.reader, member_id=member_id, before_id=before(after), limit=first + 1),
                       first)

    async def export(self, member_id: int, since: int = 0) -> AsyncIterator[ExportPage]:
        """The member's entries, oldest first, a page at a time, each with which of them were reversed (and
        by which entry): memory stays bounded however long the ledger."""
        after = 0
        while True:
            page, reversed_by = await self.db.read_slow(partial(export_page, member_id=member_id, after=after,
                                                                since=since))
            if page:
                yield page, reversed_by
            if len(page) < EXPORT_PAGE:
                return
            after = page[-1].id


def export_page(r: Reader, member_id: int, after: int, since: int) -> ExportPage:
    """One page of a member's export: entries after id `after` from `since` on, and which of them were reversed."""
    page = ledger.export_page(r, member_id=member_id, after_id=after, since=since, limit=EXPORT_PAGE)
    return page, ledger.reversed_among(r, ids=[e.id for e in page])


def export_pages(r: Reader, member_id: int, since: int = 0) -> Iterator[ExportPage] | None:
    """The same pages on a reader outside a server (`invite-credits export`); None when there is no such
    member."""
    if members.by_id(r, id=member_id) is None:
        return None

    def pages() -> Iterator[ExportPage]:
        after = 0
        while True:
            page = export_page(r, member_id, after, since)
            if page[0]:
                yield page
            if len(page[0]) < EXPORT_PAGE:
                return
            after = page[0][-1].id

    return pages()
