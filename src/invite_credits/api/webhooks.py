"""Webhook endpoints, their deliveries, and the admin mutations that manage them."""

from __future__ import annotations

from collections.abc import Coroutine
from enum import StrEnum
from typing import Any

import strawberry

from ..domain import ids
from ..domain.errors import BadUserInput, Refusal
from ..domain.policy import EventType
from ..store.rows import Delivery, Endpoint
from .connections import PageInfo, after_key, check_first, connection, cursor
from .context import Info
from .events import Event
from .payloads import checked, user_errors
from .scalars import DateTime
from .types import Node
from .values import UserError


@strawberry.enum(description="Where a webhook delivery stands.")
class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@strawberry.type(description="One event's delivery to one endpoint: attempted until a 2xx, or FAILED.")
class WebhookDelivery(Node):
    view: strawberry.Private[Delivery]
    id: strawberry.ID = strawberry.field(description="Global ID.")
    status: DeliveryStatus = strawberry.field(description="PENDING (to be attempted), SUCCEEDED or FAILED.")
    attempts: int = strawberry.field(description="Attempts made so far.")
    last_attempt_at: DateTime | None = strawberry.field(description="When the last attempt was made (real time).")
    next_attempt_at: DateTime | None = strawberry.field(description="When the next attempt is due (real time).")
    last_status_code: int | None = strawberry.field(description="The receiver's last HTTP status, if it answered.")
    last_error: str | None = strawberry.field(description="Why the last attempt failed, if it did.")

    @strawberry.field(description="The event delivered.")
    def event(self, info: Info) -> Event:
        found = info.context.service.event(self.view.event_id)
        if found is None:  # retention removes an event with its deliveries: only a read racing it sees this
            raise BadUserInput("This delivery's event was just removed by retention.")
        return Event.of(found)

    @classmethod
    def of(cls, d: Delivery) -> WebhookDelivery:
        return cls(view=d, id=strawberry.ID(ids.encode("WebhookDelivery", d.id)), status=DeliveryStatus(d.status),
                   attempts=d.attempts, last_attempt_at=d.last_attempt_at,  # type: ignore[arg-type]
                   next_attempt_at=d.next_attempt_at, last_status_code=d.last_status_code,  # type: ignore[arg-type]
                   last_error=d.last_error)


@strawberry.type(description="A delivery in a page of deliveries.")
class WebhookDeliveryEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this delivery.")
    node: WebhookDelivery = strawberry.field(description="The delivery.")


@strawberry.type(description="Deliveries, newest first.")
class WebhookDeliveryConnection:
    edges: list[WebhookDeliveryEdge] = strawberry.field(description="This page's deliveries.")
    page_info: PageInfo = strawberry.field(description="Where this page stands.")


@strawberry.type(description="A URL that receives events, signed per the Standard Webhooks specification.")
class WebhookEndpoint(Node):
    view: strawberry.Private[Endpoint]
    id: strawberry.ID = strawberry.field(description="Global ID.")
    url: str = strawberry.field(description="Where deliveries are POSTed.")
    event_types: list[EventType] = strawberry.field(description="The event types it receives.")
    enabled: bool = strawberry.field(description="Deliveries are made only while enabled.")
    description: str | None = strawberry.field(description="The admin's note on what it is for.")
    created_at: DateTime = strawberry.field(description="When it was created.")

    @strawberry.field(description="Its deliveries, newest first; of one status with `status`.")
    def deliveries(self, info: Info, status: DeliveryStatus | None = None, first: int | None = 20,
                   after: str | None = None) -> WebhookDeliveryConnection:
        service = info.context.service
        rows, more = service.deliveries(self.view.id, status.value if status else None, check_first(first, service),
                                        after_key("WebhookDelivery", after))
        return connection(WebhookDeliveryConnection, WebhookDeliveryEdge, rows, more, after,
                          cursor_of=lambda d: cursor("WebhookDelivery", d.id), node_of=WebhookDelivery.of)

    @classmethod
    def of(cls, e: Endpoint) -> WebhookEndpoint:
        return cls(view=e, id=strawberry.ID(ids.encode("WebhookEndpoint", e.id)), url=e.url,
                   event_types=[EventType(t) for t in e.event_types], enabled=e.enabled, description=e.description,
                   created_at=e.created_at)  # type: ignore[arg-type]


