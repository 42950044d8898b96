"""Query, Mutation and the schema. Resolvers are thin: decode IDs, call the service, shape the answer."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from .. import auth, ids
from ..domain.errors import Refusal, forbidden, unauthenticated
from ..domain.policy import Tier
from ..observability import Observe
from ..service import Contact, ProfileUpdate, SignUp
from ..service import Education as EducationCommand
from ..service import Position as PositionCommand
from ..views import Outcome, Snapshot
from .context import Info
from .errors import ErrorPolicy
from .limits import DocumentPolicy, Documents
from .pagination import check_first, company_after, company_cursor, page_info
from .scalars import DATETIME_SCALAR, DateTime, Timestamp
from .types import (
    Balance,
    Company,
    CompanyConnection,
    CompanyEdge,
    CreditLot,
    DiscussionKind,
    DiscussionPost,
    EarningRule,
    Invitation,
    LedgerEntry,
    LedgerEntryConnection,
    LedgerReason,
    Member,
    Node,
    Profile,
    TierEnum,
    UserError,
    earning_rules,
    ledger_connection,
    load_member,
)


# -- payload fields, resolved from what the mutation did -----------------------------------------------
@strawberry.type
class _Outcome:
    outcome: strawberry.Private[Outcome | None]


def _snapshot(root: _Outcome) -> Snapshot | None:
    return root.outcome.snapshot if root.outcome else None


def _ledger_entry(root: _Outcome) -> LedgerEntry | None:
    snap = _snapshot(root)
    view = snap.entries.get(root.outcome.entry_id) if snap and root.outcome and root.outcome.entry_id else None
    return LedgerEntry.of(view, snap) if view else None


def _balance(root: _Outcome) -> Balance | None:
    return Balance.of(root.outcome.balance) if root.outcome and root.outcome.balance else None


def _invitation(root: _Outcome) -> Invitation | None:
    snap = _snapshot(root)
    view = snap.invitations.get(root.outcome.invitation_id) if snap and root.outcome and root.outcome.invitation_id else None
    return Invitation.of(view, snap) if view else None


def _member(root: _Outcome) -> Member | None:
    snap = _snapshot(root)
    view = snap.members.get(root.outcome.member_id) if snap and root.outcome and root.outcome.member_id else None
    return Member.of(view, snap) if view else None


def _company(root: _Outcome) -> Company | None:
    snap = _snapshot(root)
    view = snap.companies.get(root.outcome.company_id) if snap and root.outcome and root.outcome.company_id else None
    return Company.of(view, snap) if view else None


def _post(root: _Outcome) -> DiscussionPost | None:
    snap = _snapshot(root)
    view = snap.posts.get(root.outcome.post_id) if snap and root.outcome and root.outcome.post_id else None
    return DiscussionPost.of(view, snap) if view else None


def _profile(root: _Outcome, info: Info) -> Profile | None:
    member = _member(root)
    return member.profile(info) if member else None


def _token(root: _Outcome, info: Info) -> str | None:
    if root.outcome is None or root.outcome.member_id is None:
        return None
    ctx = info.context
    return auth.member_token(ctx.token_secret, root.outcome.member_id, ctx.member_token_ttl_seconds)


def _imported(root: _Outcome) -> int:
    return root.outcome.imported or 0 if root.outcome else 0


def _now(root: _Outcome) -> DateTime | None:
    return root.outcome.now if root.outcome else None  # type: ignore[return-value]


_user_errors = strawberry.field(description="Refusals; empty when the mutation took effect.")


@strawberry.type(description="The new member, with their private fields, and a token to act as them.")
class SignUpPayload(_Outcome):
    member: Member | None = strawberry.field(resolver=_member, description="The new member, private fields included.")
    token: str | None = strawberry.field(resolver=_token, description="A member token for the new member.")
    user_errors: list[UserError] = _user_errors


@strawberry.type(description="The profile after the edit, and what completing it earned.")
class UpdateProfilePayload(_Outcome):
    profile: Profile | None = strawberry.field(description="The profile after the edit.", resolver=_profile)
    ledger_entry: LedgerEntry | None = strawberry.field(description="The ledger entry the mutation wrote; null when it wrote none.", resolver=_ledger_entry)
    balance: Balance | None = strawberry.field(description="The member's balance after the mutation.", resolver=_balance)
    user_errors: list[UserError] = _user_errors


@strawberry.type(description="What importContacts imported and earned.")
class ImportContactsPayload(_Outcome):
    imported: int = strawberry.field(
        resolver=_imported, description="Contacts newly imported by this call (duplicates and known ones left out)."
    )
    ledger_entry: LedgerEntry | None = strawberry.field(description="The ledger entry the mutation wrote; null when it wrote none.", resolver=_ledger_entry)
    balance: Balance | None = strawberry.field(description="The member's balance after the mutation.", resolver=_balance)
    user_errors: list[UserError] = _user_errors


@strawberry.type(description="What following the company changed.")
class FollowCompanyPayload(_Outcome):
    company: Company | None = strawberry.field(description="The company followed.", resolver=_company)
    ledger_entry: LedgerEntry | None = strawberry.field(description="The ledger entry the mutation wrote; null when it wrote none.", resolver=_ledger_entry)
    balance: Balance | None = strawberry.field(description="The member's balance after the mutation.", resolver=_balance)
    user_errors: list[UserError] = _user_errors


@strawberry.type(description="The company after unfollowing.")
class UnfollowCompanyPayload(_Outcome):
    company: Company | None = strawberry.field(description="The company.", resolver=_company)
    user_errors: list[UserError] = _user_errors


@strawberry.type(description="The contribution and what it earned.")
class PostDiscussionPayload(_Outcome):
    post: DiscussionPost | None = strawberry.field(description="The new contribution.", resolver=_post)
    ledger_entry: LedgerEntry | None = strawberry.field(description="The ledger entry the mutation wrote; null when it wrote none.", resolver=_ledger_entry)
    balance: Balance | None = strawberry.field(description="The member's balance after the mutation.", resolver=_balance)
    user_errors: list[UserError] = _user_errors


@strawberry.type(description="The invitation sent and the credit it cost.")
class SendInvitationPayload(_Outcome):
    invitation: Invitation | None = strawberry.field(description="The invitation sent.", resolver=_invitation)
    ledger_entry: LedgerEntry | None = strawberry.field(description="The ledger entry the mutation wrote; null when it wrote none.", resolver=_ledger_entry)
    balance: Balance | None = strawberry.field(description="The member's balance after the mutation.", resolver=_balance)
    user_errors: list[UserError] = _user_errors


@strawberry.type(description="The invitation after the action, and what it earned.")
class InvitationPayload(_Outcome):
    invitation: Invitation | None = strawberry.field(description="The invitation after the action.", resolver=_invitation)
    ledger_entry: LedgerEntry | None = strawberry.field(description="The ledger entry the mutation wrote; null when it wrote none.", resolver=_ledger_entry)
    balance: Balance | None = strawberry.field(description="The member's balance after the mutation.", resolver=_balance)
    user_errors: list[UserError] = _user_errors


@strawberry.type(description="The member with their new tier.")
class SetMemberTierPayload(_Outcome):
    member: Member | None = strawberry.field(description="The member with the new tier.", resolver=_member)
    user_errors: list[UserError] = _user_errors


@strawberry.type(description="What adjustCredits wrote.")
class AdjustCreditsPayload(_Outcome):
    ledger_entry: LedgerEntry | None = strawberry.field(description="The ledger entry the mutation wrote; null when it wrote none.", resolver=_ledger_entry)
    balance: Balance | None = strawberry.field(description="The member's balance after the mutation.", resolver=_balance)
    user_errors: list[UserError] = _user_errors


@strawberry.type(description="The company createCompany made.")
class CreateCompanyPayload(_Outcome):
    company: Company | None = strawberry.field(description="The new company.", resolver=_company)
    user_errors: list[UserError] = _user_errors


@strawberry.type(description="The service's time after advanceTestClock.")
class AdvanceTestClockPayload(_Outcome):
    now: DateTime | None = strawberry.field(resolver=_now, description="The service's time after the move.")
    user_errors: list[UserError] = _user_errors


async def _attempt(payload: type[Any], action: Awaitable[Outcome]) -> Any:
    """Run a service call; a refusal becomes the payload's userErrors."""
    try:
        outcome = await action
    except Refusal as refusal:
        return payload(outcome=None, user_errors=[UserError(code=r.code, message=r.message, field=r.field)
                                                  for r in refusal.all()])
    return payload(outcome=outcome, user_errors=[])


