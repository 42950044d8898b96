"""The HTTP floor: the same server stack (Starlette on uvicorn) answering constant JSON, no GraphQL, no SQL."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = b'{"data":{"viewer":{"balance":{"available":15}}}}'


async def constant(request: Request) -> Response:
    await request.body()
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route("/graphql", constant, methods=["POST"])])
