"""The live feed: which members' ledgers changed, from whichever process wrote it, for subscriptions.

One task per process polls the store for entries newer than the last it saw (a primary-key range, a few
microseconds when nothing changed) while anyone is subscribed, and wakes each subscriber of a member whose
ledger moved. Entries are the signal: every change of credits (grant, spend, expiry written by the sweep,
admin adjustment) writes one, whichever process or node wrote it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from .domain.errors import Denied
from .store import ledger
from .store.protocol import Store

log = logging.getLogger("invite_credits.live")


class TooManySubscriptions(Denied):
    code = "TOO_MANY_SUBSCRIPTIONS"


@dataclass
class LiveFeed:
    store: Store
    interval_seconds: float = 0.1
    max_per_member: int = 10
    max_total: int = 1000
    _subscribers: dict[int, set[asyncio.Queue[int]]] = field(default_factory=dict)
    _last_id: int = 0
    _task: asyncio.Task[None] | None = None

    @property
    def count(self) -> int:
        return sum(len(queues) for queues in self._subscribers.values())

    async def start(self) -> None:
        self._last_id = ledger.last_id(self.store.reader)
        self._task = asyncio.create_task(self._poll_forever(), name="invite-credits-live-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @contextlib.asynccontextmanager
    async def subscribe(self, member_id: int) -> AsyncIterator[asyncio.Queue[int]]:
        """A queue that receives the member's newest entry id after each change to their ledger."""
        if self.count >= self.max_total:
            raise TooManySubscriptions(f"This server holds {self.max_total} subscriptions; try again later.")
        queues = self._subscribers.setdefault(member_id, set())
        if len(queues) >= self.max_per_member:
            raise TooManySubscriptions(f"At most {self.max_per_member} subscriptions per member.")
        queue: asyncio.Queue[int] = asyncio.Queue(maxsize=100)
        queues.add(queue)
        try:
            yield queue
        finally:
            queues.discard(queue)
            if not queues:
                self._subscribers.pop(member_id, None)

    async def _poll_forever(self) -> None:
        while True:
            try:
                await self.poll()
            except Exception:
                log.exception("live feed poll failed; retrying")
            await asyncio.sleep(self.interval_seconds)

    async def poll(self) -> None:
        """Wake the subscribers of every member whose ledger moved since the last poll."""
        if not self._subscribers:
            self._last_id = ledger.last_id(self.store.reader)
            return
        if ledger.last_id(self.store.reader) <= self._last_id:
            return
        after = self._last_id
        changed = await self.store.read_slow(lambda r: ledger.changed_since(r, after_id=after))
        if changed:
            self._last_id = max(self._last_id, *changed.values())
        for member_id, newest in changed.items():
            for queue in self._subscribers.get(member_id, ()):
                if queue.full():  # a slow consumer: it only needs to know something changed
                    queue.get_nowait()
                queue.put_nowait(newest)