# -- inputs --------------------------------------------------------------------------------------------
_KEY = strawberry.field(default=None, description="Repeat it to retry safely: the first answer comes back.")


@strawberry.input(description="A job for the profile.")
class PositionInput:
    title: str = strawberry.field(description="The role.")
    organization: str = strawberry.field(description="Where.")


@strawberry.input(description="A school for the profile.")
class EducationInput:
    school: str = strawberry.field(description="The school.")
    degree: str | None = strawberry.field(default=None, description="The degree, if any.")


@strawberry.input(description="Who is joining, and whose referral code brought them.")
class SignUpInput:
    email: str = strawberry.field(description="Unique, compared case-insensitively after trimming.")
    name: str = strawberry.field(description="Display name, at most 100 characters.")
    referral_code: str | None = strawberry.field(default=None, description="Another member's referral code: they earn 3 credits.")
    idempotency_key: str | None = _KEY


@strawberry.input(description="Fields left out are unchanged; a list given replaces the list; null clears a field.")
class UpdateProfileInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, description="Display name; cannot be cleared.")
    headline: str | None = strawberry.field(default=strawberry.UNSET, description="At most 220 characters.")
    about: str | None = strawberry.field(default=strawberry.UNSET, description="At most 2,600 characters.")
    location: str | None = strawberry.field(default=strawberry.UNSET, description="At most 100 characters.")
    experience: list[PositionInput] | None = strawberry.field(default=strawberry.UNSET, description="Replaces the list.")
    education: list[EducationInput] | None = strawberry.field(default=strawberry.UNSET, description="Replaces the list.")
    skills: list[str] | None = strawberry.field(default=strawberry.UNSET, description="Replaces the list.")
    idempotency_key: str | None = _KEY

    def to_command(self) -> ProfileUpdate:
        given = {name: getattr(self, name) for name in
                 ("name", "headline", "about", "location", "experience", "education", "skills")
                 if getattr(self, name) is not strawberry.UNSET}
        cleared = frozenset(name for name, value in given.items() if value is None)
        values: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
        if "experience" in values:
            values["experience"] = [PositionCommand(e.title, e.organization) for e in values["experience"]]
        if "education" in values:
            values["education"] = [EducationCommand(e.school, e.degree) for e in values["education"]]
        return ProfileUpdate(**values, cleared=cleared)


