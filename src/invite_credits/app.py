"""create_app(settings): Starlette routes, lifespan (database, clock, sweep) and the GraphQL view."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL

from . import auth, graphiql
from .api.context import Context
from .api.schema import create_schema
from .domain.errors import AccessDenied
from .observability import Metrics
from .service import Service
from .settings import Settings
from .store.database import Database, Tx, WriteObserver
from .store.migrations import migration_files, schema_version

log = logging.getLogger("invite_credits.app")


class GraphQLView(GraphQL):  # type: ignore[type-arg]
    """Strawberry's ASGI view, with the caller taken from the bearer token before anything runs."""

    def __init__(self, app_state: Any, **kwargs: Any) -> None:
        s = app_state.settings
        schema = create_schema(max_depth=s.max_query_depth, max_tokens=s.max_query_tokens,
                               max_aliases=s.max_query_aliases, max_cost=s.max_query_cost,
                               cache_size=s.document_cache_size)
        super().__init__(schema, **kwargs)
        self.app_state = app_state
        self._ide_html: str | None = None

    async def render_graphql_ide(self, request: Any) -> Response:
        if self._ide_html is None:
            self._ide_html, remote = graphiql.localize(self.graphql_ide_html, graphiql.assets_dir())
            if remote:
                log.warning("GraphiQL: %d files load from the CDN; run `npm ci --prefix web/graphiql` to serve "
                            "them locally", remote)
        return HTMLResponse(self._ide_html)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope)
            request_id = request.headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
            scope.setdefault("state", {})["request_id"] = request_id
            try:
                scope["state"]["actor"] = auth.actor_from_header(self.app_state.secret, request.headers.get("authorization"))
            except AccessDenied as denied:
                body = {"errors": [{"message": denied.message, "extensions": {"code": denied.code}}]}
                response = JSONResponse(body, status_code=401, headers={"www-authenticate": "Bearer"})
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    async def get_context(self, request: Any, response: Any) -> Context:
        state = request.scope.get("state", {})
        context = Context(
            service=self.app_state.service,
            actor=state["actor"],
            request_id=state["request_id"],
            token_secret=self.app_state.secret,
            member_token_ttl_seconds=self.app_state.settings.member_token_ttl_seconds,
            metrics=self.app_state.metrics,
        )
        # create_response only sees the sub-response: it carries what content negotiation and the
        # execution decided, so the response can follow the GraphQL-over-HTTP media type rules.
        response.graphql_context = context
        response.graphql_media_type = negotiate(request.headers.get("accept"))
        return context

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
        response.headers["x-request-id"] = context.request_id if context else ""
        response.headers.raw.extend(h for h in sub_response.headers.raw if h[0].lower() != b"content-type")
        if sub_response.background:
            response.background = sub_response.background
        return response

    def encode_json(self, data: object) -> bytes:  # type: ignore[override]
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)  # orjson.JSONDecodeError is a json.JSONDecodeError: Strawberry's 400 still applies


JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def negotiate(accept: str | None) -> str:
    """The GraphQL-over-HTTP media type when the client lists it before (or instead of) plain JSON."""
    if not accept:
        return JSON
    types = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    if GRAPHQL_RESPONSE in types and (JSON not in types or types.index(GRAPHQL_RESPONSE) < types.index(JSON)):
        return GRAPHQL_RESPONSE
    return JSON


class BodySizeLimit:
    """Refuses a request body over `max_bytes` with 413, whether or not it declares its length."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = {"errors": [{"message": f"Request body is over {self.max_bytes} bytes.",
                            "extensions": {"code": "PAYLOAD_TOO_LARGE"}}]}
        await JSONResponse(body, status_code=413)(scope, receive, send)


class _TooLarge(Exception):
    pass


async def open_service(settings: Settings, observer: WriteObserver | None = None) -> Service:
    db = Database(settings.db_path, test_clock=settings.test_clock, synchronous=settings.synchronous,
                  readers=settings.read_connections, batch_max=settings.write_batch_max, observer=observer)
    await db.open()
    return Service(db)


async def _sweep_forever(service: Service, interval: float, metrics: Metrics) -> None:
    while True:
        try:
            metrics.sweep_lag.set(service.expiry_lag())
            report = await service.sweep()
            metrics.sweep_last.set(time.time())
            if report.lots or report.keys_pruned:
                log.info("sweep: %d lots expired (%d credits), %d idempotency keys pruned",
                         report.lots, report.credits, report.keys_pruned)
        except Exception:
            log.exception("sweep failed; retrying next interval")
        await asyncio.sleep(interval)


def create_app(settings: Settings) -> Starlette:
    class State:
        pass

    state: Any = State()
    state.settings = settings
    state.secret = auth.load_secret(settings)
    state.metrics = Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state.service = await open_service(settings, state.metrics)
        log.info("serving", extra={"fields": {"pid": os.getpid(), "database": str(settings.db_path.resolve()),
                                               "test_clock": settings.test_clock}})
        sweeper = asyncio.create_task(_sweep_forever(state.service, settings.sweep_interval_seconds, state.metrics))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await state.service.db.close()
            log.info("stopped", extra={"fields": {"pid": os.getpid()}})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        """Ready when the database is migrated to this code's schema and takes a write (a real one: a read-only
        file or a full disk is not ready)."""

        def probe(tx: Tx) -> int:
            tx.run("readiness_probe", now=tx.now)
            return schema_version(tx.conn)

        try:
            version = await asyncio.wait_for(state.service.db.write(probe), timeout=5)
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            log.warning("not ready: %s", exc)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        expected = len(migration_files())
        if version != expected:
            return JSONResponse({"status": "unavailable", "schema": version, "expected": expected}, status_code=503)
        return JSONResponse({"status": "ready", "schema": version})

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    graphql = GraphQLView(state, graphql_ide="graphiql" if settings.graphiql else None, allow_queries_via_get=True)
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            Mount(graphiql.MOUNT, StaticFiles(directory=graphiql.assets_dir(), check_dir=False)),
        ],
        lifespan=lifespan,
    )
    app.state.app_state = state
    return BodySizeLimit(app, settings.max_body_bytes)  # type: ignore[return-value]
