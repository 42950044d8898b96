"""One webhook attempt: the request the Standard Webhooks specification describes (signed with every secret in
force), sent only to an allowed address, within its timeout."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
from standardwebhooks.webhooks import Webhook

from ..domain.webhooks import Attempt, malformed, private_address, private_host

TIMEOUT_SECONDS = 10.0


async def resolves_private(url: str) -> str | None:
    """Why the endpoint's host may not be reached now: it is, or resolves to, a private address."""
    reason = private_host(url)
    if reason:
        return reason
    host = urlsplit(url).hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"cannot resolve {host}: {exc.strerror or exc}"
    for info in infos:
        found = private_address(str(info[4][0]))
        if found:
            return f"{host} resolves to {found}"
    return None


def signed_headers(msg_id: str, body: str, secrets: list[str], now: datetime | None = None) -> dict[str, str]:
    """webhook-id, webhook-timestamp and webhook-signature (one `v1,` signature per secret, space-separated)."""
    at = now or datetime.now(tz=UTC)
    signatures = " ".join(Webhook(secret).sign(msg_id, at, body) for secret in secrets)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())), "webhook-signature": signatures,
            "content-type": "application/json", "user-agent": "invite-credits-webhooks"}


async def attempt(client: httpx.AsyncClient, url: str, msg_id: str, body: str, secrets: list[str],
                  allow_private: bool) -> Attempt:
    reason = malformed(url) or (None if allow_private else await resolves_private(url))
    if reason:
        return Attempt(None, f"refused: {reason}")
    try:
        response = await client.post(url, content=body.encode(), headers=signed_headers(msg_id, body, secrets),
                                     timeout=TIMEOUT_SECONDS, follow_redirects=False)
    except httpx.TimeoutException:
        return Attempt(None, f"no answer within {TIMEOUT_SECONDS:g} s")
    except httpx.HTTPError as exc:
        return Attempt(None, f"{type(exc).__name__}: {str(exc)[:200] or 'connection failed'}")
    return Attempt(response.status_code, None if 200 <= response.status_code < 300 else
                   f"HTTP {response.status_code}")
