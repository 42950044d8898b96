"""create_app(settings): Starlette routes, the lifespan (database, clock, sweep, delivery worker, broker) and
the GraphQL endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from .. import auth
from ..api import export
from ..api.errors import answer
from ..api.scalars import parse as parse_datetime
from ..domain import ids
from ..domain.access import Actor
from ..domain.errors import BadUserInput, InviteCreditsError, NotFound
from ..domain.policy import Policy
from ..events.broker import BrokerPublisher
from ..events.live import LiveFeed
from ..events.worker import DeliveryWorker
from ..observability.metrics import Metrics
from ..pipeline.ratelimits import RateLimiter
from ..service import Service
from ..settings import Settings
from ..store.databases import Backend, backend
from ..store.protocol import WriteObserver
from . import graphiql
from .endpoint import GraphQLEndpoint
from .middleware import Cors, Front, request_id
from .responses import error_response

log = logging.getLogger("invite_credits.app")


async def open_service(settings: Settings, observer: WriteObserver | None = None,
                       database: Backend | None = None) -> Service:
    policy = Policy(expiry_notice_days=settings.expiry_notice_days, event_retention_days=settings.event_retention_days,
                    webhook_allow_private=settings.webhook_allow_private)
    return Service(await (database or backend(settings)).open(observer), policy)


async def _sweep_forever(service: Service, interval: float, metrics: Metrics) -> None:
    while True:
        try:
            metrics.sweep_lag.set(await service.offload(service.expiry_lag))
            report = await service.sweep()
            metrics.sweep_last.set(time.time())
            if report.lots or report.keys_pruned:
                log.info("sweep: %d lots expired (%d credits), %d idempotency keys pruned",
                         report.lots, report.credits, report.keys_pruned)
        except Exception:
            log.exception("sweep failed; retrying next interval")
        await asyncio.sleep(interval)


@dataclass
class AppState:
    """What one app holds for its requests; the service and the authenticator exist while the lifespan runs."""

    settings: Settings
    secret: str
    metrics: Metrics
    limiter: RateLimiter
    _service: Service | None = None
    _authenticator: auth.Authenticator | None = None
    live: LiveFeed | None = None

    @property
    def service(self) -> Service:
        if self._service is None:
            raise RuntimeError("the app is not started (its lifespan has not run)")
        return self._service

    @property
    def authenticator(self) -> auth.Authenticator:
        if self._authenticator is None:
            raise RuntimeError("the app is not started (its lifespan has not run)")
        return self._authenticator


def export_target(actor: Actor, member_id: str | None, service: Service) -> int:
    """Whose ledger an export is: the signed-in member's, or (admins) memberId's; a member may name only
    themself."""
    if member_id is None:
        if actor.is_admin and actor.member_id is None:
            raise BadUserInput("An admin names the member: ?memberId=<ID>.")
        return actor.require_member()
    target = ids.member_id(member_id)
    if target is None or not actor.can_read(target):
        if not actor.is_admin:
            actor.require_admin()  # UNAUTHENTICATED when anonymous, FORBIDDEN for another member
        raise NotFound("No such member.", ["memberId"])
    if service.member(target) is None:
        raise NotFound("No such member.", ["memberId"])
    return target


class _App(Starlette):
    """Starlette with `front` (CORS, then http/middleware.py's Front) outside its own middleware: the routes,
    the lifespan and `app.state` are Starlette's; a GraphQL request over HTTP passes Front alone."""

    def __init__(self, front: Callable[[ASGIApp], ASGIApp], **options: Any) -> None:
        self._front = front
        super().__init__(**options)

    def build_middleware_stack(self) -> ASGIApp:
        return self._front(super().build_middleware_stack())


def create_app(settings: Settings) -> Starlette:
    registry = Metrics()
    database = backend(settings)
    state = AppState(settings=settings, secret=auth.load_secret(settings), metrics=registry,
                     limiter=RateLimiter(settings, registry, database.describe()))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state._service = service = await open_service(settings, state.metrics, database)
        state._authenticator = auth.Authenticator(state.secret, settings, service)
        state.live = LiveFeed(service.db, max_per_member=settings.subscriptions_per_member,
                              max_total=settings.subscriptions_per_process)
        await state.live.start()
        # What startup made (the schema, the queries, the service) lives as long as the process: moved out of the
        # collector's reach, a full collection walks only what requests made since (tens of ms less a pause).
        gc.freeze()
        log.info("serving", extra={"fields": {"pid": os.getpid(), "database": database.describe(),
                                               "test_clock": settings.test_clock}})
        sweeper = asyncio.create_task(_sweep_forever(service, settings.sweep_interval_seconds, state.metrics))
        tasks = [sweeper, asyncio.create_task(DeliveryWorker(service, state.metrics,
                                                             allow_private=settings.webhook_allow_private).run())]
        if settings.nats_url:
            tasks.append(asyncio.create_task(BrokerPublisher(service, settings.nats_url, state.metrics).run()))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await state.live.stop()
            await state.limiter.close()
            await service.db.close()
            state._service = state._authenticator = None
            log.info("stopped", extra={"fields": {"pid": os.getpid()}})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        """Ready when the database is migrated to this code's schema and takes a write (a real one: a read-only
        file or a full disk is not ready)."""

        try:
            async with asyncio.timeout(5):  # not wait_for: on 3.11 it can swallow a cancellation
                version, expected = await state.service.db.readiness()
        except TimeoutError:
            log.warning("not ready: the database did not take the readiness write within 5 s")
            return JSONResponse({"status": "unavailable", "reason": "timeout"}, status_code=503)
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            log.warning("not ready: %s: %s", type(exc).__name__, str(exc).strip() or "(no message)")
            return JSONResponse({"status": "unavailable"}, status_code=503)
        if version != expected:
            return JSONResponse({"status": "unavailable", "schema": version, "expected": expected}, status_code=503)
        return JSONResponse({"status": "ready", "schema": version})

    async def ledger_csv(request: Request) -> Response:
        """The member's ledger as CSV (RFC 4180), oldest entry first, streamed a page at a time."""
        rid = request_id(request.scope)
        try:
            actor = await state.authenticator.actor(request.headers.get("authorization"))
            target = await state.service.offload(
                lambda: export_target(actor, request.query_params.get("memberId"), state.service))
            since_text = request.query_params.get("since")
            try:
                since = parse_datetime(since_text) if since_text is not None else 0
            except ValueError as exc:
                raise BadUserInput(f"since: {exc}") from None
        except InviteCreditsError as exc:
            if isinstance(exc, NotFound):
                return error_response(404, exc.message, rid, code="NOT_FOUND")
            found = answer(exc, rid)
            return error_response(found.status, found.message, rid, code=found.code, headers=dict(found.headers))
        name = f"ledger-{ids.encode('Member', target)}.csv"
        return StreamingResponse(export.lines(state.service.export(target, since), "csv"),
                                 media_type="text/csv; charset=utf-8",
                                 headers={"content-disposition": f'attachment; filename="{name}"',
                                          "cache-control": "no-store"})

    async def metrics(request: Request) -> Response:
        return Response(state.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    graphql = GraphQLEndpoint(state)

    def front(stack: ASGIApp) -> ASGIApp:
        app: ASGIApp = Front(stack, graphql, settings.max_body_bytes)
        return Cors(app, settings.cors_origins) if settings.cors_origins else app

    # Every method reaches the view, so a PUT is answered 405 in GraphQL's shape, not as plain text.
    app = _App(
        front,
        routes=[
            Route("/graphql", graphql),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            Route("/ledger.csv", ledger_csv, methods=["GET"]),
            Mount(graphiql.MOUNT, StaticFiles(directory=graphiql.assets_dir(), check_dir=False)),
        ],
        lifespan=lifespan,
    )
    app.state.app_state = state
    return app
