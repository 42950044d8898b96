"""create_app(settings): Starlette routes, lifespan (database, clock, sweep) and the GraphQL view."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from . import auth
from .api.context import Context
from .api.schema import create_schema
from .clock import Clock
from .domain.errors import AccessDenied
from .service import Service
from .settings import Settings
from .store.database import Database, connect

log = logging.getLogger("invite_credits.app")


class GraphQLView(GraphQL):  # type: ignore[type-arg]
    """Strawberry's ASGI view, with the caller taken from the bearer token before anything runs."""

    def __init__(self, app_state: Any, **kwargs: Any) -> None:
        super().__init__(create_schema(), **kwargs)
        self.app_state = app_state

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
        return Context(
            service=self.app_state.service,
            actor=state["actor"],
            request_id=state["request_id"],
            token_secret=self.app_state.secret,
            member_token_ttl_seconds=self.app_state.settings.member_token_ttl_seconds,
        )

    def encode_json(self, data: object) -> bytes:  # type: ignore[override]
        return orjson.dumps(data)


def load_clock(settings: Settings) -> Clock:
    """Real time, or the test clock resumed at the later of its stored time and real time (and stored again)."""
    if not settings.test_clock:
        return Clock()
    conn = connect(settings.db_path, settings.synchronous)
    try:
        from .store.migrations import migrate
        from .store.queries import load_queries

        migrate(conn)
        q = load_queries()
        row = conn.execute(q["test_clock_get"]).fetchone()
        now = max(int(time.time()), row["now"] if row else 0)
        conn.execute(q["test_clock_set"], {"now": now})
    finally:
        conn.close()
    return Clock(test_now=now)


async def open_service(settings: Settings) -> Service:
    clock = load_clock(settings)
    db = Database(settings.db_path, clock=clock.now, synchronous=settings.synchronous,
                  readers=settings.read_connections, batch_max=settings.write_batch_max)
    await db.open()
    return Service(db, clock, test_clock_enabled=settings.test_clock)


async def _sweep_forever(service: Service, interval: float) -> None:
    while True:
        try:
            report = await service.sweep()
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

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state.service = await open_service(settings)
        sweeper = asyncio.create_task(_sweep_forever(state.service, settings.sweep_interval_seconds))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await state.service.db.close()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    graphql = GraphQLView(state, graphql_ide="graphiql" if settings.graphiql else None, allow_queries_via_get=True)
    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.app_state = state
    return app
