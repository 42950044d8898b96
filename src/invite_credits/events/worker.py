"""The delivery worker every server process runs: it leases due deliveries (one process at a time per
delivery), attempts each (a slow or failing receiver holds only its own slots), and records the outcomes, many
to a transaction.

Each endpoint gets PER_ENDPOINT HTTP clients of one connection each, lent to one attempt at a time: that is the
endpoint's concurrency, and it keeps httpx's per-request pool bookkeeping to a single connection."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx

from ..domain.errors import Unavailable
from ..domain.webhooks import Attempt
from ..observability.metrics import Metrics
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
        self.clients: dict[int, asyncio.Queue[httpx.AsyncClient]] = {}
        self.outcomes: asyncio.Queue[tuple[Claimed, int, Attempt | None]] = asyncio.Queue()
        self._lag_at = 0.0

    def _pool(self, endpoint_id: int) -> asyncio.Queue[httpx.AsyncClient]:
        pool = self.clients.get(endpoint_id)
        if pool is None:
            pool = self.clients[endpoint_id] = asyncio.Queue()
            for _ in range(PER_ENDPOINT):
                pool.put_nowait(httpx.AsyncClient(limits=httpx.Limits(max_connections=1), trust_env=False))
        return pool

    async def run(self) -> None:
        recorder = asyncio.create_task(self._record_forever())
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
            for task in (*self.tasks, recorder):
                task.cancel()
            await asyncio.gather(*self.tasks, recorder, return_exceptions=True)
            for pool in self.clients.values():
                while not pool.empty():
                    await pool.get_nowait().aclose()

    async def _turn(self) -> None:
        if time.monotonic() - self._lag_at > LAG_EVERY:
            self._lag_at = time.monotonic()
            self.metrics.outbox_lag.clear()
            for endpoint, seconds in (await self.service.offload(self.service.delivery_lag)).items():
                self.metrics.outbox_lag.labels(str(endpoint)).set(seconds)
        room = IN_FLIGHT - len(self.tasks)
        if room <= 0 or not await self.service.offload(self.service.deliveries_due):
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
        pool = self._pool(claimed.endpoint_id)
        client = await pool.get()
        try:
            target = await self.service.offload(lambda: self.service.target(claimed))
            result = None
            if target is not None:
                result = await attempt(client, target.url, target.msg_id, target.body, target.secrets,
                                       self.allow_private)
        finally:
            pool.put_nowait(client)
        await self.outcomes.put((claimed, until, result))

    async def _record_forever(self) -> None:
        """Record outcomes as they come, up to BATCH to a transaction."""
        while True:
            batch = [await self.outcomes.get()]
            while not self.outcomes.empty() and len(batch) < BATCH:
                batch.append(self.outcomes.get_nowait())
            try:
                statuses = await self.service.record_attempts(batch)
            except Unavailable as exc:
                log.warning("webhook outcomes not recorded (their leases will run out and they are tried again): "
                            "%s", exc)
                continue
            for status in statuses:
                outcome = {"SUCCEEDED": "succeeded", "PENDING": "retrying"}.get(status, "failed")
                self.metrics.webhook_deliveries.labels(outcome).inc()
