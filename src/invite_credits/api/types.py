"""The schema's objects: members, their lots, ledger entries, invitations, companies and posts, with their
connections. Private fields check the reader; objects of a mutation's payload carry its snapshot."""

from __future__ import annotations

from typing import Annotated, cast

import strawberry

from ..domain import ids
from ..domain.policy import DiscussionKind, HistoryInterval, InvitationStatus, Reason
from ..service.views import Snapshot
from ..store import rows
from .connections import PageInfo, after_key, check_first, connection, cursor
from .context import Info
from .scalars import DateTime
from .values import (
    Balance,
    BalancePoint,
    EarningRule,
    Education,
    LedgerHead,
    LedgerReason,
    Position,
    Profile,
    TierEnum,
    earning_rules,
)


@strawberry.interface(description="An object with a global ID, fetchable with Query.node.")
class Node:
    id: strawberry.ID = strawberry.field(description="Global ID, opaque.")


@strawberry.type(description="A credit lot: what one grant added, and what is left of it.")
class CreditLot(Node):
    view: strawberry.Private[rows.Lot]
    snapshot: strawberry.Private[Snapshot | None]
    id: strawberry.ID = strawberry.field(description="Global ID.")
    reason: LedgerReason = strawberry.field(description="Why the credits were granted.")
    amount: int = strawberry.field(description="Credits the grant added.")
    remaining: int = strawberry.field(description="Credits left; for an expired lot, what it held when it expired.")
    granted_at: DateTime = strawberry.field(description="When the credits were granted.")
    expires_at: DateTime = strawberry.field(description="When what is left expires: 12 calendar months after grantedAt.")

    @strawberry.field(description="True at and after expiresAt: the lot's credits are gone.")
    def expired(self, info: Info) -> bool:
        now = self.snapshot.at if self.snapshot else info.context.service.now()
        return self.view.expires_at <= now

    @classmethod
    def of(cls, view: rows.Lot, snapshot: Snapshot | None = None) -> CreditLot:
        return cls(
            view=view, snapshot=snapshot, id=strawberry.ID(ids.encode("CreditLot", view.id)), reason=view.reason, amount=view.amount,
            remaining=view.remaining, granted_at=view.granted_at, expires_at=view.expires_at,  # type: ignore[arg-type]
        )


@strawberry.type(description="A company members can follow.")
class Company(Node):
    view: strawberry.Private[rows.Company]
    snapshot: strawberry.Private[Snapshot | None]
    id: strawberry.ID = strawberry.field(description="Global ID.")
    name: str = strawberry.field(description="Display name.")
    slug: str = strawberry.field(description="Unique URL name.")

    @strawberry.field(description="Whether the signed-in member follows this company (false when anonymous).")
    def viewer_follows(self, info: Info) -> bool:
        member_id = info.context.actor.member_id
        if self.snapshot is not None and self.view.id in self.snapshot.following:
            return self.snapshot.following[self.view.id]
        return member_id is not None and info.context.service.follows(member_id, self.view.id)

    @classmethod
    def of(cls, view: rows.Company, snapshot: Snapshot | None = None) -> Company:
        return cls(view=view, snapshot=snapshot, id=strawberry.ID(ids.encode("Company", view.id)), name=view.name, slug=view.slug)


@strawberry.type(description="A post, comment or article in a discussion.")
class DiscussionPost(Node):
    view: strawberry.Private[rows.Post]
    snapshot: strawberry.Private[Snapshot | None]
    id: strawberry.ID = strawberry.field(description="Global ID.")
    kind: DiscussionKind = strawberry.field(description="Post, comment or article.")
    body: str = strawberry.field(description="The text.")
    posted_at: DateTime = strawberry.field(description="When it was posted.")

    @strawberry.field(description="Who wrote it.")
    def author(self, info: Info) -> Member | None:
        return load_member(info, self.view.member_id, self.snapshot)

    @classmethod
    def of(cls, view: rows.Post, snapshot: Snapshot | None = None) -> DiscussionPost:
        return cls(view=view, snapshot=snapshot, id=strawberry.ID(ids.encode("DiscussionPost", view.id)), kind=view.kind,
                   body=view.body, posted_at=view.posted_at)  # type: ignore[arg-type]


