"""One error family: every error the service raises on purpose is an InviteCreditsError with a code.

Refusal and its subclasses (one per UserErrorCode) are refusals a member can act on: the API returns them as
a payload's userErrors. Denied and its subclasses refuse the request itself (UNAUTHENTICATED, FORBIDDEN,
BAD_USER_INPUT): the API returns them as top-level GraphQL errors. api/errors.py maps both, by class, in one
place. Anything else is a bug, masked as INTERNAL_SERVER_ERROR."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import ClassVar, TypeVar

T = TypeVar("T")


class Code(StrEnum):
    INVALID_INPUT = "INVALID_INPUT"
    NOT_FOUND = "NOT_FOUND"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    INVALID_REFERRAL_CODE = "INVALID_REFERRAL_CODE"
    INSUFFICIENT_CREDITS = "INSUFFICIENT_CREDITS"
    CANNOT_INVITE_SELF = "CANNOT_INVITE_SELF"
    ALREADY_CONNECTED = "ALREADY_CONNECTED"
    INVITATION_ALREADY_PENDING = "INVITATION_ALREADY_PENDING"
    PREMIUM_MEMBER_NOT_REACHABLE = "PREMIUM_MEMBER_NOT_REACHABLE"
    MESSAGE_TOO_LONG = "MESSAGE_TOO_LONG"
    INVITATION_NOT_PENDING = "INVITATION_NOT_PENDING"
    FOLLOW_UP_ALREADY_SENT = "FOLLOW_UP_ALREADY_SENT"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    TEST_CLOCK_DISABLED = "TEST_CLOCK_DISABLED"
    TEST_CLOCK_BACKWARDS = "TEST_CLOCK_BACKWARDS"
    ALREADY_REVERSED = "ALREADY_REVERSED"
    NOT_REVERSIBLE = "NOT_REVERSIBLE"
    EXPIRY_NOT_LATER = "EXPIRY_NOT_LATER"
    LOT_EXPIRED = "LOT_EXPIRED"
    # Added after the contract's values: a party acting out of role.
    FORBIDDEN = "FORBIDDEN"


class InviteCreditsError(Exception):
    """The base of every error the service raises on purpose."""

    code: ClassVar[str]

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def extensions(self) -> dict[str, str]:
        """What a GraphQL error made from this one carries (graphql-core reads it from the original error)."""
        return {"code": str(self.code)}


class Refusal(InviteCreditsError):
    """A rule refused the action; nothing was changed. `field` names the domain input at fault
    (`["email"]`, `["contacts", "3", "email"]`)."""

    code: ClassVar[Code]

    def __init__(self, message: str, field: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.field = list(field) if field is not None else None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, {self.field!r})"

    def all(self) -> list[Refusal]:
        """Every refusal this one reports (several when several fields of one input are wrong)."""
        return [self]


class InvalidInput(Refusal):
    code = Code.INVALID_INPUT


class NotFound(Refusal):
    code = Code.NOT_FOUND


class EmailTaken(Refusal):
    code = Code.EMAIL_TAKEN


class InvalidReferralCode(Refusal):
    code = Code.INVALID_REFERRAL_CODE


class InsufficientCredits(Refusal):
    code = Code.INSUFFICIENT_CREDITS


class CannotInviteSelf(Refusal):
    code = Code.CANNOT_INVITE_SELF


class AlreadyConnected(Refusal):
    code = Code.ALREADY_CONNECTED


class InvitationAlreadyPending(Refusal):
    code = Code.INVITATION_ALREADY_PENDING


class PremiumMemberNotReachable(Refusal):
    code = Code.PREMIUM_MEMBER_NOT_REACHABLE


class MessageTooLong(Refusal):
    code = Code.MESSAGE_TOO_LONG


class InvitationNotPending(Refusal):
    code = Code.INVITATION_NOT_PENDING


class FollowUpAlreadySent(Refusal):
    code = Code.FOLLOW_UP_ALREADY_SENT


class IdempotencyKeyReused(Refusal):
    code = Code.IDEMPOTENCY_KEY_REUSED


class TestClockDisabled(Refusal):
    code = Code.TEST_CLOCK_DISABLED


class TestClockBackwards(Refusal):
    code = Code.TEST_CLOCK_BACKWARDS


class AlreadyReversed(Refusal):
    code = Code.ALREADY_REVERSED


class NotReversible(Refusal):
    code = Code.NOT_REVERSIBLE


class ExpiryNotLater(Refusal):
    code = Code.EXPIRY_NOT_LATER


class LotExpired(Refusal):
    code = Code.LOT_EXPIRED


class OutOfRole(Refusal):
    """A party to an invitation acting out of role (only the invitee accepts, only the inviter withdraws)."""

    code = Code.FORBIDDEN


class Refusals(Refusal):
    """Several fields of one input are wrong: each is reported, and nothing happens."""

    code = Code.INVALID_INPUT

    def __init__(self, refusals: Sequence[Refusal]) -> None:
        super().__init__(refusals[0].message, refusals[0].field)
        self.refusals = list(refusals)

    def all(self) -> list[Refusal]:
        return list(self.refusals)


class FieldChecks:
    """Runs the checks of each field of one input, keeping every refusal; `done()` raises them together."""

    def __init__(self) -> None:
        self.refusals: list[Refusal] = []

    def __call__(self, check: Callable[[], T]) -> T | None:
        try:
            return check()
        except Refusal as refusal:
            self.refusals.extend(refusal.all())
            return None

    def done(self) -> None:
        if len(self.refusals) == 1:
            raise self.refusals[0]
        if self.refusals:
            raise Refusals(self.refusals)


class Denied(InviteCreditsError):
    """The request itself is refused: a top-level GraphQL error. `reason` is a short fixed word (never client
    text) for logs and metrics."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or self.code.lower()


class Unauthenticated(Denied):
    code = "UNAUTHENTICATED"


class Forbidden(Denied):
    code = "FORBIDDEN"


class BadUserInput(Denied):
    code = "BAD_USER_INPUT"


class RateLimited(Denied):
    """A rate limit's bucket is empty (HTTP 429): `retry_after` is the whole seconds until it holds a token."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, "rate_limited")
        self.retry_after = max(retry_after, 1)


class Unavailable(InviteCreditsError):
    """Where the data lives cannot be reached now (a database restart or failover, a full disk): worth a retry.
    Its message is for the log, not for the client."""

    code = "SERVICE_UNAVAILABLE"


class ProviderUnavailable(Unavailable):
    """The identity provider's keys cannot be had: no token of it can be verified now."""


class DocumentRefused(InviteCreditsError):
    """A persisted-document request that cannot run (the persisted and trusted documents policy)."""

    code = "BAD_REQUEST"


class PersistedQueryNotFound(DocumentRefused):
    """An automatic persisted query's hash this process does not know: the client sends the text once."""

    code = "PERSISTED_QUERY_NOT_FOUND"


class PersistedQueryNotInList(DocumentRefused):
    """Not one of the trusted documents: nothing else runs, and the client must not retry with the text."""

    code = "PERSISTED_QUERY_NOT_IN_LIST"
