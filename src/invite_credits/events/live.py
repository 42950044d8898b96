"""The live feed: which members' ledgers changed, from whichever process wrote it, for subscriptions.

One task per process polls the store while anyone is subscribed: the newest entry id of each subscribed
member (one index probe each), compared with the last it announced; it wakes each subscriber of a member
whose ledger moved. Entries are the signal: every change of credits (grant, spend, expiry written by the
sweep, admin adjustment) writes one, whichever process or node wrote it. A member's entries commit in id
order (each write holds the member), while ids of different members may not (PostgreSQL's sequences): so
the feed compares per member. Where ids commit in order (SQLite's one writer), one look at the newest id of
all skips the poll when nothing changed (a few microseconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from ..domain.errors import Denied
from ..store import ledger
from ..store.protocol import Store

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
    _announced: dict[int, int] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    @property
    def count(self) -> int:
        return sum(len(queues) for queues in self._subscribers.values())

    async def start(self) -> None:
        self._last_id = await self.store.offload(lambda: ledger.last_id(self.store.reader))
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
        self._check_room(member_id)
        if member_id not in self._subscribers:  # what counts as a change from now on
            newest = await self.store.read_slow(lambda r: ledger.newest_of(r, member_ids=[member_id]))
            self._announced.setdefault(member_id, newest.get(member_id, 0))
            self._check_room(member_id)  # others may have subscribed meanwhile
        queues = self._subscribers.setdefault(member_id, set())
        queue: asyncio.Queue[int] = asyncio.Queue(maxsize=100)
        queues.add(queue)
        try:
            yield queue
        finally:
            queues.discard(queue)
            if not queues:
                self._subscribers.pop(member_id, None)
                self._announced.pop(member_id, None)

    def _check_room(self, member_id: int) -> None:
        if self.count >= self.max_total:
            raise TooManySubscriptions(f"This server holds {self.max_total} subscriptions; try again later.")
        if len(self._subscribers.get(member_id, ())) >= self.max_per_member:
            raise TooManySubscriptions(f"At most {self.max_per_member} subscriptions per member.")

    async def _poll_forever(self) -> None:
        while True:
            try:
                await self.poll()
            except Exception:
                log.exception("live feed poll failed; retrying")
            await asyncio.sleep(self.interval_seconds)

    async def poll(self) -> None:
        """Wake the subscribers of every member whose ledger moved since the last poll."""
        if self.store.ids_in_commit_order:
            last = await self.store.offload(lambda: ledger.last_id(self.store.reader))
            if last <= self._last_id or not self._subscribers:
                self._last_id = last
                return
            self._last_id = last
        if not self._subscribers:
            return
        watched = list(self._subscribers)
        newest_ids = await self.store.read_slow(lambda r: ledger.newest_of(r, member_ids=watched))
        for member_id, newest in newest_ids.items():
            if member_id not in self._announced or newest <= self._announced[member_id]:
                continue
            self._announced[member_id] = newest
            for queue in self._subscribers.get(member_id, ()):
                if queue.full():  # a slow consumer: it only needs to know something changed
                    queue.get_nowait()
                queue.put_nowait(newest)