@strawberry.type(description="A connection invitation from one member to another.")
class Invitation(Node):
    view: strawberry.Private[rows.Invitation]
    snapshot: strawberry.Private[Snapshot | None]
    id: strawberry.ID = strawberry.field(description="Global ID.")
    status: InvitationStatus = strawberry.field(description="Where it stands.")
    message: str | None = strawberry.field(description="The inviter's personal message, if any.")
    follow_up_message: str | None = strawberry.field(description="The inviter's one follow-up, if sent.")
    sent_at: DateTime = strawberry.field(description="When it was sent.")
    responded_at: DateTime | None = strawberry.field(description="When it was accepted, declined or withdrawn.")
    credits_spent: int = strawberry.field(description="Credits the inviter spent (0 for recruiters).")

    @strawberry.field(description="Who sent it.")
    def inviter(self, info: Info) -> Member:
        member = load_member(info, self.view.inviter_id, self.snapshot)
        assert member is not None
        return member

    @strawberry.field(description="Who was invited.")
    def invitee(self, info: Info) -> Member:
        member = load_member(info, self.view.invitee_id, self.snapshot)
        assert member is not None
        return member

    @classmethod
    def of(cls, view: rows.Invitation, snapshot: Snapshot | None = None) -> Invitation:
        return cls(
            view=view, snapshot=snapshot, id=strawberry.ID(ids.encode("Invitation", view.id)), status=view.status,
            message=view.message, follow_up_message=view.follow_up_message, sent_at=view.sent_at,  # type: ignore[arg-type]
            responded_at=view.responded_at, credits_spent=view.credits_spent,  # type: ignore[arg-type]
        )


@strawberry.type(description="One change of a member's credits. Entries are never changed or removed.")
class LedgerEntry(Node):
    view: strawberry.Private[rows.Entry]
    snapshot: strawberry.Private[Snapshot | None]
    id: strawberry.ID = strawberry.field(description="Global ID.")
    occurred_at: DateTime = strawberry.field(description="When it happened (for EXPIRED: the lot's expiry time).")
    reason: LedgerReason = strawberry.field(description="Why credits changed.")
    amount: int = strawberry.field(description="Signed change of available credits: +granted, -spent, -expired.")
    requested: int = strawberry.field(
        description="For grants: what the action earned before the reason's limit and the cap. Otherwise equal to amount."
    )
    balance_after: int = strawberry.field(description="The member's balance right after this entry.")
    note: str | None = strawberry.field(description="An admin's note on an adjustment, or a correction's reason.")
    contacts_count: int | None = strawberry.field(description="For CONTACTS_IMPORTED: contacts newly imported.")
    hash: str = strawberry.field(description="Hex SHA-256 over the member's previous entry's hash and this entry's "
                                             "canonical encoding (docs/rules.md): the member's hash chain.")

    @strawberry.field(description="For REVERSAL: the entry this one reverses.")
    def reverses(self, info: Info) -> LedgerEntry | None:
        key, snap = self.view.reverses_id, self.snapshot
        if key is None:
            return None
        view = snap.entries.get(key) if snap and key in snap.entries else info.context.service.entry(key)
        return LedgerEntry.of(view, snap) if view else None

    @strawberry.field(description="The REVERSAL entry that reversed this one, if any.")
    def reversed_by(self, info: Info) -> LedgerEntry | None:
        snap = self.snapshot
        if snap is not None:  # a payload shows the entry as its mutation left it
            kept = next((e for e in snap.entries.values() if e.reverses_id == self.view.id), None)
            return LedgerEntry.of(kept, snap) if kept else None
        view = info.context.service.reversed_by(self.view.id)
        return LedgerEntry.of(view) if view else None

    @strawberry.field(description="The invitation sent or accepted.")
    def invitation(self, info: Info) -> Invitation | None:
        key, snap = self.view.invitation_id, self.snapshot
        view = snap.invitations.get(key) if snap and key in snap.invitations else info.context.service.invitation(key)
        return Invitation.of(view, snap) if view else None

    @strawberry.field(description="The company followed.")
    def company(self, info: Info) -> Company | None:
        key, snap = self.view.company_id, self.snapshot
        view = snap.companies.get(key) if snap and key in snap.companies else info.context.service.company(key)
        return Company.of(view, snap) if view else None

    @strawberry.field(description="The discussion contribution rewarded.")
    def post(self, info: Info) -> DiscussionPost | None:
        key, snap = self.view.post_id, self.snapshot
        view = snap.posts.get(key) if snap and key in snap.posts else info.context.service.post(key)
        return DiscussionPost.of(view, snap) if view else None

    @strawberry.field(description="For REFERRAL: the member who signed up with the referral code.")
    def referred_member(self, info: Info) -> Member | None:
        return load_member(info, self.view.referred_member_id, self.snapshot)

    @strawberry.field(description="The lot this entry made (grants) or wrote off (EXPIRED).")
    def credit_lot(self, info: Info) -> CreditLot | None:
        key, snap = self.view.lot_id, self.snapshot
        if key is None:
            return None
        view = snap.lots.get(key) if snap and key in snap.lots else info.context.service.lot(key)
        return CreditLot.of(view, snap) if view else None

    @classmethod
    def of(cls, view: rows.Entry, snapshot: Snapshot | None = None) -> LedgerEntry:
        return cls(
            view=view, snapshot=snapshot, id=strawberry.ID(ids.encode("LedgerEntry", view.id)), occurred_at=view.occurred_at,  # type: ignore[arg-type]
            reason=view.reason, amount=view.amount, requested=view.requested, balance_after=view.balance_after,
            note=view.note, contacts_count=view.contacts_count, hash=view.hash,
        )


