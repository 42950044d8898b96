"""`/graphql`: GraphQL over HTTP through the request pipeline, GraphiQL for a browser, WebSockets to websocket.py.

Every answer is GraphQL-shaped (an `errors` list with a code and the request id), whatever the request: a
bad token, a method or a media type not served, a body that is not one JSON object, a rate limit, a database
that is away. The media type follows the client's `Accept` (GraphQL over HTTP): under
`application/graphql-response+json` a request that never executed is a 400 without `data`.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import orjson
from graphql import ExecutionResult
from starlette.datastructures import QueryParams
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send

from ..api.context import Context
from ..api.errors import MalformedRequest, answer
from ..domain.access import Actor
from ..domain.errors import Denied, PersistedQueryNotFound, Unavailable
from ..pipeline import GraphQLRequest, Pipeline
from . import graphiql
from .middleware import client_address, request_headers, request_id
from .responses import GRAPHQL_RESPONSE, JSON, error_response, negotiate
from .websocket import WebSocketView

if TYPE_CHECKING:
    from .app import AppState

log = logging.getLogger("invite_credits.http")
_OPERATION_PARAMS = ("query", "extensions", "documentId")
_ANONYMOUS = Actor()
_CONTENT_TYPES = {JSON: JSON.encode(), GRAPHQL_RESPONSE: GRAPHQL_RESPONSE.encode()}


class GraphQLEndpoint:
    """The ASGI app mounted at /graphql."""

    def __init__(self, app_state: AppState) -> None:
        s = app_state.settings
        self.app_state = app_state
        self.pipeline = Pipeline(s, app_state.limiter)
        # Under trusted documents the playground is not served: it could run nothing but the manifest's documents.
        self.playground = s.graphiql and s.trusted_documents is None
        self.websocket = WebSocketView(self, timedelta(seconds=s.ws_init_timeout_seconds))
        self._ide_html: str | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.websocket(scope, receive, send)
            return
        headers = request_headers(scope)
        rid = request_id(scope)
        media_type = negotiate(headers.get("accept"))
        try:
            answered = await self._answer(scope, receive, headers, media_type)
        except ClientGone:
            return  # nobody to answer
        except Exception as exc:  # noqa: BLE001 - every failure is answered by the one error table
            found = answer(exc, rid)
            if found.unexpected:
                log.exception("request failed before GraphQL ran (request %s)", rid)
            # Apollo's clients read PERSISTED_QUERY_NOT_FOUND from a 200 under application/json.
            status = 200 if isinstance(exc, PersistedQueryNotFound) and media_type == JSON else found.status
            answered = error_response(status, found.message, rid, code=found.code, media_type=media_type,
                                      headers=dict(found.headers))
        if isinstance(answered, Response):
            answered.headers["x-request-id"] = rid
            await answered(scope, receive, send)
            return
        # GraphQL's answer, straight to the server: two ASGI messages, no response object.
        status, body = answered
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", _CONTENT_TYPES[media_type]),
                                (b"content-length", b"%d" % len(body)), (b"x-request-id", rid.encode("latin-1"))]})
        await send({"type": "http.response.body", "body": body})

    async def _answer(self, scope: Scope, receive: Receive, headers: dict[str, str],
                      media_type: str) -> tuple[int, bytes] | Response:
        method = scope["method"]
        if method not in ("GET", "POST"):
            raise MalformedRequest(405, "Unsupported method, must be of request type POST or GET", allow="GET, POST")
        params: dict[str, Any] | None = None
        if method == "GET":
            params = dict(QueryParams(scope["query_string"]))
            if not any(key in params for key in _OPERATION_PARAMS):
                if self.playground and any(kind in headers.get("accept", "") for kind in ("text/html", "*/*")):
                    return self._graphiql()
                raise MalformedRequest(404, "Not Found")
        elif "application/json" not in headers.get("content-type", "").split(";")[0]:
            raise MalformedRequest(415, "Unsupported content type")
        actor = await self._caller(scope, headers.get("authorization"))
        if actor == _ANONYMOUS:
            limiter = self.app_state.limiter
            await limiter.take(limiter.buckets(member_id=None, anonymous=True, mutation=False, signs_up=False,
                                               address=client_address(scope)))
        data = _query_data(params) if params is not None else _body_data(await _read_body(receive))
        graphql_request = GraphQLRequest.from_json(data)
        context = self.make_context(scope)
        result = await self.pipeline.run(graphql_request, context, method)
        return _response(result, media_type, context.request_error)

    async def _caller(self, scope: Scope, authorization: str | None) -> Actor:
        """Who calls, from the bearer token: counted and logged (never the token) when refused."""
        state = self.app_state
        try:
            caller = await state.authenticator.caller(authorization)
        except Denied as denied:
            state.metrics.tokens_refused.labels(denied.reason).inc()
            log.warning("token refused", extra={"fields": {"request_id": request_id(scope), "reason": denied.reason}})
            raise
        except Unavailable as unavailable:  # the provider's keys, or the token's member, cannot be read now
            log.error("token not verified: %s", unavailable, extra={"fields": {"request_id": request_id(scope)}})
            raise
        scope_state = scope.setdefault("state", {})
        scope_state["actor"], scope_state["viewer"] = caller.actor, caller.member
        return caller.actor

    def make_context(self, scope: Any) -> Context:
        """The context every resolver sees; a WebSocket's caller is set later, by its connection_init."""
        state = scope.setdefault("state", {})
        app = self.app_state
        return Context(
            service=app.service,
            actor=state.get("actor", Actor()),
            viewer=state.get("viewer"),
            request_id=state.get("request_id") or uuid.uuid4().hex,
            token_secret=app.secret,
            member_token_ttl_seconds=app.settings.member_token_ttl_seconds,
            metrics=app.metrics,
            signup_enabled=app.settings.signup_enabled,
            live=app.live,
            client_address=client_address(scope),
        )

    def _graphiql(self) -> Response:
        if self._ide_html is None:
            self._ide_html, remote = graphiql.page()
            if remote:
                log.warning("GraphiQL: %d files load from the CDN; run `npm ci --prefix web/graphiql` to serve "
                            "them locally", remote)
        return HTMLResponse(self._ide_html)


class ClientGone(Exception):
    """The client went away before its request's body was in."""


async def _read_body(receive: Receive) -> bytes:
    """The whole body (Front already held it to the size limit); ClientGone when the client left first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientGone
        if not message.get("more_body", False):
            if not chunks:
                body: bytes = message.get("body", b"")
                return body
            chunks.append(message.get("body", b""))
            return b"".join(chunks)
        chunks.append(message.get("body", b""))


def _body_data(body: bytes) -> Any:
    """A POST's JSON body."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MalformedRequest(400, "Unable to parse request body as JSON") from None


def _query_data(params: dict[str, Any]) -> dict[str, Any]:
    """A GET's query string, `variables` and `extensions` as JSON texts."""
    for key in ("variables", "extensions"):
        if params.get(key):
            try:
                params[key] = orjson.loads(params[key])
            except orjson.JSONDecodeError:
                raise MalformedRequest(400, f"Unable to parse `{key}` as JSON") from None
    return params


def _response(result: ExecutionResult, media_type: str, request_error: bool) -> tuple[int, bytes]:
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    status = 200
    if media_type == GRAPHQL_RESPONSE and request_error:
        # application/graphql-response+json: a request that never executed is a 400 without `data`.
        status = 400
        del body["data"]
    return status, orjson.dumps(body)
