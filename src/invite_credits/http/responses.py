"""Errors that stop a request before GraphQL runs, in GraphQL's own response shape."""

from __future__ import annotations

import orjson
from starlette.responses import Response

from ..api.errors import HTTP_CODES

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"

def negotiate(accept: str | None) -> str:
    """The media type of the answer, by the client's `Accept` (RFC 9110 q-values; GraphQL over HTTP): the listed
    type of higher weight, an exact type before a wildcard, the one listed first on a tie; plain JSON when the
    client accepts neither."""
    if not accept:
        return JSON
    weights: dict[str, tuple[float, int]] = {}  # media range -> (q, position)
    for position, part in enumerate(accept.split(",")):
        media, *parameters = part.split(";")
        q = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        weights.setdefault(media.strip().lower(), (q, position))

    def weight(media_type: str) -> tuple[float, int, int]:
        for exact, media_range in enumerate((media_type, "application/*", "*/*")):
            if media_range in weights:
                q, position = weights[media_range]
                return q, -exact, -position
        return 0.0, 0, 0

    best = max((JSON, GRAPHQL_RESPONSE), key=weight)  # a bare wildcard keeps plain JSON, as before
    return best if weight(best)[0] > 0 else JSON


def error_response(status: int, message: str, request_id: str, *, code: str | None = None,
                   media_type: str = JSON, headers: dict[str, str] | None = None) -> Response:
    """`{"errors": [...]}` with a code and the request id, as every GraphQL client can read it."""
    extensions = {"code": code or HTTP_CODES.get(status, "BAD_REQUEST"), "requestId": request_id}
    body = orjson.dumps({"errors": [{"message": message, "extensions": extensions}]})
    response = Response(body, status_code=status, media_type=media_type, headers=headers)
    response.headers["x-request-id"] = request_id
    return response