@strawberry.type(description="An entry in a page of the ledger.")
class LedgerEntryEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this entry.")
    node: LedgerEntry = strawberry.field(description="The entry.")


@strawberry.type(description="Ledger entries, newest first.")
class LedgerEntryConnection:
    edges: list[LedgerEntryEdge] = strawberry.field(description="This page's entries.")
    page_info: PageInfo = strawberry.field(description="Where this page stands.")


@strawberry.type(description="A lot in a page of lots.")
class CreditLotEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this lot.")
    node: CreditLot = strawberry.field(description="The lot.")


@strawberry.type(description="Credit lots, newest first.")
class CreditLotConnection:
    edges: list[CreditLotEdge] = strawberry.field(description="This page's lots.")
    page_info: PageInfo = strawberry.field(description="Where this page stands.")


@strawberry.type(description="An invitation in a page of invitations.")
class InvitationEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this invitation.")
    node: Invitation = strawberry.field(description="The invitation.")


@strawberry.type(description="Invitations, newest first.")
class InvitationConnection:
    edges: list[InvitationEdge] = strawberry.field(description="This page's invitations.")
    page_info: PageInfo = strawberry.field(description="Where this page stands.")


@strawberry.type(description="A member in a page of members.")
class MemberEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this member.")
    node: Member = strawberry.field(description="The member.")


@strawberry.type(description="Members, most recently connected first.")
class MemberConnection:
    edges: list[MemberEdge] = strawberry.field(description="This page's members.")
    page_info: PageInfo = strawberry.field(description="Where this page stands.")


@strawberry.type(description="A company in a page of companies.")
class CompanyEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this company.")
    node: Company = strawberry.field(description="The company.")


@strawberry.type(description="Companies by name.")
class CompanyConnection:
    edges: list[CompanyEdge] = strawberry.field(description="This page's companies.")
    page_info: PageInfo = strawberry.field(description="Where this page stands.")


def ledger_connection(
    info: Info, member_id: int, first: int | None, after: str | None, reasons: list[Reason] | None
) -> LedgerEntryConnection:
    service = info.context.service
    page = service.ledger(member_id, check_first(first, service), after_key("LedgerEntry", after), reasons)
    return connection(LedgerEntryConnection, LedgerEntryEdge, page.items, page.has_next, after,
                      cursor_of=lambda e: cursor("LedgerEntry", e.id), node_of=LedgerEntry.of)


_PRIVATE = "Private: null with a FORBIDDEN error for anyone but the member and admins."


