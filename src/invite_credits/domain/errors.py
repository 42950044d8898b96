"""Refusals as values with codes, mapped once to GraphQL userErrors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import TypeVar

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
    # Added after the contract's values: a party acting out of role.
    FORBIDDEN = "FORBIDDEN"


class Refusal(Exception):
    """A rule refused the action; nothing was changed."""

    def __init__(self, code: Code, message: str, field: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = list(field) if field is not None else None

    def __repr__(self) -> str:
        return f"Refusal({self.code!s}, {self.message!r}, {self.field!r})"

    def all(self) -> list[Refusal]:
        """Every refusal this one reports (several when several fields of one input are wrong)."""
        return [self]


class Refusals(Refusal):
    """Several fields of one input are wrong: each is reported, and nothing happens."""

    def __init__(self, refusals: Sequence[Refusal]) -> None:
        first = refusals[0]
        super().__init__(first.code, first.message, first.field)
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


class AccessDenied(Exception):
    """The caller may not do this at all: UNAUTHENTICATED or FORBIDDEN, not a user error.

    `reason` is a short fixed word (never client text) for logs and metrics."""

    def __init__(self, code: str, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or code.lower()


def unauthenticated(message: str = "Sign in to do this.", reason: str | None = None) -> AccessDenied:
    return AccessDenied("UNAUTHENTICATED", message, reason)


def forbidden(message: str = "You may not do this.") -> AccessDenied:
    return AccessDenied("FORBIDDEN", message)
