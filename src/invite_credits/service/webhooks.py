"""Webhook endpoints (admin use cases, each audited) and what the delivery worker asks of the store: which
deliveries are due, a lease on some, each one's target, and each attempt's outcome."""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ..domain import ids, rules
from ..domain.access import Actor
from ..domain.errors import FieldChecks, IdempotencyKeyReused, InvalidInput, NotFound
from ..domain.policy import AuditAction
from ..domain.webhooks import Attempt, malformed, next_attempt, payload, private_host
from ..store import events, webhooks
from ..store.protocol import Tx
from ..store.rows import Claimed, Delivery, Endpoint
from .audit import Auditor
from .events import render_all
from .idempotency import UseCases
from .reads import before

LEASE_SECONDS = 25  # longer than an attempt (10 s), so one process at a time holds a delivery


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class Target:
    """Where and what one delivery sends: the URL, the webhook-id, the body and the secrets that sign it."""

    url: str
    msg_id: str
    body: str
    secrets: list[str]


def _shown(endpoint: Endpoint) -> dict[str, object]:
    return {"url": endpoint.url, "eventTypes": endpoint.event_types, "enabled": endpoint.enabled,
            "description": endpoint.description}


class WebhookUseCases(UseCases):
    def _checked(self, url: str | None, event_types: Sequence[str] | None, description: str | None) -> None:
        p = self.policy
        checks = FieldChecks()
        if url is not None:
            if len(url) > p.webhook_url_max_length:
                checks.refusals.append(InvalidInput(f"A URL is at most {p.webhook_url_max_length} characters.", ["url"]))
            elif reason := malformed(url) or (None if p.webhook_allow_private else private_host(url)):
                checks.refusals.append(InvalidInput(f"This URL is refused: {reason}.", ["url"]))
        if event_types is not None and not event_types:
            checks.refusals.append(InvalidInput("Name at least one event type.", ["eventTypes"]))
        if description is not None:
            checks(lambda: rules.require_text(description, ["description"], p.webhook_description_max_length,
                                              required=False))
        checks.done()

    def _require(self, tx: Tx, endpoint_id: int | None) -> Endpoint:
        found = webhooks.by_id(tx, id=endpoint_id) if endpoint_id is not None else None
        if found is None:
            raise NotFound("No such webhook endpoint.", ["endpointId"])
        return found

    async def create_endpoint(self, actor: Actor, url: str, event_types: Sequence[str], description: str | None,
                              key: str | None = None) -> tuple[Endpoint, str]:
        actor.require_admin()
        self._checked(url, event_types, description)
        types = sorted(set(event_types))
        scoped = f"{actor.idempotency_scope}:{key}" if key is not None else None
        auditor = Auditor(actor)

        def run(tx: Tx) -> tuple[Endpoint, str]:
            if scoped is not None and (seen := webhooks.by_key(tx, idempotency_key=scoped)) is not None:
                if (seen.url, seen.event_types, seen.description) != (url, types, description):
                    raise IdempotencyKeyReused("This idempotency key was used for a different request.",
                                               ["idempotencyKey"])
                return seen, seen.secret
            secret = new_secret()
            endpoint_id = webhooks.insert(tx, url=url, event_types=types, description=description, secret=secret,
                                          idempotency_key=scoped)
            endpoint = self._require(tx, endpoint_id)
            auditor.record(tx, AuditAction.WEBHOOK_ENDPOINT_CREATED, None, None,
                           {"endpoint": ids.encode("WebhookEndpoint", endpoint_id), "before": None,
                            "after": _shown(endpoint)})
            return endpoint, secret

        return await self.db.write(run)

    async def update_endpoint(self, actor: Actor, endpoint_id: int | None, url: str | None,
                              event_types: Sequence[str] | None, enabled: bool | None,
                              description: str | None) -> Endpoint:
        actor.require_admin()
        self._checked(url, event_types, description)
        auditor = Auditor(actor)

        def run(tx: Tx) -> Endpoint:
            before = self._require(tx, endpoint_id)
            webhooks.update(tx, id=before.id, url=url if url is not None else before.url,
                            event_types=sorted(set(event_types)) if event_types is not None else before.event_types,
                            enabled=enabled if enabled is not None else before.enabled,
                            description=description if description is not None else before.description)
            after = self._require(tx, before.id)
            auditor.record(tx, AuditAction.WEBHOOK_ENDPOINT_UPDATED, None, None,
                           {"endpoint": ids.encode("WebhookEndpoint", before.id), "before": _shown(before),
                            "after": _shown(after)})
            return after

        return await self.db.write(run)

    async def delete_endpoint(self, actor: Actor, endpoint_id: int | None) -> Endpoint:
        actor.require_admin()
        auditor = Auditor(actor)

        def run(tx: Tx) -> Endpoint:
            before = self._require(tx, endpoint_id)
            webhooks.delete(tx, id=before.id)
            auditor.record(tx, AuditAction.WEBHOOK_ENDPOINT_DELETED, None, None,
                           {"endpoint": ids.encode("WebhookEndpoint", before.id), "before": _shown(before),
                            "after": None})
            return before

        return await self.db.write(run)

    async def rotate_secret(self, actor: Actor, endpoint_id: int | None) -> tuple[Endpoint, str]:
        """A new secret; the old one keeps signing too for `webhook_secret_overlap_seconds` (real time)."""
        actor.require_admin()
        auditor = Auditor(actor)
        secret = new_secret()
        until = int(time.time()) + self.policy.webhook_secret_overlap_seconds

        def run(tx: Tx) -> tuple[Endpoint, str]:
            before = self._require(tx, endpoint_id)
            webhooks.rotate(tx, id=before.id, secret=secret, previous_until=until)
            auditor.record(tx, AuditAction.WEBHOOK_SECRET_ROTATED, None, None,
                           {"endpoint": ids.encode("WebhookEndpoint", before.id), "before": None,
                            "after": {"previousSecretSignsUntil": rules.iso(until)}})
            return self._require(tx, before.id), secret

        return await self.db.write(run)

    async def redeliver(self, actor: Actor, endpoint_id: int | None, event_id: int | None) -> Delivery:
        """A new delivery of the event to the endpoint, attempted at once (whatever its types)."""
        actor.require_admin()
        auditor = Auditor(actor)

        def run(tx: Tx) -> Delivery:
            endpoint = self._require(tx, endpoint_id)
            if event_id is None or events.by_id(tx, id=event_id) is None:
                raise NotFound("No such event (it may have been pruned).", ["eventId"])
            made = webhooks.add_delivery(tx, endpoint_id=endpoint.id, event_id=event_id, now=int(time.time()))
            auditor.record(tx, AuditAction.EVENT_REDELIVERED, None, None,
                           {"endpoint": ids.encode("WebhookEndpoint", endpoint.id),
                            "event": ids.encode("Event", event_id), "delivery": ids.encode("WebhookDelivery", made),
                            "before": None, "after": None})
            found = webhooks.delivery(tx, id=made)
            assert found is not None
            return found

        return await self.db.write(run)

    # -- reads ---------------------------------------------------------------------------------------------
    def endpoint(self, endpoint_id: int) -> Endpoint | None:
        return webhooks.by_id(self.db.reader, id=endpoint_id)

    def endpoints(self, first: int, after: int | None) -> tuple[list[Endpoint], bool]:
        rows = webhooks.page(self.db.reader, after_id=after or 0, limit=first + 1)
        return rows[:first], len(rows) > first

    def deliveries(self, endpoint_id: int, status: str | None, first: int,
                   after: int | None) -> tuple[list[Delivery], bool]:
        rows = webhooks.deliveries(self.db.reader, endpoint_id=endpoint_id, status=status, before_id=before(after),
                                   limit=first + 1)
        return rows[:first], len(rows) > first

    def delivery(self, delivery_id: int) -> Delivery | None:
        return webhooks.delivery(self.db.reader, id=delivery_id)

    # -- the delivery worker's -----------------------------------------------------------------------------
    def deliveries_due(self) -> bool:
        return webhooks.any_due(self.db.reader, now=int(time.time()))

    async def claim_deliveries(self, limit: int) -> tuple[list[Claimed], int]:
        """A lease on up to `limit` due deliveries, for LEASE_SECONDS: (them, the lease's end)."""
        now = int(time.time())
        until = now + LEASE_SECONDS
        return await self.db.write(lambda tx: webhooks.claim(tx, now=now, until=until, limit=limit)), until

    def target(self, claimed: Claimed) -> Target | None:
        """What the delivery sends, and where; None when its endpoint is gone, disabled, or its event pruned."""
        r = self.db.reader
        endpoint = webhooks.by_id(r, id=claimed.endpoint_id)
        found = events.by_id(r, id=claimed.event_id)
        if endpoint is None or not endpoint.enabled or found is None:
            return None
        (view,) = render_all(r, [found])
        keys = [endpoint.secret]
        if endpoint.previous_secret and (endpoint.previous_until or 0) > time.time():
            keys.append(endpoint.previous_secret)
        return Target(endpoint.url, ids.encode("Event", view.id), payload(view.type, rules.iso(view.occurred_at),
                                                                           view.data), keys)

    async def record_attempts(self, outcomes: Sequence[tuple[Claimed, int, Attempt | None]]) -> list[str]:
        """Attempts' outcomes (an attempt None: there was nothing to send to), in one transaction; returns each
        delivery's status after it."""
        now = int(time.time())
        plans = []
        for claimed, until, result in outcomes:
            if result is None:
                status, retry, code = "FAILED", None, None
                error: str | None = "the endpoint is disabled or deleted, or the event pruned"
            elif result.succeeded:
                status, retry, code, error = "SUCCEEDED", None, result.status_code, None
            else:
                retry = next_attempt(claimed.attempts + 1, now)
                status, code, error = ("PENDING" if retry else "FAILED"), result.status_code, result.error
            plans.append((claimed.id, until, status, retry, code, error))

        def run(tx: Tx) -> None:
            for delivery_id, until, status, retry, code, error in plans:
                webhooks.record(tx, id=delivery_id, until=until, status=status, next_attempt_at=retry, at=now,
                                status_code=code, error=error)

        await self.db.write(run)
        return [plan[2] for plan in plans]

    def delivery_lag(self) -> dict[int, int]:
        """endpoint -> seconds since its oldest undelivered event's delivery was made."""
        now = int(time.time())
        return {endpoint: max(0, now - oldest) for endpoint, oldest in webhooks.lag(self.db.reader).items()}