@strawberry.type(description="A member of the network.")
class Member(Node):
    view: strawberry.Private[rows.Member]
    snapshot: strawberry.Private[Snapshot | None]
    id: strawberry.ID = strawberry.field(description="Global ID; also the `sub` of the member's token.")
    name: str = strawberry.field(description="Display name.")
    headline: str | None = strawberry.field(description="One line under the name.")
    tier: TierEnum = strawberry.field(description="FREE, PREMIUM or RECRUITER.")
    joined_at: DateTime = strawberry.field(description="When the member signed up.")

    @strawberry.field(description=_PRIVATE)
    def email(self, info: Info) -> str | None:
        info.context.require_reader(self.view.id)
        return self.view.email

    @strawberry.field(description="Code a friend signs up with to earn this member referral credits. " + _PRIVATE)
    def referral_code(self, info: Info) -> str | None:
        info.context.require_reader(self.view.id)
        return self.view.referral_code

    @strawberry.field(description="The balance now or, with asOf, as it stood then (a past balance has its own id). "
                                  + _PRIVATE)
    def balance(self, info: Info, as_of: DateTime | None = None) -> Balance | None:
        info.context.require_reader(self.view.id)
        if as_of is not None:
            return cast(Balance, past_balance(info, self.view, as_of))  # an awaitable: read off the event loop
        kept = self.snapshot.balances.get(self.view.id) if self.snapshot else None
        return Balance.of(kept or info.context.service.balance(self.view))

    @strawberry.field(description="The available balance at `from`, then every interval after it while not past `to` "
                                  "(at most 1,000 points). " + _PRIVATE)
    async def balance_history(self, info: Info, from_: Annotated[DateTime, strawberry.argument(name="from")],
                              to: DateTime, interval: HistoryInterval) -> list[BalancePoint] | None:
        info.context.require_reader(self.view.id)
        points = await info.context.service.balance_history(self.view, from_, to, interval)
        return [BalancePoint.of(p) for p in points]

    @strawberry.field(description="The count and the newest hash of this member's hash chain. " + _PRIVATE)
    def ledger_head(self, info: Info) -> LedgerHead | None:
        info.context.require_reader(self.view.id)
        return LedgerHead.of(info.context.service.ledger_head(self.view.id))

    @strawberry.field(description="Newest entry first. " + _PRIVATE)
    def ledger(
        self, info: Info, first: int | None = 20, after: str | None = None, reasons: list[LedgerReason] | None = None
    ) -> LedgerEntryConnection | None:
        info.context.require_reader(self.view.id)
        return ledger_connection(info, self.view.id, first, after, reasons)

    @strawberry.field(description="Newest lot first; without includeSpent only lots that still hold credits. " + _PRIVATE)
    def credit_lots(
        self, info: Info, first: int | None = 20, after: str | None = None, include_spent: bool | None = False
    ) -> CreditLotConnection | None:
        info.context.require_reader(self.view.id)
        service = info.context.service
        page = service.lots(self.view.id, check_first(first, service), after_key("CreditLot", after),
                            bool(include_spent))
        return connection(CreditLotConnection, CreditLotEdge, page.items, page.has_next, after,
                          cursor_of=lambda lot: cursor("CreditLot", lot.id), node_of=CreditLot.of)

    @strawberry.field(description="Each earning rule with this member's progress. " + _PRIVATE)
    async def earning(self, info: Info) -> list[EarningRule] | None:
        info.context.require_reader(self.view.id)
        return earning_rules(await info.context.service.earning(self.view))

    @strawberry.field(description=_PRIVATE)
    def profile(self, info: Info) -> Profile | None:
        info.context.require_reader(self.view.id)
        v = self.view
        return Profile(
            headline=v.headline, about=v.about, location=v.location,
            experience=[Position(title=e["title"], organization=e["organization"]) for e in v.experience],
            education=[Education(school=e["school"] or "", degree=e.get("degree")) for e in v.education],
            skills=list(v.skills),
            completion=info.context.service.completion(v),
        )

    def _invitations(
        self, info: Info, sent: bool, status: InvitationStatus | None, first: int | None, after: str | None
    ) -> InvitationConnection:
        info.context.require_reader(self.view.id)
        service = info.context.service
        page = service.invitations(self.view.id, sent, status, check_first(first, service),
                                   after_key("Invitation", after))
        return connection(InvitationConnection, InvitationEdge, page.items, page.has_next, after,
                          cursor_of=lambda i: cursor("Invitation", i.id), node_of=Invitation.of)

    @strawberry.field(description="Newest first. " + _PRIVATE)
    def invitations_sent(
        self, info: Info, status: InvitationStatus | None = None, first: int | None = 20, after: str | None = None
    ) -> InvitationConnection | None:
        return self._invitations(info, True, status, first, after)

    @strawberry.field(description="Newest first. " + _PRIVATE)
    def invitations_received(
        self, info: Info, status: InvitationStatus | None = None, first: int | None = 20, after: str | None = None
    ) -> InvitationConnection | None:
        return self._invitations(info, False, status, first, after)

    @strawberry.field(description="Most recently connected first. " + _PRIVATE)
    def connections(self, info: Info, first: int | None = 20, after: str | None = None) -> MemberConnection | None:
        info.context.require_reader(self.view.id)
        service = info.context.service
        page = service.connections(self.view.id, check_first(first, service), after_key("Connection", after))
        return connection(MemberConnection, MemberEdge, page.items, page.has_next, after,
                          cursor_of=lambda item: cursor("Connection", item[0]), node_of=lambda item: Member.of(item[1]))

    @classmethod
    def of(cls, view: rows.Member, snapshot: Snapshot | None = None) -> Member:
        return cls(view=view, snapshot=snapshot, id=strawberry.ID(ids.encode("Member", view.id)), name=view.name,
                   headline=view.headline, tier=view.tier, joined_at=view.joined_at)  # type: ignore[arg-type]


def load_member(info: Info, member_id: int | None, snapshot: Snapshot | None = None) -> Member | None:
    """The member as a payload's snapshot holds them, else as they are now."""
    if snapshot is not None and member_id in snapshot.members:
        return Member.of(snapshot.members[member_id], snapshot)
    view = info.context.service.member(member_id)
    return Member.of(view) if view else None


async def past_balance(info: Info, member: rows.Member, as_of: int) -> Balance:
    """A past balance, read off the event loop (a resolver returns this awaitable; graphql-core awaits it)."""
    return Balance.of(await info.context.service.balance_as_of(member, as_of))
