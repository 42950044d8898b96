"""The one error table: every exception is answered by the nearest class along its hierarchy, the same on HTTP,
GraphQL and WebSocket, and what a client must not see stays in the log."""

from __future__ import annotations

import pytest

from invite_credits.api.errors import answer
from invite_credits.domain import errors
from invite_credits.events.live import TooManySubscriptions
from invite_credits.store.protocol import DatabaseUnavailable, StoreError


@pytest.mark.parametrize(("exc", "status", "code"), [
    (errors.Unauthenticated("no"), 401, "UNAUTHENTICATED"),
    (errors.Forbidden("no"), 403, "FORBIDDEN"),
    (errors.BadUserInput("no"), 400, "BAD_USER_INPUT"),
    (errors.RateLimited("slow down", 7), 429, "RATE_LIMITED"),
    (errors.PersistedQueryNotFound("PersistedQueryNotFound"), 404, "PERSISTED_QUERY_NOT_FOUND"),
    (errors.PersistedQueryNotInList("no"), 403, "PERSISTED_QUERY_NOT_IN_LIST"),
    (errors.DocumentRefused("bad hash"), 400, "BAD_REQUEST"),
    (TooManySubscriptions("too many"), 400, "TOO_MANY_SUBSCRIPTIONS"),  # a Denied: its parent's rule, its own code
    (errors.InsufficientCredits("none"), 400, "INSUFFICIENT_CREDITS"),
    (errors.Unavailable("postgresql://app:secret@db/x is down"), 503, "SERVICE_UNAVAILABLE"),
    (errors.ProviderUnavailable("https://idp/certs: refused"), 503, "SERVICE_UNAVAILABLE"),
    (StoreError("database /var/lib/x.db is read-only"), 503, "SERVICE_UNAVAILABLE"),
    (DatabaseUnavailable("postgresql://app:secret@db/x: gone"), 503, "SERVICE_UNAVAILABLE"),
    (KeyError("internal detail"), 500, "INTERNAL_SERVER_ERROR"),
])
def test_every_exception_is_answered_by_its_nearest_class(exc: BaseException, status: int, code: str) -> None:
    found = answer(exc, "rid-1")
    assert (found.status, found.code) == (status, code)
    if status >= 500:  # masked: the request id, never the exception's own text (URLs, paths, internals)
        assert found.masked and "rid-1" in found.message and str(exc).strip("'") not in found.message
        assert found.extensions("rid-1") == {"code": code, "requestId": "rid-1"}
    else:
        assert found.message == getattr(exc, "message", None)
    assert found.unexpected == (code == "INTERNAL_SERVER_ERROR")


def test_what_asks_for_a_retry_says_when() -> None:
    assert answer(errors.RateLimited("x", 7), "r").headers == {"retry-after": "7"}
    assert answer(errors.Unavailable("x"), "r").headers == {"retry-after": "1"}
    assert answer(errors.ProviderUnavailable("x"), "r").headers == {"retry-after": "5"}
    assert answer(errors.Unauthenticated("x"), "r").headers == {"www-authenticate": "Bearer"}
