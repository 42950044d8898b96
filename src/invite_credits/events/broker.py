"""Events to NATS JetStream, at least once, from the outbox: every process publishes what follows the shared
cursor, each event with its ID as Nats-Msg-Id (so JetStream drops a repeat), and advances the cursor once the
broker acknowledged the batch. A broker that goes away stops the cursor, never the service."""

from __future__ import annotations

import asyncio
import logging

import nats
from nats.js import JetStreamContext
from nats.js.errors import BadRequestError, NotFoundError

from ..domain import ids, rules
from ..domain.errors import Unavailable
from ..domain.webhooks import payload
from ..observability.metrics import Metrics
from ..service import Service

log = logging.getLogger("invite_credits.broker")
STREAM = "INVITE_CREDITS"
SUBJECTS = "invite_credits.>"
BATCH = 200


def subject(event_type: str) -> str:
    return f"invite_credits.{event_type.lower()}"


async def ensure_stream(js: JetStreamContext) -> None:
    """The stream the events go to, made when missing (a 2-minute duplicate window: JetStream's default)."""
    try:
        await js.stream_info(STREAM)
    except NotFoundError:
        try:
            await js.add_stream(name=STREAM, subjects=[SUBJECTS])
        except BadRequestError:  # another process made it meanwhile
            await js.stream_info(STREAM)


class BrokerPublisher:
    def __init__(self, service: Service, url: str, metrics: Metrics, interval: float = 0.2) -> None:
        self.service = service
        self.url = url
        self.metrics = metrics
        self.interval = interval

    async def run(self) -> None:
        while True:
            connection = None
            try:
                connection = await nats.connect(self.url, connect_timeout=2, max_reconnect_attempts=-1,
                                                reconnect_time_wait=0.5, allow_reconnect=True)
                js = connection.jetstream(timeout=5)
                await ensure_stream(js)
                while True:
                    if not await self._publish(js):
                        await asyncio.sleep(self.interval)
            except asyncio.CancelledError:
                raise
            except Unavailable as exc:
                log.warning("events wait for the database: %s", exc)
            except Exception as exc:  # noqa: BLE001 - the broker away, a timeout: try again shortly
                log.warning("events not published to %s: %s: %s", self.url, type(exc).__name__, exc)
            finally:
                if connection is not None and not connection.is_closed:
                    await connection.close()
            await asyncio.sleep(1)

    async def _publish(self, js: JetStreamContext) -> int:
        position, views, now = await self.service.offload(lambda: (*self.service.broker_batch(BATCH), self.service.now()))
        self.metrics.outbox_lag.labels("broker").set(max(0, now - views[0].occurred_at) if views else 0)
        if not views:
            return 0
        for view in views:
            body = payload(view.type, rules.iso(view.occurred_at), view.data).encode()
            await js.publish(subject(view.type), body, headers={"Nats-Msg-Id": ids.encode("Event", view.id)})
        await self.service.advance_broker(position, views[-1].position)
        self.metrics.broker_published.inc(len(views))
        return len(views)
