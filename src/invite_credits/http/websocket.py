"""GraphQL over a WebSocket (graphql-transport-ws): Strawberry keeps the protocol (connection_init, ping, the
operations' lifecycle); every operation's results come from the request pipeline, as HTTP's do.

What this module adds to the protocol: a malformed message closes the socket (4400) with its reason and no
traceback; the token comes in connection_init's payload (a bad one closes the socket, 4403); a refusal before
execution (a document the persisted or trusted documents policy refuses, a rate limit, a validation error) is an
`error` message for that operation, with its code, and the socket stays open.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import orjson
from graphql import ExecutionResult, GraphQLError
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from ..api.context import Context
from ..api.errors import answer
from ..api.internals import BaseGraphQLTransportWSHandler, PreExecutionError, StrawberryResult
from ..domain.errors import Denied, RateLimited, Unavailable
from ..pipeline import GraphQLRequest, Pipeline

if TYPE_CHECKING:
    from datetime import timedelta

    from .endpoint import GraphQLEndpoint

log = logging.getLogger("invite_credits.http")
# The subscribe message's request, whole (a persisted document's id and extensions included): set while the
# handler handles the message, and so copied into the operation's task, where `_PipelineSchema.stream` reads it.
_SUBSCRIBE: ContextVar[GraphQLRequest | None] = ContextVar("invite_credits_ws_request", default=None)
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
        if all(payload.get(key) is None for key in ("query", "extensions", "documentId")):
            return "A subscribe message needs `query` (or a persisted document's id)."
    return None


class _PipelineSchema:
    """What the protocol handler asks of a schema (`stream`), answered by the pipeline."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    async def stream(self, query: str | None, variable_values: dict[str, Any] | None = None,
                     context_value: Any = None, root_value: Any = None,
                     operation_name: str | None = None) -> AsyncIterator[StrawberryResult]:
        request = _SUBSCRIBE.get()
        if request is None or request.query != query:
            request = GraphQLRequest(query, variable_values, operation_name)
        return self._results(request, context_value)

    async def _results(self, request: GraphQLRequest, context: Context) -> AsyncIterator[StrawberryResult]:
        first = True
        try:
            async for result in self.pipeline.stream(request, context):
                if first and result.data is None and result.errors and all(e.path is None for e in result.errors):
                    yield PreExecutionError(data=None, errors=result.errors)
                    return
                first = False
                yield _strawberry(result)
        except Exception as exc:  # noqa: BLE001 - a refusal before execution, answered by the error table
            if not first:
                raise
            found = answer(exc, context.request_id)
            if found.unexpected:
                log.exception("subscribe failed before GraphQL ran (request %s)", context.request_id)
            # As HTTP answers a refusal (responses.error_response): the code and the request id.
            extensions: dict[str, Any] = {"code": found.code, "requestId": context.request_id}
            if isinstance(exc, RateLimited):
                extensions["retryAfter"] = exc.retry_after
            yield PreExecutionError(data=None, errors=[GraphQLError(found.message, extensions=extensions)])


def _strawberry(result: ExecutionResult) -> StrawberryResult:
    return StrawberryResult(data=result.data, errors=result.errors, extensions=result.extensions)


class TransportWS(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with each message checked first, and every operation run by the pipeline."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schema = _PipelineSchema(self.view.pipeline)  # type: ignore[assignment, attr-defined]

    async def handle_message(self, message: Any) -> None:
        problem = frame_problem(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        if message["type"] == "connection_init" and message.get("payload") is None:
            message = {**message, "payload": {}}
        request = None
        if message["type"] == "subscribe":
            request = GraphQLRequest.from_json(message["payload"])
            # Strawberry reads `query` from the payload; a persisted document's request may have none.
            message = {**message, "payload": {**message["payload"], "query": request.query}}
        token = _SUBSCRIBE.set(request)
        try:
            await super().handle_message(message)
        finally:
            _SUBSCRIBE.reset(token)


class WebSocketView(GraphQL):
    """Strawberry's ASGI view, for WebSockets only (HTTP is answered by `endpoint.GraphQLEndpoint`)."""

    # Strawberry types the attribute with its own type parameters; TransportWS is that handler with ours.
    graphql_transport_ws_handler_class = TransportWS  # type: ignore[assignment]

    def __init__(self, endpoint: GraphQLEndpoint, init_timeout: timedelta) -> None:
        super().__init__(endpoint.pipeline.strawberry_schema, graphql_ide=None,
                         subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
                         connection_init_wait_timeout=init_timeout)
        self.endpoint = endpoint
        self.pipeline = endpoint.pipeline

    async def get_context(self, request: Any, response: Any) -> Context:  # type: ignore[override]
        return self.endpoint.make_context(request.scope)

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:  # type: ignore[override]
        """The token comes in connection_init's payload; a bad one closes the socket (4403)."""
        params = context.connection_params or {}
        authorization = params.get("Authorization", params.get("authorization"))
        if authorization is not None and not isinstance(authorization, str):
            raise ConnectionRejectionError({"reason": "Authorization must be a string."})
        state = self.endpoint.app_state
        try:
            context.actor = await state.authenticator.actor(authorization)
        except (Denied, Unavailable) as refused:
            reason = refused.reason if isinstance(refused, Denied) else "unavailable"
            state.metrics.tokens_refused.labels(reason).inc()
            log.warning("token refused", extra={"fields": {"request_id": context.request_id, "reason": reason,
                                                           "transport": "websocket"}})
            raise ConnectionRejectionError({"reason": answer(refused, context.request_id).message}) from None
        return None  # acknowledged, with no payload

    def encode_json(self, data: object) -> str:
        # Text: graphql-transport-ws messages are text frames.
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)  # orjson.JSONDecodeError is a json.JSONDecodeError: Strawberry's answer applies
