"""GraphQL errors with codes, by class: the one place errors become GraphQL errors and unexpected failures are
masked. (Refusals become a payload's userErrors in payloads.py; one that escapes a resolver is still mapped
here, by its code.)"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension

from ..domain.errors import InviteCreditsError, Unavailable

log = logging.getLogger("invite_credits.api")


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


class ErrorPolicy(SchemaExtension):
    """Gives every error a code; masks anything unexpected as INTERNAL_SERVER_ERROR with the request id."""

    def on_operation(self) -> Iterator[None]:
        yield
        ctx = self.execution_context
        result = ctx.result
        # A request refused before execution (parse, validation, limits) has its errors only here;
        # the response is built from this same list, so it is rewritten in place.
        errors = result.errors if result is not None and getattr(result, "errors", None) else ctx.pre_execution_errors
        if not errors:
            return
        request_id = getattr(ctx.context, "request_id", "-")
        errors[:] = [process_error(error, request_id) for error in errors]
        data = result.data if result is not None else None
        if is_request_error(data, errors):
            mark = getattr(ctx.context, "mark_request_error", None)
            if mark is not None:
                mark()


def is_request_error(data: Any, errors: list[GraphQLError]) -> bool:
    """Parse, validation or variable coercion failed: the request itself is at fault, nothing ran."""
    return data is None and bool(errors) and all(error.path is None for error in errors)


def process_error(error: GraphQLError, request_id: str) -> GraphQLError:
    """The error as the client sees it: with a code, and masked when it is not one we meant."""
    original = error.original_error
    if isinstance(original, InviteCreditsError):
        return _with_code(error, original.message, {"code": str(original.code)})
    if original is None or error.path is None:
        # Parse, validation and variable coercion errors: the client's own document, safe to show.
        if not error.extensions or "code" not in error.extensions:
            return _with_code(error, error.message, {**(error.extensions or {}), "code": _request_error_code(error)})
        return error
    if isinstance(original, Unavailable):  # the database went away (a restart, a failover, a full disk): retry
        # The store logs each fault once a while and counts every one; a line per request would flood the log.
        log.debug("database unavailable in %s (request %s): %s", ".".join(map(str, error.path)), request_id, original)
        return _with_code(error, f"The database is unavailable; try again (request {request_id}).",
                          {"code": "SERVICE_UNAVAILABLE", "requestId": request_id})
    log.error(
        "unexpected error in %s (request %s)", ".".join(map(str, error.path)), request_id,
        exc_info=(type(original), original, original.__traceback__),
    )
    return _with_code(
        error, f"Internal server error (request {request_id}).",
        {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
    )
