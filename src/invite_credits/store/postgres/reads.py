"""Reads on PostgreSQL: named queries on a connection, the reader that reconnects once, and the reader threads for
the reads whose code awaits (a query whose resolvers are coroutines, a payload or a subscription event that reads);
every other read runs as a job on the event loop (greenlets.py). Neither waits on the loop: a stalled database would
stall every request.

Each reader thread opens its own connection on first use, bounded by statement_timeout (the server's) and the
network bounds of connection.py (the client's); `ReaderThreads.run` gives up on a job past its deadline and
answers DatabaseUnavailable, while the thread finishes on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import psycopg

from ..protocol import DatabaseUnavailable, Row, StoreError, WriteObserver
from ..queries import Query
from ..statements import Statements
from .connection import PgConnection, connect, first_line, redacted

T = TypeVar("T")
log = logging.getLogger("invite_credits.store")

# A read that hangs (a lock, a server in trouble) is cut off by the server.
READER_OPTIONS = "-c statement_timeout=5000"
# What a caller of `ReaderThreads.run` waits at most, reads and writes: past it, SERVICE_UNAVAILABLE (a write may
# still commit: a retry with the same idempotency key gets its answer).
DEADLINES = {"read": 6.0, "write": 15.0}


PgStatements = Statements[PgConnection]


def reader_connection(url: str, cls: type[PgConnection] = psycopg.Connection) -> PgConnection:
    return connect(url, application_name="invite-credits reader", options=READER_OPTIONS, cls=cls)


class InlineReader(PgStatements):
    """Bounded reads on one connection; reconnects once when the server dropped it (a restart, a failover), so
    one broken connection costs one retry, not every later request. `conn`: the connection to start with (else one
    is made); `reconnect`: how a new one is made (a job's reader makes it without holding up the loop)."""

    def __init__(self, url: str, queries: Mapping[str, Query], conn: PgConnection | None = None,
                 reconnect: Callable[[], PgConnection] | None = None) -> None:
        self.url = url
        self._reconnect = reconnect or (lambda: reader_connection(url))
        super().__init__(conn if conn is not None else self._reconnect(), queries)

    def one(self, query: str, /, **params: Any) -> Row | None:
        self.bounded(query)
        return self._again(lambda: super(InlineReader, self).one(query, **params))

    def all(self, query: str, /, **params: Any) -> list[Row]:
        self.bounded(query)
        return self._again(lambda: super(InlineReader, self).all(query, **params))

    def _again(self, read: Callable[[], T]) -> T:
        try:
            return read()
        except psycopg.OperationalError as exc:
            if not self.conn.closed and not self.conn.broken:  # a read cut off by statement_timeout
                raise DatabaseUnavailable(f"database {redacted(self.url)}: {first_line(exc)}") from None
        self.conn.close()
        try:
            self.conn = self._reconnect()
            return read()
        except (StoreError, psycopg.OperationalError) as exc:
            raise DatabaseUnavailable(f"database {redacted(self.url)}: {first_line(exc)}") from None


class ReaderThreads:
    """The process's reader threads, each with its own connection (and, for work that awaits, its own event
    loop), and the deadline of each job."""

    def __init__(self, url: str, queries: Mapping[str, Query], size: int, observer: WriteObserver | None) -> None:
        self.url = url
        self.queries = queries
        self.observer = observer
        self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="invite-credits-pg-read")
        self._local = threading.local()
        self._readers: list[InlineReader] = []
        self._loops: list[asyncio.AbstractEventLoop] = []

    def on_a_reader_thread(self) -> bool:
        return bool(getattr(self._local, "active", False))

    def here(self) -> InlineReader | None:
        """This thread's reader, when this is a reader thread; its connection is made at its first read, so a
        database that cannot be reached fails that read (a resolver's field error), as an inline read does."""
        if not self.on_a_reader_thread():
            return None
        reader: InlineReader | None = getattr(self._local, "reader", None)
        if reader is None:
            reader = self._local.reader = InlineReader(self.url, self.queries)
            self._readers.append(reader)
        return reader

    async def run(self, fn: Callable[[], T], kind: str) -> T:
        """`fn` on a reader thread (at once when this is one); DatabaseUnavailable past the deadline of its kind."""
        if self.on_a_reader_thread():
            return fn()
        context = contextvars.copy_context()  # the request id an audit record names, and the like
        job = asyncio.get_running_loop().run_in_executor(self._pool, self._on_thread, context, fn)
        return await within_deadline(job, kind, self.url, self.observer)

    async def run_async(self, fn: Callable[[], Awaitable[T]], kind: str) -> T:
        """`run` for work that awaits: on the reader thread's own event loop (already there: awaited in place)."""
        if self.on_a_reader_thread():
            return await fn()
        return await self.run(lambda: self._loop().run_until_complete(fn()), kind)

    def _loop(self) -> asyncio.AbstractEventLoop:
        loop: asyncio.AbstractEventLoop | None = getattr(self._local, "loop", None)
        if loop is None:
            loop = self._local.loop = asyncio.new_event_loop()
            self._loops.append(loop)
        return loop

    def _on_thread(self, context: contextvars.Context, fn: Callable[[], T]) -> T:
        self._local.active = True
        return context.run(fn)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        for reader in self._readers:
            reader.conn.close()
        for loop in self._loops:
            loop.close()


async def within_deadline(work: Awaitable[T], kind: str, url: str, observer: WriteObserver | None) -> T:
    """`work`'s answer, or DatabaseUnavailable past the deadline of its kind (counted and logged as a fault)."""
    try:
        # Not asyncio.wait_for: on 3.11 it can swallow a cancellation that meets the work's end, and a cancelled
        # task (a server stopping) would run on.
        async with asyncio.timeout(DEADLINES[kind]):
            return await work
    except TimeoutError:
        if observer is not None:
            observer.storage_fault(f"{kind}_deadline")
        log.warning("a %s gave up: no answer within %g s", kind, DEADLINES[kind],
                    extra={"fields": {"fault": f"{kind}_deadline"}})
        raise DatabaseUnavailable(f"database {redacted(url)}: no answer within {DEADLINES[kind]:g} s") from None


def on_a_loop() -> bool:
    """Whether an event loop runs on this thread (a read here would hold it up)."""
    with contextlib.suppress(RuntimeError):
        asyncio.get_running_loop()
        return True
    return False
