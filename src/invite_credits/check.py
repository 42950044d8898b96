"""Every invariant of the rulebook, verified over a whole database."""

from __future__ import annotations

import json
from typing import Any

from .domain.policy import Period, Policy
from .store.protocol import Reader

CHECKS: dict[str, str] = {
    "check_lot_bounds": "1. a lot's remaining is outside 0..amount",
    "check_negative_balance": "2. a recorded balance is negative",
    "check_chain": "3. an entry does not continue its member's balance chain in time order",
    "check_ledger_matches_lots": "3. a member's ledger does not sum to their live lots",
    "check_written_off": "3. a written-off lot lacks its one EXPIRED entry",
    "check_cap": "4. a grant took the balance above the cap",
    "check_lifetime_allowances": "5. a reason's lifetime allowance was exceeded",
    "check_monthly_allowances": "5. a reason's monthly allowance was exceeded",
    "check_signup_once": "5. a member has other than one SIGNUP entry",
    "check_invitation_debits": "6. an invitation was debited other than once",
    "check_idempotent_answers": "6. an idempotency key answer is dangling or shared",
    "check_connections_symmetric": "a connection is one-sided",
}


def find_violations(r: Reader, policy: Policy) -> list[str]:
    """One line per violation; empty when the database keeps every invariant."""
    rules = policy.earning_limits()
    lifetime = {r.reason.value: r.limit for r in rules if r.limit is not None and r.period is not Period.MONTH}
    lifetime.pop("SIGNUP", None)  # one entry per member, checked on its own: its amount depends on the email
    monthly = {r.reason.value: r.limit for r in rules if r.limit is not None and r.period is Period.MONTH}
    params: dict[str, dict[str, Any]] = {
        "check_cap": {"cap": policy.balance_cap},
        "check_lifetime_allowances": {"limits": json.dumps(lifetime)},
        "check_monthly_allowances": {"limits": json.dumps(monthly)},
    }
    problems: list[str] = []
    for name, meaning in CHECKS.items():
        for row in r.all(name, **params.get(name, {})):
            problems.append(f"{meaning}: {dict(row)}")
    return problems