@strawberry.type(description="An endpoint in a page of endpoints.")
class WebhookEndpointEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this endpoint.")
    node: WebhookEndpoint = strawberry.field(description="The endpoint.")


@strawberry.type(description="Webhook endpoints, oldest first.")
class WebhookEndpointConnection:
    edges: list[WebhookEndpointEdge] = strawberry.field(description="This page's endpoints.")
    page_info: PageInfo = strawberry.field(description="Where this page stands.")


def endpoint_connection(info: Info, first: int | None, after: str | None) -> WebhookEndpointConnection:
    info.context.actor.require_admin()
    service = info.context.service
    rows, more = service.endpoints(check_first(first, service), after_key("WebhookEndpoint", after))
    return connection(WebhookEndpointConnection, WebhookEndpointEdge, rows, more, after,
                      cursor_of=lambda e: cursor("WebhookEndpoint", e.id), node_of=WebhookEndpoint.of)


# -- inputs and payloads -------------------------------------------------------------------------------------
@strawberry.input(description="A new webhook endpoint.")
class CreateWebhookEndpointInput:
    url: str = strawberry.field(description="http:// or https://; private and loopback addresses are refused unless "
                                            "INVITE_CREDITS_WEBHOOK_ALLOW_PRIVATE=1.")
    event_types: list[EventType] = strawberry.field(description="The event types it receives (at least one).")
    description: str | None = strawberry.field(default=None, description="What it is for, at most 500 characters.")
    idempotency_key: str | None = strawberry.field(default=None, description="Repeat it to retry safely: the first "
                                                                             "answer (and its secret) comes back.")


@strawberry.input(description="Changes to a webhook endpoint; fields left out are unchanged.")
class UpdateWebhookEndpointInput:
    endpoint_id: strawberry.ID = strawberry.field(description="The endpoint.")
    url: str | None = strawberry.field(default=None, description="A new URL.")
    event_types: list[EventType] | None = strawberry.field(default=None, description="The new list of types.")
    enabled: bool | None = strawberry.field(default=None, description="Switch deliveries on or off.")
    description: str | None = strawberry.field(default=None, description="A new description.")


@strawberry.input(description="The endpoint to act on.")
class WebhookEndpointActionInput:
    endpoint_id: strawberry.ID = strawberry.field(description="The endpoint.")


@strawberry.input(description="An event to send again to an endpoint.")
class RedeliverEventInput:
    endpoint_id: strawberry.ID = strawberry.field(description="The endpoint.")
    event_id: strawberry.ID = strawberry.field(description="The event (from the feed).")


@strawberry.type(description="`secret` (whsec_..., the Standard Webhooks form) appears only in this payload, never "
                             "again.")
class WebhookEndpointSecretPayload:
    endpoint: WebhookEndpoint | None = strawberry.field(description="The endpoint.")
    secret: str | None = strawberry.field(description="The signing secret: keep it, it is not shown again.")
    user_errors: list[UserError] = strawberry.field(description="Refusals; empty when the mutation took effect.")


@strawberry.type(description="The endpoint after the change.")
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint | None = strawberry.field(description="The endpoint (as it was, once deleted).")
    user_errors: list[UserError] = strawberry.field(description="Refusals; empty when the mutation took effect.")


@strawberry.type(description="The new delivery, attempted at once.")
class RedeliverEventPayload:
    delivery: WebhookDelivery | None = strawberry.field(description="The new delivery.")
    user_errors: list[UserError] = strawberry.field(description="Refusals; empty when the mutation took effect.")


async def refused(action: Coroutine[Any, Any, Any], input: object) -> tuple[Any, list[UserError]]:
    """The use case's answer, or its refusal as userErrors (control characters refused before it runs)."""
    try:
        return await checked(action, input), []
    except Refusal as refusal:
        return None, user_errors(refusal)
