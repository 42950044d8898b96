"""Query: reads. Private member data needs the member's or an admin's token."""

from __future__ import annotations

from typing import cast

import strawberry
from graphql import OperationType

from ..domain import ids
from ..domain.errors import BadUserInput, Unauthenticated
from ..domain.policy import EventType
from ..domain.rules import has_control_characters
from .audit import AuditRecord, AuditRecordConnection, AuditRecordEdge
from .connections import after_key, check_first, company_after, company_cursor, connection, cursor
from .context import Info
from .events import Event, EventConnection, event_connection
from .scalars import DateTime
from .types import (
    Company,
    CompanyConnection,
    CompanyEdge,
    CreditLot,
    DiscussionPost,
    Invitation,
    LedgerEntry,
    LedgerEntryConnection,
    Member,
    Node,
    ledger_connection,
    load_member,
    past_balance,
)
from .values import Balance, EarningRule, LedgerReason, earning_rules
from .webhooks import WebhookDelivery, WebhookEndpoint, WebhookEndpointConnection, endpoint_connection


@strawberry.type(description="The rules in force.")
class Policy:
    initial_credits: int = strawberry.field(description="Credits on sign-up.")
    initial_credits_academic: int = strawberry.field(description="Credits on sign-up with an academic (.edu) email.")
    balance_cap: int = strawberry.field(description="No grant lifts the available balance above this.")
    credit_lifetime_months: int = strawberry.field(description="Credits expire this many calendar months after they are granted.")
    invitation_cost: int = strawberry.field(description="Credits one invitation costs (recruiters pay nothing).")
    message_max_length: int = strawberry.field(description="The longest personal message, in characters.")
    earning: list[EarningRule] = strawberry.field(description="Every way to earn credits, with its limit.")


def _target(info: Info, member_id: strawberry.ID | None) -> int | None:
    """The member a balance or ledger query is about: the given one (if the caller may read it) or the viewer."""
    actor = info.context.actor
    if member_id is None:
        if actor.member_id is None:
            raise Unauthenticated("Sign in, or name a member.")
        return actor.member_id
    target = ids.member_id(member_id)
    if target is None:
        return None
    info.context.require_reader(target)
    return target


def _readable_invitation(info: Info, invitation_id: int | None) -> Invitation | None:
    view = info.context.service.invitation(invitation_id)
    if view is None or not (info.context.can_read(view.inviter_id) or info.context.can_read(view.invitee_id)):
        return None
    return Invitation.of(view)