@strawberry.input(description="One imported contact.")
class ContactInput:
    email: str = strawberry.field(description="The contact's email; trimmed and compared case-insensitively.")
    name: str | None = strawberry.field(default=None, description="The contact's name, if known.")


@strawberry.input(description="Contacts to import, at most 1,000 a call.")
class ImportContactsInput:
    contacts: list[ContactInput] = strawberry.field(description="The contacts; one malformed contact refuses the whole call.")
    idempotency_key: str | None = _KEY


@strawberry.input(description="The company to follow.")
class FollowCompanyInput:
    company_id: strawberry.ID = strawberry.field(description="The company.")
    idempotency_key: str | None = _KEY


@strawberry.input(description="The company to stop following.")
class UnfollowCompanyInput:
    company_id: strawberry.ID = strawberry.field(description="The company.")
    idempotency_key: str | None = _KEY


@strawberry.input(description="A post, comment or article.")
class PostDiscussionInput:
    kind: DiscussionKind = strawberry.field(description="Post, comment or article.")
    body: str = strawberry.field(description="Non-blank, at most 3,000 characters.")
    idempotency_key: str | None = _KEY


@strawberry.input(description="The member to invite, and an optional personal message.")
class SendInvitationInput:
    invitee_id: strawberry.ID = strawberry.field(description="The member to invite.")
    message: str | None = strawberry.field(default=None, description="A personal message, at most 300 characters.")
    idempotency_key: str | None = _KEY


