"""Mutation payloads: what a mutation did, shown from the snapshot its outcome carries, and its userErrors."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, Protocol, TypeVar

import strawberry

from .. import auth
from ..domain.errors import Refusal, Refusals
from ..service.views import Outcome, Snapshot
from .context import Info
from .inputs import control_characters
from .scalars import DateTime
from .types import Company, CreditLot, DiscussionPost, Invitation, LedgerEntry, Member
from .values import Balance, Profile, UserError


# -- payload fields, resolved from what the mutation did -----------------------------------------------
@strawberry.type
class _Outcome:
    outcome: strawberry.Private[Outcome | None]


def _kept(root: _Outcome, table: str, key: str) -> tuple[Any, Snapshot] | None:
    """The object the outcome names by `key` (entry_id, member_id, ...), from its snapshot's `table`."""
    outcome = root.outcome
    if outcome is None or outcome.snapshot is None or getattr(outcome, key) is None:
        return None
    view = getattr(outcome.snapshot, table).get(getattr(outcome, key))
    return (view, outcome.snapshot) if view is not None else None


def _ledger_entry(root: _Outcome) -> LedgerEntry | None:
    kept = _kept(root, "entries", "entry_id")
    return LedgerEntry.of(*kept) if kept else None


def _reversed(root: _Outcome) -> LedgerEntry | None:
    kept = _kept(root, "entries", "reversed_id")
    return LedgerEntry.of(*kept) if kept else None


def _credit_lot(root: _Outcome) -> CreditLot | None:
    entry = _kept(root, "entries", "entry_id")
    if entry is None or entry[0].lot_id is None or entry[0].lot_id not in entry[1].lots:
        return None
    return CreditLot.of(entry[1].lots[entry[0].lot_id], entry[1])


def _balance(root: _Outcome) -> Balance | None:
    return Balance.of(root.outcome.balance) if root.outcome and root.outcome.balance else None


def _invitation(root: _Outcome) -> Invitation | None:
    kept = _kept(root, "invitations", "invitation_id")
    return Invitation.of(*kept) if kept else None


def _member(root: _Outcome) -> Member | None:
    kept = _kept(root, "members", "member_id")
    return Member.of(*kept) if kept else None


def _company(root: _Outcome) -> Company | None:
    kept = _kept(root, "companies", "company_id")
    return Company.of(*kept) if kept else None


def _post(root: _Outcome) -> DiscussionPost | None:
    kept = _kept(root, "posts", "post_id")
    return DiscussionPost.of(*kept) if kept else None


def _profile(root: _Outcome, info: Info) -> Profile | None:
    member = _member(root)
    return member.profile(info) if member else None


def _token(root: _Outcome, info: Info) -> str | None:
    if root.outcome is None or root.outcome.member_id is None:
        return None
    ctx = info.context
    session = ctx.service.session(root.outcome.member_id)
    if session is None:
        return None
    return auth.member_token(ctx.token_secret, root.outcome.member_id, session.key, ctx.member_token_ttl_seconds)


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
    member: Member | None = strawberry.field(description="The member after the edit: their name and headline, for "
                                             "a client cache to update.", resolver=_member)
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


@strawberry.type(description="The REVERSAL entry, the entry it reversed (now linked to it), and the balance after.")
class ReverseLedgerEntryPayload(_Outcome):
    ledger_entry: LedgerEntry | None = strawberry.field(description="The REVERSAL entry written.", resolver=_ledger_entry)
    reversed: LedgerEntry | None = strawberry.field(description="The entry reversed, with reversedBy set.",
                                                    resolver=_reversed)
    balance: Balance | None = strawberry.field(description="The member's balance after the reversal.", resolver=_balance)
    user_errors: list[UserError] = _user_errors


@strawberry.type(description="The lot with its new expiry, the LOT_EXTENDED entry, and the balance after.")
class ExtendCreditLotPayload(_Outcome):
    credit_lot: CreditLot | None = strawberry.field(description="The lot with its new expiry.", resolver=_credit_lot)
    ledger_entry: LedgerEntry | None = strawberry.field(description="The LOT_EXTENDED entry written (amount 0).",
                                                        resolver=_ledger_entry)
    balance: Balance | None = strawberry.field(description="The member's balance after the extension.",
                                               resolver=_balance)
    user_errors: list[UserError] = _user_errors


@strawberry.type(description="When every session of the member ended: tokens issued before are refused.")
class SignOutEverywherePayload:
    revoked_at: DateTime | None = strawberry.field(description="When the sessions ended (real time, which tokens' "
                                                                "issue times are compared with).")
    user_errors: list[UserError] = _user_errors


async def signed_out(action: Coroutine[Any, Any, int], input: object) -> SignOutEverywherePayload:
    try:
        revoked_at = await checked(action, input)
    except Refusal as refusal:
        return SignOutEverywherePayload(revoked_at=None, user_errors=user_errors(refusal))
    return SignOutEverywherePayload(revoked_at=DateTime(revoked_at), user_errors=[])


class _Payload(Protocol):
    def __init__(self, *, outcome: Outcome | None, user_errors: list[UserError]) -> None: ...


P = TypeVar("P", bound=_Payload)
T = TypeVar("T")


def user_errors(refusal: Refusal) -> list[UserError]:
    """A refusal as userErrors: the one place a domain field (`["contacts", "3", "email"]`) becomes the path of
    the mutation's argument (`["input", "contacts", "3", "email"]`)."""
    return [UserError(code=r.code, message=r.message, field=["input", *r.field] if r.field is not None else None)
            for r in refusal.all()]


async def checked(action: Coroutine[Any, Any, T], input: object) -> T:
    """The use case's answer, unless text with control characters anywhere in `input` refuses it first: then
    the use case never starts, and no store sees the text."""
    unprintable = control_characters(input)
    if unprintable:
        action.close()
        raise unprintable[0] if len(unprintable) == 1 else Refusals(unprintable)
    return await action


async def attempt(payload: type[P], action: Coroutine[Any, Any, Outcome], input: object = None) -> P:
    """Run a use case; a refusal becomes the payload's userErrors. Text with control characters anywhere in `input`
    is refused first, before the use case (and so any store) sees it."""
    try:
        outcome = await checked(action, input)
    except Refusal as refusal:
        return payload(outcome=None, user_errors=user_errors(refusal))
    return payload(outcome=outcome, user_errors=[])
