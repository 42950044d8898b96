"""The one error table: every exception, by the nearest class along its hierarchy, becomes one answer (an
HTTP status, a code, the message a client may see, headers, and whether it is ours to log with its traceback).
HTTP (http/endpoint.py), GraphQL (process_error) and WebSocket all answer through it; unexpected failures are masked
as INTERNAL_SERVER_ERROR with the request id. (Refusals become a payload's userErrors in payloads.py; one that
escapes a resolver is still answered here, by its code.)"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError

from ..domain.errors import (
    BadUserInput,
    Denied,
    DocumentRefused,
    Forbidden,
    InviteCreditsError,
    PersistedQueryNotFound,
    PersistedQueryNotInList,
    ProviderUnavailable,
    RateLimited,
    Refusal,
    Unauthenticated,
    Unavailable,
)

log = logging.getLogger("invite_credits.api")

# The code a request refused before GraphQL runs carries, by its HTTP status.
HTTP_CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
              413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE", 500: "INTERNAL_SERVER_ERROR",
              503: "SERVICE_UNAVAILABLE"}


class MalformedRequest(Exception):
    """A request that is not one GraphQL over HTTP can run: not JSON, not one object, an unknown operation, a
    mutation by GET, a method or a media type not served. `allow`: the methods a 405 names."""

    def __init__(self, status: int, message: str, *, allow: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.allow = allow


@dataclass(frozen=True)
class Answer:
    """How one exception is answered. `status` counts where HTTP answers it (before GraphQL runs)."""

    status: int
    code: str
    message: str
    headers: Mapping[str, str] = field(default_factory=dict)
    masked: bool = False  # the exception's own text stays in the log; the client gets the request id
    unexpected: bool = False  # a bug: logged with its traceback

    def extensions(self, request_id: str) -> dict[str, Any]:
        return {"code": self.code, "requestId": request_id} if self.masked else {"code": self.code}


def _own(status: int, **headers: str) -> Callable[[BaseException, str], Answer]:
    """The exception's own code and message, with this status."""

    def answer(exc: BaseException, request_id: str) -> Answer:
        assert isinstance(exc, InviteCreditsError)
        return Answer(status, str(exc.code), exc.message, headers)

    return answer


def _masked(status: int, text: str, code: str, *, unexpected: bool = False,
            headers: Mapping[str, str] | None = None) -> Callable[[BaseException, str], Answer]:
    """A fixed text for the client (with the request id), the exception's own for the log."""

    def answer(exc: BaseException, request_id: str) -> Answer:
        return Answer(status, code, f"{text} (request {request_id}).", headers or {}, masked=True,
                      unexpected=unexpected)

    return answer


def _rate_limited(exc: BaseException, request_id: str) -> Answer:
    assert isinstance(exc, RateLimited)
    return Answer(429, exc.code, exc.message, {"retry-after": str(exc.retry_after)})


def _malformed(exc: BaseException, request_id: str) -> Answer:
    assert isinstance(exc, MalformedRequest)
    return Answer(exc.status, HTTP_CODES.get(exc.status, "BAD_REQUEST"), exc.message,
                  {"allow": exc.allow} if exc.allow else {})


_TABLE: dict[type[BaseException], Callable[[BaseException, str], Answer]] = {
    BaseException: _masked(500, "Internal server error", "INTERNAL_SERVER_ERROR", unexpected=True),
    InviteCreditsError: _own(400),
    Refusal: _own(400),
    Denied: _own(400),
    Unauthenticated: _own(401, **{"www-authenticate": "Bearer"}),
    Forbidden: _own(403),
    BadUserInput: _own(400),
    RateLimited: _rate_limited,
    MalformedRequest: _malformed,
    DocumentRefused: _own(400),
    PersistedQueryNotFound: _own(404),
    PersistedQueryNotInList: _own(403),
    Unavailable: _masked(503, "The database is unavailable; try again shortly", "SERVICE_UNAVAILABLE",
                         headers={"retry-after": "1"}),
    ProviderUnavailable: _masked(503, "The identity provider's keys cannot be fetched; try again shortly",
                                 "SERVICE_UNAVAILABLE", headers={"retry-after": "5"}),
}


def answer(exc: BaseException, request_id: str) -> Answer:
    """The answer for `exc`: the table's entry for the nearest class along its hierarchy."""
    for cls in type(exc).__mro__:
        rule = _TABLE.get(cls)
        if rule is not None:
            return rule(exc, request_id)
    raise AssertionError("BaseException is in the table")  # pragma: no cover


def _with_code(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message, nodes=error.nodes, source=error.source, positions=error.positions, path=error.path,
        extensions=extensions,
    )


def _request_error_code(error: GraphQLError) -> str:
    if isinstance(error, GraphQLSyntaxError) or error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if error.message.startswith("Variable '$"):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def is_request_error(data: Any, errors: list[GraphQLError]) -> bool:
    """Parse, validation or variable coercion failed: the request itself is at fault, nothing ran."""
    return data is None and bool(errors) and all(error.path is None for error in errors)


def process_error(error: GraphQLError, request_id: str) -> GraphQLError:
    """The error as the client sees it: with a code, and masked when it is not one we meant (the table)."""
    original = error.original_error
    if original is None or (error.path is None and not isinstance(original, InviteCreditsError)):
        # Parse, validation and variable coercion errors: the client's own document, safe to show.
        if not error.extensions or "code" not in error.extensions:
            return _with_code(error, error.message, {**(error.extensions or {}), "code": _request_error_code(error)})
        return error
    found = answer(original, request_id)
    where = ".".join(map(str, error.path or ()))
    if found.unexpected:
        log.error("unexpected error in %s (request %s)", where, request_id,
                  exc_info=(type(original), original, original.__traceback__))
    elif found.masked:  # the store logs each fault once a while and counts every one; a line a request would flood
        log.debug("unavailable in %s (request %s): %s", where, request_id, original)
    return _with_code(error, found.message, found.extensions(request_id))
