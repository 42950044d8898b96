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
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send

from ..api.context import Context
from ..api.errors import MalformedRequest, answer
from ..domain.access import Actor
from ..domain.errors import Denied, PersistedQueryNotFound, Unavailable
from ..pipeline import GraphQLRequest, Pipeline
from . import graphiql
from .middleware import client_address, request_id
from .responses import GRAPHQL_RESPONSE, JSON, error_response, negotiate
from .websocket import WebSocketView

if TYPE_CHECKING:
    from .app import AppState

log = logging.getLogger("invite_credits.http")
_OPERATION_PARAMS = ("query", "extensions", "documentId")
_ANONYMOUS = Actor()


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
        request = Request(scope, receive)
        rid = request_id(scope)
        media_type = negotiate(request.headers.get("accept"))
        try:
            response = await self._answer(request, media_type)
        except Exception as exc:  # noqa: BLE001 - every failure is answered by the one error table
            found = answer(exc, rid)
            if found.unexpected:
                log.exception("request failed before GraphQL ran (request %s)", rid)
            # Apollo's clients read PERSISTED_QUERY_NOT_FOUND from a 200 under application/json.
            status = 200 if isinstance(exc, PersistedQueryNotFound) and media_type == JSON else found.status
            response = error_response(status, found.message, rid, code=found.code, media_type=media_type,
                                      headers=dict(found.headers))
        await response(scope, receive, send)

    async def _answer(self, request: Request, media_type: str) -> Response:
        method = request.method
        if method not in ("GET", "POST"):
            raise MalformedRequest(405, "Unsupported method, must be of request type POST or GET", allow="GET, POST")
        if method == "GET" and not any(key in request.query_params for key in _OPERATION_PARAMS):
            if self.playground and any(kind in request.headers.get("accept", "") for kind in ("text/html", "*/*")):
                return self._graphiql()
            raise MalformedRequest(404, "Not Found")
        if method == "POST" and "application/json" not in request.headers.get("content-type", "").split(";")[0]:
            raise MalformedRequest(415, "Unsupported content type")
        actor = await self._caller(request)
        if actor == _ANONYMOUS:
            limiter = self.app_state.limiter
            await limiter.take(limiter.buckets(member_id=None, anonymous=True, mutation=False, signs_up=False,
                                               address=client_address(request.scope)))
        graphql_request = GraphQLRequest.from_json(await _request_data(request))
        context = self.make_context(request.scope)
        result = await self.pipeline.run(graphql_request, context, method)
        return _response(result, media_type, context.request_error)

    async def _caller(self, request: Request) -> Actor:
        """Who calls, from the bearer token: counted and logged (never the token) when refused."""
        state = self.app_state
        rid = request_id(request.scope)
        try:
            caller = await state.authenticator.caller(request.headers.get("authorization"))
        except Denied as denied:
            state.metrics.tokens_refused.labels(denied.reason).inc()
            log.warning("token refused", extra={"fields": {"request_id": rid, "reason": denied.reason}})
            raise
        except Unavailable as unavailable:  # the provider's keys, or the token's member, cannot be read now
            log.error("token not verified: %s", unavailable, extra={"fields": {"request_id": rid}})
            raise
        scope_state = request.scope.setdefault("state", {})
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


async def _request_data(request: Request) -> Any:
    """The request's JSON object: the body of a POST, the query string of a GET (`variables` and `extensions`
    as JSON texts)."""
    if request.method == "POST":
        try:
            return orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            raise MalformedRequest(400, "Unable to parse request body as JSON") from None
    params: dict[str, Any] = dict(request.query_params)
    for key in ("variables", "extensions"):
        if params.get(key):
            try:
                params[key] = orjson.loads(params[key])
            except orjson.JSONDecodeError:
                raise MalformedRequest(400, f"Unable to parse `{key}` as JSON") from None
    return params


def _response(result: ExecutionResult, media_type: str, request_error: bool) -> Response:
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    status = 200
    if media_type == GRAPHQL_RESPONSE and request_error:
        # application/graphql-response+json: a request that never executed is a 400 without `data`.
        status = 400
        del body["data"]
    return Response(orjson.dumps(body), status_code=status, media_type=media_type)
