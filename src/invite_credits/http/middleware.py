"""ASGI middleware around every route: a request id on every response, the body size limit, CORS."""

from __future__ import annotations

import os
import random
import re

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..domain.access import REQUEST_ID
from .responses import error_response

_CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def client_address(scope: Scope) -> str:
    """The client's address as the server saw it (behind trusted proxies, the one X-Forwarded-For names)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def request_headers(scope: Scope) -> dict[str, str]:
    """The request's headers by (lower-case) name, the first of a repeated one as Starlette's `Headers.get`
    gives it: read once, by Front, for every layer after it."""
    state = scope.setdefault("state", {})
    headers: dict[str, str] | None = state.get("headers")
    if headers is None:
        headers = state["headers"] = {name.decode("latin-1"): value.decode("latin-1")
                                      for name, value in reversed(scope["headers"])}
    return headers


def request_id(scope: Scope) -> str:
    """The request's id, as Front set it."""
    value: str = scope.get("state", {}).get("request_id", "")
    return value


class Front:
    """The outermost ASGI app of every request, as one function: the request id (the client's `x-request-id`
    when it is a short plain token, else a new one) on every response, whatever answers (the GraphQL endpoint,
    a refusal, a 413, a 404); then the body checks: over `max_bytes` is 413, whether the request declares its
    length or comes in chunks, and a `Content-Encoding` the service does not decode is 415. A chunked body is
    read here, up to the limit, and handed on whole (the endpoint reads it whole anyway).

    GraphQL over HTTP then goes straight to its endpoint, which puts the id on its answers itself; every other
    request (the other routes, WebSockets, the lifespan) to Starlette's own stack. One layer instead of
    Starlette's five on the path every query takes (bench/RESULTS.md)."""

    def __init__(self, app: ASGIApp, graphql: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.graphql = graphql
        self.max_bytes = max_bytes
        # Request ids: 128 random bits from a generator seeded once per app from the system's randomness (unique
        # without a system call per request, and no count of this process's requests shown to clients).
        self._ids = random.Random(os.urandom(32))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = request_headers(scope)
        given = headers.get("x-request-id", "")
        rid = given if given and _CLIENT_ID.fullmatch(given) else f"{self._ids.getrandbits(128):032x}"
        scope["state"]["request_id"] = rid
        REQUEST_ID.set(rid)
        header = (b"x-request-id", rid.encode("latin-1"))

        async def with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent = message.get("headers") or []
                if not any(name.lower() == b"x-request-id" for name, _ in sent):
                    message["headers"] = [*sent, header]
            await send(message)

        # The GraphQL endpoint stamps the id on each of its answers itself (one wrapper less on its sends).
        target, forward = (self.graphql, send) if scope["path"] == "/graphql" else (self.app, with_id)
        encoding = headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            await self._refuse(scope, receive, with_id, 415, "UNSUPPORTED_MEDIA_TYPE",
                               f"Content-Encoding {encoding!r} is not accepted: send the body uncompressed.")
            return
        declared = headers.get("content-length")
        if declared is not None:
            if not (declared.isascii() and declared.isdigit()) or int(declared) > self.max_bytes:
                await self._too_large(scope, receive, with_id)
                return
            await target(scope, receive, forward)  # the server holds the client to its declared length
            return
        if scope.get("method") in ("GET", "HEAD"):
            await target(scope, receive, forward)
            return
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                await self._too_large(scope, receive, with_id)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await target(scope, _replay(b"".join(chunks), receive), forward)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._refuse(scope, receive, send, 413, "PAYLOAD_TOO_LARGE",
                           f"Request body is over {self.max_bytes} bytes (the limit).")

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str) -> None:
        await error_response(status, message, request_id(scope), code=code)(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands on a body already read, then the client's own messages (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class Cors(CORSMiddleware):
    """Starlette's CORS with an exact allowlist (INVITE_CREDITS_CORS_ORIGINS): the methods and headers the API
    uses, never `*`, no credentials (tokens travel in `Authorization`, not cookies). A preflight from an origin
    not listed gets 403 and no CORS header at all."""

    def __init__(self, app: ASGIApp, origins: tuple[str, ...]) -> None:
        super().__init__(app, allow_origins=list(origins), allow_methods=["GET", "POST"],
                         allow_headers=["authorization", "content-type", "accept", "x-request-id"],
                         expose_headers=["x-request-id", "retry-after"], max_age=600)

    def preflight_response(self, request_headers: Headers) -> Response:
        if not self.is_allowed_origin(request_headers["origin"]):
            return PlainTextResponse("This origin may not call the API (INVITE_CREDITS_CORS_ORIGINS).", status_code=403)
        return super().preflight_response(request_headers)

    async def simple_response(self, scope: Scope, receive: Receive, send: Send, request_headers: Headers) -> None:
        origin = request_headers.get("origin")
        if origin is None or not self.is_allowed_origin(origin):
            await self.app(scope, receive, send)  # no CORS header: the browser keeps the answer from the page
            return
        await super().simple_response(scope, receive, send, request_headers)
