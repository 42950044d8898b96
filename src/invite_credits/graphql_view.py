"""The GraphQL endpoint: Strawberry's ASGI view, with the caller taken from the token first, and a GraphQL-shaped
answer (an `errors` list, a code, the request id) for every request it cannot run, whatever its shape."""

from __future__ import annotations

import logging
import uuid
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, cast

import orjson
from cross_web import HTTPException
from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, get_operation_ast
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type

from . import graphiql, thin_path
from .api.context import Context
from .api.errors import answer
from .api.schema import create_schema
from .domain.access import Actor
from .domain.errors import Denied, DocumentRefused, PersistedQueryNotFound, RateLimited, Unavailable
from .errors_http import GRAPHQL_RESPONSE, JSON, error_response, negotiate
from .internals import BaseGraphQLTransportWSHandler
from .middleware import request_id
from .persisted import PersistedDocuments, load_manifest
from .ratelimits import RateLimiter
from .thin_path import client_address

if TYPE_CHECKING:
    from .app import AppState

log = logging.getLogger("invite_credits.http")
_scope: ContextVar[Scope] = ContextVar("invite_credits_request_scope")


_SUBSCRIBE_FIELDS = (("query", str), ("variables", dict), ("operationName", str), ("extensions", dict),
                     ("documentId", str))


def frame_problem(message: Any) -> str | None:
    """Why a graphql-transport-ws message is malformed (the socket closes 4400 with it), or None."""
    if not isinstance(message, dict):
        return "A message must be a JSON object."
    kind = message.get("type")
    if not isinstance(kind, str):
        return "A message needs a string `type`."
    if kind in ("subscribe", "complete") and not (isinstance(message.get("id"), str) and message["id"]):
        return f"A {kind} message needs a non-empty string `id`."
    payload = message.get("payload")
    if kind == "connection_init" and payload is not None and not isinstance(payload, dict):
        return "connection_init's payload must be an object."
    if kind == "subscribe":
        if not isinstance(payload, dict):
            return "A subscribe message needs an object `payload`."
        for key, expected in _SUBSCRIBE_FIELDS:
            if payload.get(key) is not None and not isinstance(payload[key], expected):
                return f"subscribe's `{key}` must be {'a string' if expected is str else 'an object'} or null."
    return None


class TransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with the service's policy: a malformed message closes the socket (4400) with its
    reason and no traceback; a subscribe's document goes through the same persisted/trusted documents policy as
    HTTP (refused: an `error` message with the code; the socket stays open)."""

    async def handle_message(self, message: Any) -> None:
        problem = frame_problem(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        if message["type"] == "connection_init" and message.get("payload") is None:
            message = {**message, "payload": {}}
        if message["type"] == "subscribe" and self.connection_acknowledged:
            payload = message["payload"]
            view = cast(GraphQLView, self.view)
            try:
                query = view.persisted.resolve(payload.get("query"), payload.get("extensions"),
                                               payload.get("documentId"))
                if query is not None:
                    await view.limit_text(query, payload.get("operationName"), self.context.actor,
                                          self.context.client_address)
            except (DocumentRefused, RateLimited) as refused:
                found = answer(refused, self.context.request_id)
                extensions = found.extensions(self.context.request_id)
                if isinstance(refused, RateLimited):
                    extensions["retryAfter"] = refused.retry_after
                await self._refuse(message["id"], found.message, extensions)
                return
            if query is None:
                await self.handle_invalid_message("A subscribe message needs `query` (or a persisted document's id).")
                return
            message = {**message, "payload": {**payload, "query": query}}
        await super().handle_message(message)

    async def _refuse(self, operation_id: str, text: str, extensions: dict[str, Any]) -> None:
        """An `error` message for one operation: it does not run; the socket stays open."""
        await self.send_message({"id": operation_id, "type": "error",
                                 "payload": [{"message": text, "extensions": extensions}]})


class GraphQLView(GraphQL):
    # Strawberry types the attribute with its own type parameters; TransportWS is that handler with ours.
    graphql_transport_ws_handler_class = TransportWS  # type: ignore[assignment]

    def __init__(self, app_state: AppState, **kwargs: Any) -> None:
        s = app_state.settings
        trusted = load_manifest(s.trusted_documents) if s.trusted_documents else None
        schema = create_schema(max_depth=s.max_query_depth, max_tokens=s.max_query_tokens,
                               max_aliases=s.max_query_aliases, max_cost=s.max_query_cost,
                               max_fields=s.max_query_fields, introspection=s.introspection,
                               cache_size=s.document_cache_size, trusted=(trusted or {}).values())
        self.persisted = PersistedDocuments(cache_size=s.apq_cache_size, trusted=trusted)
        super().__init__(schema, **kwargs)
        self.app_state = app_state
        self.thin = thin_path.ThinPath(self) if s.thin_path else None
        self._ide_html: str | None = None

    async def render_graphql_ide(self, request: Any) -> Response:
        if self._ide_html is None:
            self._ide_html, remote = graphiql.localize(graphiql.with_example(self.graphql_ide_html), graphiql.assets_dir())
            if remote:
                log.warning("GraphiQL: %d files load from the CDN; run `npm ci --prefix web/graphiql` to serve "
                            "them locally", remote)
                self._ide_html = graphiql.needs_cdn(self._ide_html)
        return HTMLResponse(self._ide_html)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        _scope.set(scope)  # for the hooks Strawberry calls with its own request object
        rid = request_id(scope)
        media_type = negotiate(request.headers.get("accept"))
        try:
            try:
                scope["state"]["actor"] = await self.app_state.authenticator.actor(request.headers.get("authorization"))
            except Denied as denied:
                self.app_state.metrics.tokens_refused.labels(denied.reason).inc()
                log.warning("token refused", extra={"fields": {"request_id": rid, "reason": denied.reason}})
                raise
            except Unavailable as unavailable:  # the provider's keys, or the token's member, cannot be read now
                log.error("token not verified: %s", unavailable, extra={"fields": {"request_id": rid}})
                raise
            if scope["state"]["actor"] == Actor():
                await self.limiter.take(self.limiter.buckets(member_id=None, anonymous=True, mutation=False,
                                                             signs_up=False, address=client_address(scope)))
            response = await self._respond(request, scope, media_type)
        except HTTPException as refused:
            status = 415 if refused.reason == "Unsupported content type" else refused.status_code
            # Every 405 says what is allowed: a mutation by GET may be sent by POST; other methods, GET or POST.
            allow = {"allow": "POST" if request.method == "GET" else "GET, POST"} if status == 405 else None
            response = error_response(status, refused.reason, rid, media_type=media_type, headers=allow)
        except Exception as exc:  # noqa: BLE001 - every other failure is answered by the one error table
            found = answer(exc, rid)
            if found.unexpected:
                log.exception("request failed before GraphQL ran (request %s)", rid)
            # Apollo's clients read PERSISTED_QUERY_NOT_FOUND from a 200 under application/json.
            status = 200 if isinstance(exc, PersistedQueryNotFound) and media_type == JSON else found.status
            response = error_response(status, found.message, rid, code=found.code, media_type=media_type,
                                      headers=dict(found.headers))
        await response(scope, receive, send)

    async def _respond(self, request: Request, scope: Scope, media_type: str) -> Response:
        """The thin path for what it handles, else Strawberry's view."""
        if self.thin is not None and thin_path.handles(request):
            answered = await self.thin.respond(request, media_type)
            if answered is not None:
                return answered
            request = Request(scope, thin_path.replay_body(await request.body()))  # a subscription over HTTP
        response: Response = await self.run(request)
        return response

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        """A JSON body must be one object with the GraphQL-over-HTTP fields; a batch (array) is not accepted."""
        content_type, _ = parse_content_type(request.content_type or "")
        if request.method != "POST" or "application/json" not in content_type:
            parsed = await super().parse_http_body(request)
            if isinstance(parsed, GraphQLRequestData):
                parsed.query = self.persisted.resolve(parsed.query, parsed.extensions,
                                                      request.query_params.get("documentId"))
                await self._one_operation(request, parsed.query, parsed.operation_name)
            return parsed
        data = self.parse_json(await request.get_body())
        query, variables, name, extensions = self.request_fields(data)
        query = self.persisted.resolve(query, extensions, data.get("documentId"))
        await self._one_operation(request, query, name)
        return GraphQLRequestData(query=query, variables=variables, operation_name=name, extensions=extensions)

    async def _one_operation(self, request: Any, query: str | None, name: str | None) -> None:
        """As the thin path: a document of several operations runs only the one `operationName` names; by GET,
        only a query runs; a mutation takes its rate limits' tokens."""
        if query is None:
            return
        try:
            document = self.schema.document_policy.parse(query)  # type: ignore[attr-defined]
        except GraphQLError:
            return  # reported by the view as the request's parse error
        operation = thin_path.selected_operation(document, name, request.method)
        scope = _scope.get()
        await self.limit(operation, scope["state"].get("actor", Actor()), client_address(scope))

    async def limit_text(self, query: str, name: Any, actor: Actor, address: str) -> None:
        """`limit` for a document's text (the WebSocket transport)."""
        try:
            document = self.schema.document_policy.parse(query)  # type: ignore[attr-defined]
        except GraphQLError:
            return
        operation = get_operation_ast(document, name if isinstance(name, str) else None)
        if operation is not None:
            await self.limit(operation, actor, address)

    @property
    def limiter(self) -> RateLimiter:
        return self.app_state.limiter

    async def limit(self, operation: OperationDefinitionNode, actor: Actor, address: str) -> None:
        """A mutation takes a token from its member's bucket, and signUp from its address's; RateLimited when
        one is empty."""
        if operation.operation is not OperationType.MUTATION:
            return
        signs_up = any(isinstance(s, FieldNode) and s.name.value == "signUp" for s in operation.selection_set.selections)
        await self.limiter.take(self.limiter.buckets(member_id=actor.member_id, anonymous=False, address=address,
                                                     mutation=True, signs_up=signs_up))

    @staticmethod
    def request_fields(data: Any) -> tuple[str | None, dict[str, Any] | None, str | None, dict[str, Any] | None]:
        """query, variables, operationName and extensions of one JSON request, each of its type or null."""
        if not isinstance(data, dict):
            kind = "a batch (array) of operations" if isinstance(data, list) else f"JSON {type(data).__name__}"
            raise HTTPException(400, f"The request body must be one JSON object with `query`, not {kind}.")
        query, variables, name, extensions = (data.get(k) for k in ("query", "variables", "operationName", "extensions"))
        for key, value, expected in (("query", query, str), ("variables", variables, dict),
                                     ("operationName", name, str), ("extensions", extensions, dict)):
            if value is not None and not isinstance(value, expected):
                raise HTTPException(400, f"`{key}` must be {'a string' if expected is str else 'an object'} or null.")
        return query, variables, name, extensions

    def make_context(self, scope: Any) -> Context:
        state = scope.setdefault("state", {})
        return Context(
            service=self.app_state.service,
            actor=state.get("actor", Actor()),  # a WebSocket's caller is set by on_ws_connect
            request_id=state.get("request_id") or uuid.uuid4().hex,
            token_secret=self.app_state.secret,
            member_token_ttl_seconds=self.app_state.settings.member_token_ttl_seconds,
            metrics=self.app_state.metrics,
            signup_enabled=self.app_state.settings.signup_enabled,
            live=self.app_state.live,
            client_address=client_address(scope),
        )

    async def get_context(self, request: Any, response: Any) -> Context:  # type: ignore[override]
        context = self.make_context(request.scope)
        if isinstance(request, WebSocket):
            return context
        # create_response only sees the sub-response: it carries what content negotiation and the
        # execution decided, so the response can follow the GraphQL-over-HTTP media type rules.
        response.graphql_context = context
        response.graphql_media_type = negotiate(request.headers.get("accept"))
        return context

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:  # type: ignore[override]
        """graphql-transport-ws: the token comes in connection_init's payload; a bad one closes the socket (4403)."""
        params = context.connection_params or {}
        authorization = params.get("Authorization", params.get("authorization"))
        if authorization is not None and not isinstance(authorization, str):
            raise ConnectionRejectionError({"reason": "Authorization must be a string."})
        try:
            context.actor = await self.app_state.authenticator.actor(authorization)
        except (Denied, Unavailable) as refused:
            reason = refused.reason if isinstance(refused, Denied) else "unavailable"
            self.app_state.metrics.tokens_refused.labels(reason).inc()
            log.warning("token refused", extra={"fields": {"request_id": context.request_id, "reason": reason,
                                                           "transport": "websocket"}})
            raise ConnectionRejectionError({"reason": answer(refused, context.request_id).message}) from None
        return None  # acknowledged, with no payload

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        media_type = getattr(sub_response, "graphql_media_type", JSON)
        context = getattr(sub_response, "graphql_context", None)
        status = sub_response.status_code or 200
        if media_type == GRAPHQL_RESPONSE and context is not None and context.request_error:
            # application/graphql-response+json: a request that never executed is a 400 without `data`.
            status = 400
            if isinstance(response_data, dict):
                response_data = {k: v for k, v in response_data.items() if k != "data"}
        response = Response(orjson.dumps(response_data), status_code=status, media_type=media_type)
        response.headers.raw.extend(h for h in sub_response.headers.raw if h[0].lower() != b"content-type")
        if sub_response.background:
            response.background = sub_response.background
        return response

    def encode_json(self, data: object) -> str:
        # Text: the WebSocket sends what this returns, and graphql-transport-ws messages are text frames.
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)  # orjson.JSONDecodeError is a json.JSONDecodeError: Strawberry's 400 still applies

