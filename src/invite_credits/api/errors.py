"""GraphQL errors with codes, and the one place unexpected failures are masked."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension

from ..domain.errors import AccessDenied, Refusal

log = logging.getLogger("invite_credits.api")


class ApiError(Exception):
    """An error the client caused, reported as a GraphQL error with `extensions.code`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def bad_input(message: str) -> ApiError:
    return ApiError("BAD_USER_INPUT", message)


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
        errors[:] = [self._process(error, request_id) for error in errors]
        data = result.data if result is not None else None
        if data is None and all(error.path is None for error in errors):
            # Parse, validation or variable coercion failed: the request itself is at fault, nothing ran.
            mark = getattr(ctx.context, "mark_request_error", None)
            if mark is not None:
                mark()

    def _process(self, error: GraphQLError, request_id: str) -> GraphQLError:
        original = error.original_error
        if isinstance(original, AccessDenied | ApiError):
            return _with_code(error, original.message, {"code": original.code})
        if isinstance(original, Refusal):
            return _with_code(error, original.message, {"code": str(original.code)})
        if original is None or error.path is None:
            # Parse, validation and variable coercion errors: the client's own document, safe to show.
            if not error.extensions or "code" not in error.extensions:
                return _with_code(error, error.message, {**(error.extensions or {}), "code": _request_error_code(error)})
            return error
        log.error(
            "unexpected error in %s (request %s)", ".".join(map(str, error.path)), request_id,
            exc_info=(type(original), original, original.__traceback__),
        )
        return _with_code(
            error, f"Internal server error (request {request_id}).",
            {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )
