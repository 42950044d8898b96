"""The rules as tables: grant arithmetic, cap, expiry dates, spend order, emails, profile completion."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from invite_credits.domain import rules
from invite_credits.domain.errors import Code, MessageTooLong, Refusal
from invite_credits.domain.policy import Period, Policy

P = Policy()


@pytest.mark.parametrize(
    ("requested", "allowance_left", "available", "expected"),
    [
        (15, None, 0, (15, 15, 15)),  # sign-up
        (1, None, 199, (1, 1, 1)),  # last credit under the cap
        (1, None, 200, (1, 1, 0)),  # at the cap: an entry of +0
        (3, None, 200, (3, 3, 0)),  # referral at the cap: +0 requested 3
        (190, 500, 15, (190, 190, 185)),  # 190 contacts at balance 15: +185 requested 190
        (200, 125, 0, (200, 125, 125)),  # the last 125 of the 500
        (200, 125, 150, (200, 125, 50)),  # limit first, then the cap
        (1, 0, 10, None),  # allowance used up: no entry
        (0, None, 10, None),  # nothing requested: no entry
        (5, -3, 10, None),  # allowance over-used (policy lowered): nothing
        (10, None, 250, (10, 10, 0)),  # balance above a lowered cap: nothing granted, never negative
    ],
)
def test_plan_grant(requested: int, allowance_left: int | None, available: int, expected: tuple[int, int, int] | None) -> None:
    grant = rules.plan_grant(requested, allowance_left, available, P.balance_cap)
    if expected is None:
        assert grant is None
    else:
        assert grant is not None
        assert (grant.requested, grant.allowed, grant.granted) == expected
        assert grant.forfeited == expected[1] - expected[2]


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("granted", "expires"),
    [
        ("2026-01-15T12:00:00", "2027-01-15T12:00:00"),
        ("2024-02-29T08:30:00", "2025-02-28T08:30:00"),  # 29 February maps to 28 February
        ("2027-02-28T00:00:00", "2028-02-28T00:00:00"),  # into a leap year: stays 28
        ("2026-12-31T23:59:59", "2027-12-31T23:59:59"),
        ("2026-03-31T00:00:00", "2027-03-31T00:00:00"),
    ],
)
def test_expiry_is_twelve_calendar_months(granted: str, expires: str) -> None:
    at = rules.to_timestamp(_dt(granted))
    assert rules.expires_at(at, P) == rules.to_timestamp(_dt(expires))


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        ("2026-01-31T00:00:00", 1, "2026-02-28T00:00:00"),
        ("2028-01-31T00:00:00", 1, "2028-02-29T00:00:00"),
        ("2026-08-31T10:00:00", 1, "2026-09-30T10:00:00"),
        ("2026-11-30T00:00:00", 3, "2027-02-28T00:00:00"),
        ("2026-05-15T00:00:00", 24, "2028-05-15T00:00:00"),
    ],
)
def test_add_months_clamps_to_month_end(start: str, months: int, end: str) -> None:
    assert rules.add_months(_dt(start), months) == _dt(end)


def test_month_period_starts_on_the_first_at_midnight_utc() -> None:
    now = rules.to_timestamp(_dt("2026-03-17T09:45:00"))
    assert rules.period_start(Period.MONTH, now) == rules.to_timestamp(_dt("2026-03-01T00:00:00"))
    assert rules.period_start(Period.LIFETIME, now) is None


@pytest.mark.parametrize(
    ("lots", "amount", "draws"),
    [
        ([(1, 5, 300), (2, 5, 100)], 1, [(2, 1)]),  # the lot that expires first
        ([(1, 5, 100), (2, 5, 100)], 1, [(1, 1)]),  # ties: the older lot
        ([(1, 2, 100), (2, 5, 200)], 4, [(1, 2), (2, 2)]),  # across lots
        ([(1, 0, 100), (2, 5, 200)], 1, [(2, 1)]),  # empty lots are skipped
    ],
)
def test_plan_spend_order(lots: list[tuple[int, int, int]], amount: int, draws: list[tuple[int, int]]) -> None:
    plan = rules.plan_spend([rules.Lot(*lot) for lot in lots], amount)
    assert [(d.lot_id, d.amount) for d in plan] == draws


def test_plan_spend_refuses_more_than_available_unless_partial() -> None:
    lots = [rules.Lot(1, 2, 100)]
    with pytest.raises(Refusal) as refused:
        rules.plan_spend(lots, 3)
    assert refused.value.code is Code.INSUFFICIENT_CREDITS
    assert [(d.lot_id, d.amount) for d in rules.plan_spend(lots, 3, partial=True)] == [(1, 2)]


@pytest.mark.parametrize(
    ("email", "credits"),
    [
        ("a@mit.edu", 30),
        ("b@cs.stanford.edu", 30),
        ("c@edu.example.com", 15),
        ("d@example.com", 15),
        ("e@example.education", 15),
    ],
)
def test_signup_credits_for_academic_domains(email: str, credits: int) -> None:
    assert rules.signup_credits(email, P) == credits


@pytest.mark.parametrize(
    ("raw", "valid"),
    [
        ("  Ann@Example.COM ", True),
        ("ann@example", False),
        ("ann.example.com", False),
        ("a b@example.com", False),
        ("@example.com", False),
        ("ann@@example.com", False),
        ("ann@example..com", False),
        ("x" * 250 + "@example.com", False),
    ],
)
def test_email_validation(raw: str, valid: bool) -> None:
    assert rules.valid_email(rules.normalize_email(raw), P) is valid


@pytest.mark.parametrize(
    ("sections", "completion"),
    [
        ((None, None, None, 0, 0, 0), 0),
        (("h", None, None, 0, 0, 0), 16),
        (("h", "a", None, 0, 0, 0), 33),
        (("h", "a", "l", 0, 0, 0), 50),
        (("h", "a", "l", 1, 0, 0), 66),
        (("h", "a", "l", 1, 1, 2), 83),  # two skills are not enough
        (("h", "a", "l", 1, 1, 3), 100),
    ],
)
def test_profile_completion_in_sixths_rounded_down(sections: tuple[str | None, str | None, str | None, int, int, int],
                                                  completion: int) -> None:
    assert rules.profile_completion(*sections, P) == completion


@pytest.mark.parametrize(
    ("value", "required", "result"),
    [("  hi  ", True, "hi"), ("", False, None), ("   ", False, None), (None, False, None)],
)
def test_require_text_trims(value: str | None, required: bool, result: str | None) -> None:
    assert rules.require_text(value, ["x"], 10, required=required) == result


@pytest.mark.parametrize(("value", "code"), [("", Code.INVALID_INPUT), (None, Code.INVALID_INPUT), ("x" * 11, Code.MESSAGE_TOO_LONG)])
def test_require_text_refuses(value: str | None, code: Code) -> None:
    """Blank or missing text is INVALID_INPUT; only a text over its limit takes the caller's code."""
    with pytest.raises(Refusal) as refused:
        rules.require_text(value, ["x"], 10, too_long=MessageTooLong)
    assert refused.value.code is code
    assert refused.value.field == ["x"]
