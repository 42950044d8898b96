"""GraphQL errors with codes, and the one place unexpected failures are masked."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
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


class ErrorPolicy(SchemaExtension):
    """Gives every error a code; masks anything unexpected as INTERNAL_SERVER_ERROR with the request id."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not getattr(result, "errors", None):
            return
        request_id = getattr(self.execution_context.context, "request_id", "-")
        result.errors = [self._process(error, request_id) for error in result.errors]

    def _process(self, error: GraphQLError, request_id: str) -> GraphQLError:
        original = error.original_error
        if isinstance(original, AccessDenied | ApiError):
            return _with_code(error, original.message, {"code": original.code})
        if isinstance(original, Refusal):
            return _with_code(error, original.message, {"code": str(original.code)})
        if original is None or error.path is None:
            # Parse, validation and variable coercion errors: the client's own document, safe to show.
            if not error.extensions or "code" not in error.extensions:
                return _with_code(error, error.message, {**(error.extensions or {}), "code": "GRAPHQL_VALIDATION_FAILED"})
            return error
        log.error(
            "unexpected error in %s (request %s)", ".".join(map(str, error.path)), request_id,
            exc_info=(type(original), original, original.__traceback__),
        )
        return _with_code(
            error, f"Internal server error (request {request_id}).",
            {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )
