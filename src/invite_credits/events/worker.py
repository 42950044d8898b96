"""The delivery worker every server process runs: it leases due deliveries (one process at a time per
delivery), attempts each (a slow or failing receiver holds only its own slots), and records the outcome."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict

import httpx

from ..domain.errors import Unavailable
from ..observability import Metrics
from ..service import Service
from ..store.rows import Claimed
from .delivery import attempt

log = logging.getLogger("invite_credits.webhooks")
BATCH = 100
IN_FLIGHT = 256  # attempts under way in this process, at most
PER_ENDPOINT = 16  # of them to one endpoint, at most: a slow receiver delays no other
LAG_EVERY = 5.0


class DeliveryWorker:
    def __init__(self, service: Service, metrics: Metrics, *, allow_private: bool, interval: float = 0.25) -> None:
        self.service = service
        self.metrics = metrics
        self.allow_private = allow_private
        self.interval = interval
        self.tasks: set[asyncio.Task[None]] = set()
        self.slots: defaultdict[int, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(PER_ENDPOINT))
        self.client = httpx.AsyncClient(limits=httpx.Limits(max_connections=IN_FLIGHT), trust_env=False)
        self._lag_at = 0.0

    async def run(self) -> None:
        try:
            while True:
                try:
                    await self._turn()
                except Unavailable as exc:
                    log.warning("webhook deliveries wait: %s", exc)
                    await asyncio.sleep(1)
                except Exception:
                    log.exception("webhook worker turn failed; trying again")
                    await asyncio.sleep(1)
        finally:
            for task in self.tasks:
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
            await self.client.aclose()

    async def _turn(self) -> None:
        if time.monotonic() - self._lag_at > LAG_EVERY:
            self._lag_at = time.monotonic()
            self.metrics.outbox_lag.clear()
            for endpoint, seconds in self.service.delivery_lag().items():
                self.metrics.outbox_lag.labels(str(endpoint)).set(seconds)
        room = IN_FLIGHT - len(self.tasks)
        if room <= 0 or not self.service.deliveries_due():
            await asyncio.sleep(self.interval)
            return
        claimed, until = await self.service.claim_deliveries(min(BATCH, room))
        for one in claimed:
            task = asyncio.create_task(self._deliver(one, until))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        if len(claimed) < BATCH:
            await asyncio.sleep(self.interval)

    async def _deliver(self, claimed: Claimed, until: int) -> None:
        async with self.slots[claimed.endpoint_id]:
            target = self.service.target(claimed)
            result = None
            if target is not None:
                result = await attempt(self.client, target.url, target.msg_id, target.body, target.secrets,
                                       self.allow_private)
            with contextlib.suppress(Unavailable):
                status = await self.service.record_attempt(claimed, until, result)
                outcome = {"SUCCEEDED": "succeeded", "PENDING": "retrying"}.get(status, "failed")
                self.metrics.webhook_deliveries.labels(outcome).inc()
