"""Mutation inputs: one per mutation, each with to_command(), the plain value the use case takes."""

from __future__ import annotations

from typing import Any

import strawberry

from ..domain import ids
from ..domain.errors import InvalidInput
from ..domain.policy import DiscussionKind, InvitationStatus
from ..domain.rules import has_control_characters
from ..service import commands
from .scalars import DateTime
from .values import TierEnum

# Inputs that may span lines (tab, LF and CR allowed); no other text the API takes may hold a control character.
_MULTILINE = frozenset({"about", "body", "message", "note"})


def control_characters(value: object, path: tuple[str, ...] = (), *, multiline: bool = False) -> list[InvalidInput]:
    """One INVALID_INPUT per text in a mutation's input (walked whole: lists, nested inputs) that holds a control
    character, naming its field (`["contacts", "3", "email"]`)."""
    if isinstance(value, str):
        if has_control_characters(value, multiline=multiline):
            allowed = " (tabs and line breaks are allowed here)" if multiline else ""
            return [InvalidInput(f"Text may not contain control characters{allowed}.", path)]
        return []
    if isinstance(value, list):
        return [refusal for i, item in enumerate(value) for refusal in control_characters(item, (*path, str(i)))]
    definition = getattr(value, "__strawberry_definition__", None)
    if definition is None:
        return []
    found: list[InvalidInput] = []
    for field in definition.fields:
        if field.type is strawberry.ID or getattr(field.type, "of_type", None) is strawberry.ID:
            continue  # any text as an ID names nothing: NOT_FOUND, from the use case
        head, *rest = field.python_name.split("_")
        found += control_characters(getattr(value, field.python_name), (*path, head + "".join(map(str.title, rest))),
                                    multiline=field.python_name in _MULTILINE)
    return found


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

    def to_command(self) -> commands.SignUp:
        return commands.SignUp(email=self.email, name=self.name, referral_code=self.referral_code)


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

    def to_command(self) -> commands.ProfileUpdate:
        given = {name: getattr(self, name) for name in
                 ("name", "headline", "about", "location", "experience", "education", "skills")
                 if getattr(self, name) is not strawberry.UNSET}
        cleared = frozenset(name for name, value in given.items() if value is None)
        values: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
        if "experience" in values:
            values["experience"] = [commands.Position(e.title, e.organization) for e in values["experience"]]
        if "education" in values:
            values["education"] = [commands.Education(e.school, e.degree) for e in values["education"]]
        return commands.ProfileUpdate(**values, cleared=cleared)


@strawberry.input(description="One imported contact.")
class ContactInput:
    email: str = strawberry.field(description="The contact's email; trimmed and compared case-insensitively.")
    name: str | None = strawberry.field(default=None, description="The contact's name, if known.")


@strawberry.input(description="Contacts to import, at most 1,000 a call.")
class ImportContactsInput:
    contacts: list[ContactInput] = strawberry.field(description="The contacts; one malformed contact refuses the whole call.")
    idempotency_key: str | None = _KEY

    def to_command(self) -> commands.ImportContacts:
        return commands.ImportContacts(tuple(commands.Contact(email=c.email, name=c.name) for c in self.contacts))


@strawberry.input(description="The company to follow.")
class FollowCompanyInput:
    company_id: strawberry.ID = strawberry.field(description="The company.")
    idempotency_key: str | None = _KEY

    def to_command(self) -> int | None:
        return ids.decode("Company", self.company_id)


@strawberry.input(description="The company to stop following.")
class UnfollowCompanyInput:
    company_id: strawberry.ID = strawberry.field(description="The company.")
    idempotency_key: str | None = _KEY

    def to_command(self) -> int | None:
        return ids.decode("Company", self.company_id)


@strawberry.input(description="A post, comment or article.")
class PostDiscussionInput:
    kind: DiscussionKind = strawberry.field(description="Post, comment or article.")
    body: str = strawberry.field(description="Non-blank, at most 3,000 characters.")
    idempotency_key: str | None = _KEY

    def to_command(self) -> commands.PostDiscussion:
        return commands.PostDiscussion(kind=self.kind, body=self.body)


@strawberry.input(description="The member to invite, and an optional personal message.")
class SendInvitationInput:
    invitee_id: strawberry.ID = strawberry.field(description="The member to invite.")
    message: str | None = strawberry.field(default=None, description="A personal message, at most 300 characters.")
    idempotency_key: str | None = _KEY

    def to_command(self) -> commands.SendInvitation:
        return commands.SendInvitation(invitee_id=ids.member_id(self.invitee_id), message=self.message)