@strawberry.type(description="Reads. Private member data needs the member's or an admin's token.")
class Query:
    @strawberry.field(description="Any object by its global ID; null when it does not exist or is not yours to see.")
    def node(self, info: Info, id: strawberry.ID) -> Node | None:
        parsed = ids.parse(id)
        if parsed is None:
            return None
        kind, key = parsed
        service = info.context.service
        if kind == "Member":
            return load_member(info, key)
        if kind == "Company":
            company = service.company(key)
            return Company.of(company) if company else None
        if kind == "DiscussionPost":
            post = service.post(key)
            return DiscussionPost.of(post) if post else None
        if kind == "Invitation":
            return _readable_invitation(info, key)
        if kind == "LedgerEntry":
            entry = service.entry(key)
            return LedgerEntry.of(entry) if entry and info.context.can_read(entry.member_id) else None
        if kind == "CreditLot":
            lot = service.lot(key)
            return CreditLot.of(lot) if lot and info.context.can_read(lot.member_id) else None
        if kind == "Event" and info.context.actor.is_admin:
            found = service.event(key)
            return Event.of(found) if found else None
        if kind == "WebhookEndpoint" and info.context.actor.is_admin:
            endpoint = service.endpoint(key)
            return WebhookEndpoint.of(endpoint) if endpoint else None
        if kind == "WebhookDelivery" and info.context.actor.is_admin:
            delivery = service.delivery(key)
            return WebhookDelivery.of(delivery) if delivery else None
        if kind == "AuditRecord" and info.context.actor.is_admin:
            record = service.audit_record(key)
            return AuditRecord.of(record) if record else None
        return None

    @strawberry.field(description="The signed-in member, or null.")
    def viewer(self, info: Info) -> Member | None:
        context = info.context
        # A query shows the row its token's check read a moment ago; a mutation's viewer is read after its writes.
        if context.viewer is not None and info.operation.operation is OperationType.QUERY:
            return Member.of(context.viewer)
        return load_member(info, context.actor.member_id)

    @strawberry.field(description="A member by ID; private fields only for themselves and admins.")
    def member(self, info: Info, id: strawberry.ID) -> Member | None:
        return load_member(info, ids.member_id(id))

    @strawberry.field(description="The balance of memberId, or of the viewer when memberId is omitted; with asOf, "
                                  "as it stood then (a past balance has its own id).")
    def balance(self, info: Info, member_id: strawberry.ID | None = None,
                as_of: DateTime | None = None) -> Balance | None:
        view = info.context.service.member(_target(info, member_id))
        if view is None:
            return None
        if as_of is not None:
            return cast(Balance, past_balance(info, view, as_of))  # an awaitable: read off the event loop
        return Balance.of(info.context.service.balance(view))

    @strawberry.field(description="Admin only: events oldest first, as webhooks deliver them; page with `after` "
                                  "and no event is missed or seen twice, whichever server process committed it.")
    def events(self, info: Info, first: int | None = 20, after: str | None = None,
               types: list[EventType] | None = None) -> EventConnection | None:
        info.context.actor.require_admin()
        return event_connection(info, check_first(first, info.context.service), after, types)

    @strawberry.field(description="Admin only: the webhook endpoints, oldest first.")
    def webhook_endpoints(self, info: Info, first: int | None = 20,
                          after: str | None = None) -> WebhookEndpointConnection | None:
        return endpoint_connection(info, first, after)

    @strawberry.field(description="Admin only: every admin action, newest first; of one member with memberId.")
    def audit_log(self, info: Info, member_id: strawberry.ID | None = None, first: int | None = 20,
                  after: str | None = None) -> AuditRecordConnection | None:
        info.context.actor.require_admin()
        service = info.context.service
        target = None
        if member_id is not None:
            target = ids.member_id(member_id)
            if target is None:
                return connection(AuditRecordConnection, AuditRecordEdge, [], False, after,
                                  cursor_of=lambda r: cursor("AuditRecord", r.id), node_of=AuditRecord.of)
        page = service.audit_log(target, check_first(first, service), after_key("AuditRecord", after))
        return connection(AuditRecordConnection, AuditRecordEdge, page.items, page.has_next, after,
                          cursor_of=lambda r: cursor("AuditRecord", r.id), node_of=AuditRecord.of)

    @strawberry.field(description="The ledger of memberId, or of the viewer, newest entry first.")
    def ledger(
        self, info: Info, member_id: strawberry.ID | None = None, first: int | None = 20, after: str | None = None,
        reasons: list[LedgerReason] | None = None,
    ) -> LedgerEntryConnection | None:
        target = _target(info, member_id)
        if target is None or info.context.service.member(target) is None:
            return None
        return ledger_connection(info, target, first, after, reasons)

    @strawberry.field(description="An invitation, for its two members and admins; null for anyone else.")
    def invitation(self, info: Info, id: strawberry.ID) -> Invitation | None:
        return _readable_invitation(info, ids.decode("Invitation", id))

    @strawberry.field(description="Companies by name; search matches name or slug.")
    async def companies(
        self, info: Info, search: str | None = None, first: int | None = 20, after: str | None = None
    ) -> CompanyConnection:
        service = info.context.service
        if search is not None and has_control_characters(search):
            raise BadUserInput("search may not contain control characters.")
        page = await service.companies(search, check_first(first, service), company_after(after))
        return connection(CompanyConnection, CompanyEdge, page.items, page.has_next, after,
                          cursor_of=lambda c: company_cursor(c.name, c.id), node_of=Company.of)

    @strawberry.field(description="The rules in force.")
    async def policy(self, info: Info) -> Policy:
        p = info.context.service.policy
        return Policy(
            initial_credits=p.initial_credits, initial_credits_academic=p.initial_credits_academic,
            balance_cap=p.balance_cap, credit_lifetime_months=p.credit_lifetime_months,
            invitation_cost=p.invitation_cost, message_max_length=p.message_max_length,
            earning=earning_rules(await info.context.service.earning(None)),
        )