@strawberry.input(description="The invitation to act on.")
class InvitationActionInput:
    invitation_id: strawberry.ID = strawberry.field(description="The invitation.")
    idempotency_key: str | None = _KEY


@strawberry.input(description="The follow-up message to add to a pending invitation.")
class FollowUpInvitationInput:
    invitation_id: strawberry.ID = strawberry.field(description="The invitation you sent.")
    message: str = strawberry.field(description="At most 300 characters.")
    idempotency_key: str | None = _KEY


@strawberry.input(description="The member and their new tier.")
class SetMemberTierInput:
    member_id: strawberry.ID = strawberry.field(description="The member.")
    tier: TierEnum = strawberry.field(description="The new tier; credits are untouched.")
    idempotency_key: str | None = _KEY


@strawberry.input(description="An admin's change to a member's credits.")
class AdjustCreditsInput:
    member_id: strawberry.ID = strawberry.field(description="The member.")
    amount: int = strawberry.field(description="Credits to add (positive) or take (negative), at most 1,000 either way.")
    note: str = strawberry.field(description="Why: shown on the ledger entry.")
    idempotency_key: str | None = _KEY


@strawberry.input(description="A new company.")
class CreateCompanyInput:
    name: str = strawberry.field(description="Display name, at most 100 characters.")
    slug: str = strawberry.field(description="Unique: lowercase letters, digits and single hyphens.")
    idempotency_key: str | None = _KEY


@strawberry.input(description="Where to move the test clock.")
class AdvanceTestClockInput:
    to: DateTime = strawberry.field(description="The new time; never earlier than the current one.")


@strawberry.type(description="The rules in force.")
class Policy:
    initial_credits: int = strawberry.field(description="Credits on sign-up.")
    initial_credits_academic: int = strawberry.field(description="Credits on sign-up with an academic (.edu) email.")
    balance_cap: int = strawberry.field(description="No grant lifts the available balance above this.")
    credit_lifetime_months: int = strawberry.field(description="Credits expire this many calendar months after they are granted.")
    invitation_cost: int = strawberry.field(description="Credits one invitation costs (recruiters pay nothing).")
    message_max_length: int = strawberry.field(description="The longest personal message, in characters.")
    earning: list[EarningRule] = strawberry.field(description="Every way to earn credits, with its limit.")


# -- the roots -------------------------------------------------------------------------------------------
def _target(info: Info, member_id: strawberry.ID | None) -> int | None:
    """The member a balance or ledger query is about: the given one (if the caller may read it) or the viewer."""
    actor = info.context.actor
    if member_id is None:
        if actor.member_id is None:
            raise unauthenticated("Sign in, or name a member.")
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
        return None

    @strawberry.field(description="The signed-in member, or null.")
    def viewer(self, info: Info) -> Member | None:
        return load_member(info, info.context.actor.member_id)

    @strawberry.field(description="A member by ID; private fields only for themselves and admins.")
    def member(self, info: Info, id: strawberry.ID) -> Member | None:
        return load_member(info, ids.member_id(id))

    @strawberry.field(description="The balance of memberId, or of the viewer when memberId is omitted.")
    def balance(self, info: Info, member_id: strawberry.ID | None = None) -> Balance | None:
        view = info.context.service.member(_target(info, member_id))
        return Balance.of(info.context.service.balance(view)) if view else None

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
        page = await service.companies(search, check_first(first, service), company_after(after))
        edges = [CompanyEdge(cursor=company_cursor(c.name, c.id), node=Company.of(c)) for c in page.items]
        return CompanyConnection(edges=edges, page_info=page_info([e.cursor for e in edges], page.has_next, after))

    @strawberry.field(description="The rules in force.")
    async def policy(self, info: Info) -> Policy:
        p = info.context.service.policy
        return Policy(
            initial_credits=p.initial_credits, initial_credits_academic=p.initial_credits_academic,
            balance_cap=p.balance_cap, credit_lifetime_months=p.credit_lifetime_months,
            invitation_cost=p.invitation_cost, message_max_length=p.message_max_length,
            earning=earning_rules(await info.context.service.earning(None)),
        )


