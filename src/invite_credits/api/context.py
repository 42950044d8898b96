"""Per-request context: the caller, the service, a request id."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info as StrawberryInfo

from ..domain.access import Actor
from ..domain.errors import Forbidden
from ..events.live import LiveFeed
from ..observability.metrics import Metrics
from ..service import Service
from ..service.views import Member


@dataclass
class Context:
    service: Service
    actor: Actor
    request_id: str
    token_secret: str
    member_token_ttl_seconds: int
    metrics: Metrics | None = None
    # Off when members sign up through an identity provider instead.
    signup_enabled: bool = True
    live: LiveFeed | None = None
    # A WebSocket's connection_init payload (Strawberry sets it), where the token is.
    connection_params: dict[str, Any] | None = None
    # Members this request may read beyond the actor's own: the one signUp just made.
    also_readable: set[int] = field(default_factory=set)
    request_error: bool = False
    # Where the request came from (behind trusted proxies, the address X-Forwarded-For names): rate limits.
    client_address: str = "unknown"
    # The actor's member as their token's session check read it (HTTP): a query's `viewer` shows this row.
    viewer: Member | None = None

    def live_feed(self) -> LiveFeed:
        if self.live is None:
            raise RuntimeError("subscriptions need the app's live feed")
        return self.live

    def mark_request_error(self) -> None:
        self.request_error = True

    def can_read(self, member_id: int) -> bool:
        return self.actor.can_read(member_id) or member_id in self.also_readable

    def require_reader(self, member_id: int) -> None:
        if not self.can_read(member_id):
            raise Forbidden("Only this member and admins may read this.")


Info = StrawberryInfo[Context, None]
