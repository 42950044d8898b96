"""What a use case is asked to do, as plain values (the API's inputs become these)."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.policy import DiscussionKind, InvitationStatus, Tier
from ..domain.profile import Education, Position, ProfileUpdate

__all__ = ["AdjustCredits", "AnswerInvitation", "Contact", "CreateCompany", "Education", "FollowUpInvitation",
           "ExtendLot", "ImportContacts", "Position", "PostDiscussion", "ProfileUpdate", "ReverseEntry", "SendInvitation",
           "SetMemberTier", "SignUp"]


@dataclass(frozen=True)
class SignUp:
    email: str
    name: str
    referral_code: str | None = None


@dataclass(frozen=True)
class Contact:
    email: str
    name: str | None = None


@dataclass(frozen=True)
class ImportContacts:
    contacts: tuple[Contact, ...]


@dataclass(frozen=True)
class PostDiscussion:
    kind: DiscussionKind
    body: str


@dataclass(frozen=True)
class SendInvitation:
    invitee_id: int | None
    message: str | None = None


@dataclass(frozen=True)
class AnswerInvitation:
    invitation_id: int | None
    status: InvitationStatus  # ACCEPTED or DECLINED by the invitee, WITHDRAWN by the inviter


@dataclass(frozen=True)
class FollowUpInvitation:
    invitation_id: int | None
    message: str


@dataclass(frozen=True)
class SetMemberTier:
    member_id: int | None
    tier: Tier


@dataclass(frozen=True)
class AdjustCredits:
    member_id: int | None
    amount: int
    note: str


@dataclass(frozen=True)
class CreateCompany:
    name: str
    slug: str


@dataclass(frozen=True)
class SignOut:
    """signOutEverywhere: `member_id` None signs the caller out; `named` says an ID was given (one that names
    nothing is NOT_FOUND, never the caller)."""

    member_id: int | None = None
    named: bool = False


@dataclass(frozen=True)
class ReverseEntry:
    entry_id: int | None
    reason: str


@dataclass(frozen=True)
class ExtendLot:
    lot_id: int | None
    expires_at: int
    reason: str