async def _answer(info: Info, input: InvitationActionInput, status: str) -> InvitationPayload:
    result: InvitationPayload = await _attempt(InvitationPayload, info.context.service.answer_invitation(
        info.context.actor, ids.decode("Invitation", input.invitation_id), status, input.idempotency_key))
    return result


@strawberry.type(description="Every change goes through a mutation with one input and a payload with userErrors.")
class Mutation:
    @strawberry.mutation(description="Join the network: 15 credits, or 30 for an academic (.edu) email.")
    async def sign_up(self, info: Info, input: SignUpInput) -> SignUpPayload:
        if not info.context.signup_enabled:
            raise forbidden("Sign-up is switched off: members join through the identity provider.")
        cmd = SignUp(email=input.email, name=input.name, referral_code=input.referral_code)
        result: SignUpPayload = await _attempt(
            SignUpPayload, info.context.service.sign_up(info.context.actor, cmd, input.idempotency_key))
        if result.outcome is not None and result.outcome.member_id is not None:
            info.context.also_readable.add(result.outcome.member_id)
        return result

    @strawberry.mutation(description="Edit your profile; completing it the first time earns credits.")
    async def update_profile(self, info: Info, input: UpdateProfileInput) -> UpdateProfilePayload:
        result: UpdateProfilePayload = await _attempt(UpdateProfilePayload, info.context.service.update_profile(
            info.context.actor, input.to_command(), input.idempotency_key))
        return result

    @strawberry.mutation(description="Import up to 1,000 contacts; each new one earns a credit, 500 for life.")
    async def import_contacts(self, info: Info, input: ImportContactsInput) -> ImportContactsPayload:
        contacts = [Contact(email=c.email, name=c.name) for c in input.contacts]
        result: ImportContactsPayload = await _attempt(ImportContactsPayload, info.context.service.import_contacts(
            info.context.actor, contacts, input.idempotency_key))
        return result

    @strawberry.mutation(description="Follow a company; the first follow of each company earns a credit, 50 for life.")
    async def follow_company(self, info: Info, input: FollowCompanyInput) -> FollowCompanyPayload:
        result: FollowCompanyPayload = await _attempt(FollowCompanyPayload, info.context.service.follow_company(
            info.context.actor, ids.decode("Company", input.company_id), input.idempotency_key))
        return result

    @strawberry.mutation(description="Stop following a company.")
    async def unfollow_company(self, info: Info, input: UnfollowCompanyInput) -> UnfollowCompanyPayload:
        result: UnfollowCompanyPayload = await _attempt(UnfollowCompanyPayload, info.context.service.unfollow_company(
            info.context.actor, ids.decode("Company", input.company_id), input.idempotency_key))
        return result

    @strawberry.mutation(description="Post, comment or publish an article; each earns a credit, 10 a month.")
    async def post_discussion(self, info: Info, input: PostDiscussionInput) -> PostDiscussionPayload:
        result: PostDiscussionPayload = await _attempt(PostDiscussionPayload, info.context.service.post_discussion(
            info.context.actor, input.kind.value, input.body, input.idempotency_key))
        return result

    @strawberry.mutation(description="Invite a member to connect: 1 credit (free for recruiters).")
    async def send_invitation(self, info: Info, input: SendInvitationInput) -> SendInvitationPayload:
        result: SendInvitationPayload = await _attempt(SendInvitationPayload, info.context.service.send_invitation(
            info.context.actor, ids.member_id(input.invitee_id), input.message, input.idempotency_key))
        return result

    @strawberry.mutation(description="Accept an invitation sent to you: you connect and earn a credit.")
    async def accept_invitation(self, info: Info, input: InvitationActionInput) -> InvitationPayload:
        return await _answer(info, input, "ACCEPTED")

    @strawberry.mutation(description="Decline an invitation sent to you.")
    async def decline_invitation(self, info: Info, input: InvitationActionInput) -> InvitationPayload:
        return await _answer(info, input, "DECLINED")

    @strawberry.mutation(description="Withdraw an invitation you sent. The credit is not refunded.")
    async def withdraw_invitation(self, info: Info, input: InvitationActionInput) -> InvitationPayload:
        return await _answer(info, input, "WITHDRAWN")

    @strawberry.mutation(description="Add one follow-up message to a pending invitation you sent.")
    async def follow_up_invitation(self, info: Info, input: FollowUpInvitationInput) -> InvitationPayload:
        result: InvitationPayload = await _attempt(InvitationPayload, info.context.service.follow_up_invitation(
            info.context.actor, ids.decode("Invitation", input.invitation_id), input.message, input.idempotency_key))
        return result

    @strawberry.mutation(description="Admin only.")
    async def set_member_tier(self, info: Info, input: SetMemberTierInput) -> SetMemberTierPayload:
        result: SetMemberTierPayload = await _attempt(SetMemberTierPayload, info.context.service.set_member_tier(
            info.context.actor, ids.member_id(input.member_id), Tier(input.tier), input.idempotency_key))
        return result

    @strawberry.mutation(description="Admin only.")
    async def adjust_credits(self, info: Info, input: AdjustCreditsInput) -> AdjustCreditsPayload:
        result: AdjustCreditsPayload = await _attempt(AdjustCreditsPayload, info.context.service.adjust_credits(
            info.context.actor, ids.member_id(input.member_id), input.amount, input.note, input.idempotency_key))
        return result

    @strawberry.mutation(description="Admin only.")
    async def create_company(self, info: Info, input: CreateCompanyInput) -> CreateCompanyPayload:
        result: CreateCompanyPayload = await _attempt(CreateCompanyPayload, info.context.service.create_company(
            info.context.actor, input.name, input.slug, input.idempotency_key))
        return result

    @strawberry.mutation(description="Admin only, and only when the test clock is switched on.")
    async def advance_test_clock(self, info: Info, input: AdvanceTestClockInput) -> AdvanceTestClockPayload:
        result: AdvanceTestClockPayload = await _attempt(AdvanceTestClockPayload, info.context.service.advance_test_clock(
            info.context.actor, int(input.to)))
        return result


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Strawberry would log every error, the client's own included; ErrorPolicy logs the unexpected ones once."""


def create_schema(
    *, max_depth: int = 12, max_tokens: int = 5000, max_aliases: int = 30, max_cost: int = 5000, cache_size: int = 256
) -> strawberry.Schema:
    """The schema with its limits: depth, tokens, aliases and cost, and bounded parse/validation caches."""
    documents = DocumentPolicy(max_tokens=max_tokens, max_depth=max_depth, max_aliases=max_aliases,
                               max_cost=max_cost, cache_size=cache_size)
    return Schema(
        query=Query,
        mutation=Mutation,
        types=[Member, LedgerEntry, CreditLot, Invitation, Company, DiscussionPost],
        # Few extensions on purpose: each costs every request a hook per stage.
        extensions=[
            Observe,  # outermost: it sees the final errors and the whole time
            ErrorPolicy,
            lambda: Documents(documents),
        ],
        config=StrawberryConfig(auto_camel_case=True, scalar_map={Timestamp: DATETIME_SCALAR}),
    )
