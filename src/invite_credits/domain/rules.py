"""Grant arithmetic, spending order, expiry dates and input rules."""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from .errors import InsufficientCredits, InvalidInput, Refusal
from .policy import Period, Policy


def to_datetime(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def iso(ts: int, _days: dict[int, str] = {}) -> str:  # noqa: B006 - one memo of dates per process
    """The API's spelling of an instant: ISO-8601 UTC with a Z, to the second. A ledger page spells forty: the
    date is remembered per day (time's strftime once a day, not once an instant), the time of day is arithmetic."""
    day, second = divmod(ts, 86400)
    date = _days.get(day)
    if date is None:
        date = time.strftime("%Y-%m-%dT", time.gmtime(day * 86400))
        if len(_days) >= 4096:
            _days.clear()
        _days[day] = date
    return f"{date}{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}Z"


def to_timestamp(dt: datetime) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())


def add_months(dt: datetime, months: int) -> datetime:
    """Same day and time `months` later; a day the target month lacks becomes its last day (29 Feb -> 28 Feb)."""
    index = dt.year * 12 + (dt.month - 1) + months
    year, month = divmod(index, 12)
    day = min(dt.day, calendar.monthrange(year, month + 1)[1])
    return dt.replace(year=year, month=month + 1, day=day)


def expires_at(granted_at: int, policy: Policy) -> int:
    return to_timestamp(add_months(to_datetime(granted_at), policy.credit_lifetime_months))


def period_start(period: Period, now: int) -> int | None:
    """Start of the limit period containing `now`; None means since the beginning."""
    if period is Period.MONTH:
        dt = to_datetime(now)
        return to_timestamp(dt.replace(day=1, hour=0, minute=0, second=0, microsecond=0))
    return None


@dataclass(frozen=True)
class Grant:
    """What one grant writes: `requested` before any limit, `granted` after the reason's limit and the cap."""

    requested: int
    allowed: int
    granted: int

    @property
    def forfeited(self) -> int:
        return self.allowed - self.granted


def plan_grant(requested: int, allowance_left: int | None, available: int, cap: int) -> Grant | None:
    """Apply the reason's limit, then the balance cap. None: nothing to write (nothing requested or allowed)."""
    if requested <= 0:
        return None
    allowed = requested if allowance_left is None else min(requested, max(allowance_left, 0))
    if allowed <= 0:
        return None
    granted = max(0, min(allowed, cap - available))
    return Grant(requested=requested, allowed=allowed, granted=granted)


@dataclass(frozen=True)
class Lot:
    id: int
    remaining: int
    expires_at: int


@dataclass(frozen=True)
class Draw:
    lot_id: int
    amount: int


def plan_spend(lots: Sequence[Lot], amount: int, *, partial: bool = False) -> list[Draw]:
    """Take `amount` from the lots that expire first (ties: older lot).

    Raises INSUFFICIENT_CREDITS unless `partial`, which takes at most what there is.
    """
    draws: list[Draw] = []
    left = amount
    for lot in sorted(lots, key=lambda lot: (lot.expires_at, lot.id)):
        if left == 0:
            break
        take = min(lot.remaining, left)
        if take > 0:
            draws.append(Draw(lot.id, take))
            left -= take
    if left > 0 and not partial:
        raise InsufficientCredits("Not enough credits.")
    return draws


# WHATWG HTML's "valid email address" (the rule browsers apply to <input type=email>), with one restriction: the
# domain has at least two labels (a@localhost is valid HTML, but no member is reached there).
_EMAIL_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_EMAIL_LABEL}(?:\.{_EMAIL_LABEL})+")
# Control characters (C0, DEL, C1) no text the API takes may hold; multi-line text may hold tab, LF and CR.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control_characters(text: str, *, multiline: bool = False) -> bool:
    return (_CONTROL_MULTILINE if multiline else _CONTROL).search(text) is not None


def normalize_email(raw: str) -> str:
    """Trimmed and lower-cased. Only ASCII is lower-cased: the grammar is ASCII, and lower-casing other letters could
    turn a refused address into another member's (the Kelvin sign K lower-cases to k)."""
    trimmed = raw.strip()
    return trimmed.lower() if trimmed.isascii() else trimmed


def valid_email(email: str, policy: Policy) -> bool:
    return len(email) <= policy.email_max_length and _EMAIL.fullmatch(email) is not None


def require_email(email: str, policy: Policy, field: Sequence[str], message: str = "Enter a valid email address.") -> str:
    """The normalised email, or INVALID_INPUT on `field`."""
    if not valid_email(email, policy):
        raise InvalidInput(message, field)
    return email


def is_academic(email: str, policy: Policy) -> bool:
    """True when the email's domain ends in the academic label: a@mit.edu yes, c@edu.example.com no."""
    return email.rsplit("@", 1)[-1].rsplit(".", 1)[-1] == policy.academic_label


def signup_credits(email: str, policy: Policy) -> int:
    return policy.initial_credits_academic if is_academic(email, policy) else policy.initial_credits


def require_text(
    value: str | None, field: Sequence[str], max_length: int, *, required: bool = True,
    too_long: type[Refusal] = InvalidInput,
) -> str | None:
    """Trimmed text, None for blank optional text; refuses blank required text, text over `max_length`, and text
    with control characters other than line breaks and tabs (a NUL would also end the text for SQL's length())."""
    if value is None:
        if required:
            raise InvalidInput(f"{field[-1]} is required.", field)
        return None
    text = value.strip()
    if not text:
        if required:
            raise InvalidInput(f"{field[-1]} must not be blank.", field)
        return None
    if len(text) > max_length:
        raise too_long(f"{field[-1]} is longer than {max_length} characters.", field)
    if has_control_characters(text, multiline=True):  # the API refuses line breaks too where text is one line
        raise InvalidInput(f"{field[-1]} contains a control character.", field)
    return text


PROFILE_SECTIONS = 6


def profile_completion(
    headline: str | None,
    about: str | None,
    location: str | None,
    experience_count: int,
    education_count: int,
    skills_count: int,
    policy: Policy,
) -> int:
    """Percentage in steps of one sixth, rounded down."""
    filled = sum(
        (
            bool(headline),
            bool(about),
            bool(location),
            experience_count >= 1,
            education_count >= 1,
            skills_count >= policy.profile_skills_for_completion,
        )
    )
    return filled * 100 // PROFILE_SECTIONS
