"""Errors that stop a request before GraphQL runs, in GraphQL's own response shape."""

from __future__ import annotations

import orjson
from starlette.responses import Response

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"

# The code a request refused at the HTTP level carries, by status.
HTTP_CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED",
              413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE", 500: "INTERNAL_SERVER_ERROR",
              503: "SERVICE_UNAVAILABLE"}


def negotiate(accept: str | None) -> str:
    """The GraphQL-over-HTTP media type when the client lists it before (or instead of) plain JSON."""
    if not accept:
        return JSON
    types = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    if GRAPHQL_RESPONSE in types and (JSON not in types or types.index(GRAPHQL_RESPONSE) < types.index(JSON)):
        return GRAPHQL_RESPONSE
    return JSON


def error_response(status: int, message: str, request_id: str, *, code: str | None = None,
                   media_type: str = JSON, headers: dict[str, str] | None = None) -> Response:
    """`{"errors": [...]}` with a code and the request id, as every GraphQL client can read it."""
    extensions = {"code": code or HTTP_CODES.get(status, "BAD_REQUEST"), "requestId": request_id}
    body = orjson.dumps({"errors": [{"message": message, "extensions": extensions}]})
    response = Response(body, status_code=status, media_type=media_type, headers=headers)
    response.headers["x-request-id"] = request_id
    return response
