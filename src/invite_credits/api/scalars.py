"""The DateTime scalar: whole seconds inside, ISO-8601 UTC with a Z suffix outside."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NewType

import strawberry

from ..domain.rules import iso, to_timestamp

Timestamp = NewType("Timestamp", int)


def serialize(value: int) -> str:
    return iso(value)


def parse(value: object) -> int:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO-8601 string such as 2026-11-26T03:39:04Z")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError("DateTime must be an ISO-8601 string such as 2026-11-26T03:39:04Z") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if not 1970 <= parsed.year <= 9999:
        raise ValueError("DateTime is out of range")
    return to_timestamp(parsed)


# Fields annotate `DateTime`; the schema maps it to this scalar (StrawberryConfig.scalar_map).
DateTime = Timestamp
DATETIME_SCALAR = strawberry.scalar(
    name="DateTime",
    description="An instant in UTC, ISO-8601 with a Z suffix, e.g. 2026-11-26T03:39:04Z.",
    serialize=serialize,
    parse_value=parse,
)