@strawberry.input(description="The invitation to act on.")
class InvitationActionInput:
    invitation_id: strawberry.ID = strawberry.field(description="The invitation.")
    idempotency_key: str | None = _KEY

    def to_command(self, status: InvitationStatus) -> commands.AnswerInvitation:
        return commands.AnswerInvitation(invitation_id=ids.decode("Invitation", self.invitation_id), status=status)


@strawberry.input(description="The follow-up message to add to a pending invitation.")
class FollowUpInvitationInput:
    invitation_id: strawberry.ID = strawberry.field(description="The invitation you sent.")
    message: str = strawberry.field(description="At most 300 characters.")
    idempotency_key: str | None = _KEY

    def to_command(self) -> commands.FollowUpInvitation:
        return commands.FollowUpInvitation(invitation_id=ids.decode("Invitation", self.invitation_id),
                                           message=self.message)


@strawberry.input(description="The member and their new tier.")
class SetMemberTierInput:
    member_id: strawberry.ID = strawberry.field(description="The member.")
    tier: TierEnum = strawberry.field(description="The new tier; credits are untouched.")
    idempotency_key: str | None = _KEY

    def to_command(self) -> commands.SetMemberTier:
        return commands.SetMemberTier(member_id=ids.member_id(self.member_id), tier=self.tier)


@strawberry.input(description="An admin's change to a member's credits.")
class AdjustCreditsInput:
    member_id: strawberry.ID = strawberry.field(description="The member.")
    amount: int = strawberry.field(description="Credits to add (positive) or take (negative), at most 1,000 either way.")
    note: str = strawberry.field(description="Why: shown on the ledger entry.")
    idempotency_key: str | None = _KEY

    def to_command(self) -> commands.AdjustCredits:
        return commands.AdjustCredits(member_id=ids.member_id(self.member_id), amount=self.amount, note=self.note)


@strawberry.input(description="A new company.")
class CreateCompanyInput:
    name: str = strawberry.field(description="Display name, at most 100 characters.")
    slug: str = strawberry.field(description="Unique: lowercase letters, digits and single hyphens.")
    idempotency_key: str | None = _KEY

    def to_command(self) -> commands.CreateCompany:
        return commands.CreateCompany(name=self.name, slug=self.slug)


@strawberry.input(description="Where to move the test clock.")
class AdvanceTestClockInput:
    to: DateTime = strawberry.field(description="The new time; never earlier than the current one.")

    def to_command(self) -> int:
        return int(self.to)


@strawberry.input(description="An entry to reverse, and why.")
class ReverseLedgerEntryInput:
    entry_id: strawberry.ID = strawberry.field(description="The ledger entry: a grant or a spend.")
    reason: str = strawberry.field(description="Why, 1 to 300 characters: the REVERSAL entry's note and the audit "
                                               "record's reason.")
    idempotency_key: str | None = _KEY

    def to_command(self) -> commands.ReverseEntry:
        return commands.ReverseEntry(entry_id=ids.decode("LedgerEntry", self.entry_id), reason=self.reason)


@strawberry.input(description="A later expiry for a lot, and why.")
class ExtendCreditLotInput:
    lot_id: strawberry.ID = strawberry.field(description="The credit lot: not expired, with credits left.")
    expires_at: DateTime = strawberry.field(description="The new expiry: later than the current one, at most 24 "
                                                        "months after the lot's grant.")
    reason: str = strawberry.field(description="Why, 1 to 300 characters: the LOT_EXTENDED entry's note and the "
                                               "audit record's reason.")
    idempotency_key: str | None = _KEY

    def to_command(self) -> commands.ExtendLot:
        return commands.ExtendLot(lot_id=ids.decode("CreditLot", self.lot_id), expires_at=int(self.expires_at),
                                  reason=self.reason)


@strawberry.input(description="Whose sessions to end: yourself when memberId is left out (an admin may name anyone).")
class SignOutEverywhereInput:
    member_id: strawberry.ID | None = strawberry.field(default=None, description="The member; you by default.")

    def to_command(self) -> commands.SignOut:
        if self.member_id is None:
            return commands.SignOut()
        return commands.SignOut(member_id=ids.member_id(self.member_id), named=True)
