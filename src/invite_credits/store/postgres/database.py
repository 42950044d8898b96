"""The PostgreSQL store: every write is one transaction, every read a job of its own, each on a connection of its
kind, run from the event loop without ever blocking it (store/postgres/greenlets.py).

Concurrency across processes is the database's: a write locks the members it touches (`members_lock`,
`SELECT ... FOR UPDATE` in id order) before it reads them, the ledger's chain is guarded by each member's
head row (see sql/postgres/migrations), and a write that lost a race (serialization failure, deadlock, or a
unique key another transaction took first) is run again from the start, when it sees the winner's commit
and answers as it would have on SQLite (EMAIL_TAKEN, INVITATION_ALREADY_PENDING, the first answer of an
idempotency key...).

A read over the network can take as long as the server or the network makes it: waited for on the event loop,
one stalled read would stall every request of the process, /healthz included. So the service hands its reads (a
whole GraphQL operation's execution, a token's session check, the live feed's poll) to `offload`, which runs
them as a job whose waits go to the loop, and answers DatabaseUnavailable past a deadline (the job is stopped
and its connection closed); each connection is bounded by statement_timeout (the server's) and keepalives and
TCP_USER_TIMEOUT (the client's). Queries marked slow run on a pool's connections in threads (`read_slow`), and a
payload that must read while completing (`offload_async`) on a reader thread with its own event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import psycopg
from psycopg import errors
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from ..protocol import DatabaseUnavailable, StoreError, Tripwire, WriteObserver, loop_reads_refused, refuse_loop_read
from ..queries import load_queries
from . import greenlets
from .connection import (
    CONNECT_TIMEOUT_SECONDS,
    NETWORK_BOUNDS,
    PgConnection,
    connect,
    first_line,
    migrate,
    migration_files,
    redacted,
    schema_version,
    start_clock,
    test_now,
)
from .reads import InlineReader, PgStatements, ReaderThreads, on_a_loop, reader_connection, within_deadline
from .tx import PgTx

T = TypeVar("T")
log = logging.getLogger("invite_credits.store")

# What a write retries: it lost a race, and running it again from the start sees the winner's commit.
RETRYABLE = (errors.SerializationFailure, errors.DeadlockDetected, errors.UniqueViolation)
MAX_ATTEMPTS = 8
# A write waits for a member's lock at most this long before it is reported.
WRITER_OPTIONS = "-c lock_timeout=10000"
# A write waits this long for a pooled connection (all busy, or none can be made: the server is away).
POOL_WAIT_SECONDS = 5.0


class _Queue:
    """One member's writes in this process: the lock they take in turn, and how many hold or wait for it."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class Database:
    """The Store of store/protocol.py on a PostgreSQL database shared by any number of processes."""

    ids_in_commit_order = False  # ids come from sequences: a lower id may commit after a higher one

    def __init__(self, url: str, *, test_clock: bool = False, test_start: int | None = None, connections: int = 8,
                 observer: WriteObserver | None = None) -> None:
        self.url = url
        self.queries = load_queries("postgres")
        self.test_clock = test_clock
        self._test_start = test_start
        self._size = connections
        self.observer = observer
        self._queues: dict[int, _Queue] = {}  # per member: its writes in flight in this process
        self._pool: ConnectionPool[PgConnection] | None = None  # slow reads' connections, used in threads
        self._writers: greenlets.Connections | None = None  # writes' connections, used by jobs on the loop
        self._job_readers: greenlets.Connections | None = None  # reads' connections, likewise
        self._threads: ThreadPoolExecutor | None = None
        self._inline: InlineReader | None = None
        self._readers: ReaderThreads | None = None
        self._home: asyncio.AbstractEventLoop | None = None  # the server's loop, where writes queue per member
        self.loop_reads = 0  # reads that waited on an event loop, outside a job (tests hold it at 0 for HTTP requests)
        self._last_now = 0
        self._now_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"postgres.Database({redacted(self.url)!r})"

    # -- lifecycle -------------------------------------------------------------------------------
    async def open(self) -> None:
        conn = connect(self.url)
        try:
            migrate(conn)
            start_clock(conn, self.queries, self.url, test_clock=self.test_clock, test_start=self._test_start)
        finally:
            conn.close()
        self._pool = ConnectionPool(
            self.url, min_size=1, max_size=self._size, open=False, name="invite-credits", timeout=POOL_WAIT_SECONDS,
            kwargs={"autocommit": True, "row_factory": dict_row, "application_name": "invite-credits slow reads",
                    "options": WRITER_OPTIONS, "connect_timeout": CONNECT_TIMEOUT_SECONDS, **NETWORK_BOUNDS},
        )
        self._writers = greenlets.Connections(
            lambda: connect(self.url, options=WRITER_OPTIONS, cls=greenlets.LoopConnection), self._size)
        self._job_readers = greenlets.Connections(
            lambda: reader_connection(self.url, greenlets.LoopConnection), self._size)
        self._pool.open(wait=True, timeout=30)
        self._threads = ThreadPoolExecutor(max_workers=self._size, thread_name_prefix="invite-credits-pg")
        self._readers = ReaderThreads(self.url, self.queries, self._size, self.observer)
        self._inline = InlineReader(self.url, self.queries)
        self._home = asyncio.get_running_loop()

    async def close(self) -> None:
        for connections in (self._writers, self._job_readers):
            if connections is not None:
                await connections.close()
        if self._readers is not None:
            self._readers.close()
            self._readers = None
        if self._threads is not None:
            self._threads.shutdown(wait=True)
            self._threads = None
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._inline is not None:
            self._inline.conn.close()
            self._inline = None

    async def __aenter__(self) -> Database:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- time ------------------------------------------------------------------------------------
    def now(self) -> int:
        """The service's time for a read: the stored test time (shared by every process), or real time."""
        if not self.test_clock:
            return int(time.time())
        row = self.reader.one("test_clock_get")
        if row is None:
            raise RuntimeError("the test clock has no stored time")
        return int(row["now"])

    async def set_test_time(self, now: int) -> None:
        if not self.test_clock:
            raise RuntimeError("the test clock is off")
        await self.write(lambda tx: tx.run("test_clock_set", now=now))

    def _tx_now(self, conn: PgConnection) -> int:
        if self.test_clock:
            return test_now(conn, self.queries)
        # This process's time never goes back; another machine's clock behind or ahead is met per member by
        # the ledger (a member's entry is never dated before their last one).
        with self._now_lock:
            self._last_now = max(self._last_now, int(time.time()))
            return self._last_now

    # -- reads -----------------------------------------------------------------------------------
    @property
    def reader(self) -> InlineReader:
        """A read job's connection, or a reader thread's; elsewhere (a command, a test) the store's own, counted when
        an event loop runs on the thread: such a read holds the loop up for its round trip."""
        job = greenlets.current()
        if job is not None and (reader := job.reader()) is not None:
            assert isinstance(reader, InlineReader)
            return reader
        here = self._readers.here() if self._readers is not None else None
        if here is not None:
            return here
        if on_a_loop():
            refuse_loop_read()
            self.loop_reads += 1
        return self._own_reader()

    def _own_reader(self) -> InlineReader:
        if self._inline is None:
            raise RuntimeError("database is not open")
        return self._inline

    reads_off_loop = True

    async def offload(self, fn: Callable[[], T], kind: str = "read") -> T:
        """Run `fn`, whose reads use `reader`, as a job on the server's loop, within the deadline of its kind."""
        if self._readers is None or self._job_readers is None:
            raise RuntimeError("database is not open")
        if self._readers.on_a_reader_thread():  # a payload completed there (`offload_async`) reads in place
            return fn()
        if self._home is not None and asyncio.get_running_loop() is not self._home:
            return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self.offload(fn, kind), self._home))
        return await within_deadline(self._read_job(fn, self._job_readers), kind, self.url, self.observer)

    async def _read_job(self, fn: Callable[[], T], readers: greenlets.Connections) -> T:
        idle = await readers.slot()
        made: list[InlineReader] = []

        def reader() -> InlineReader:
            """At the job's first read: a connection that cannot be made fails that read (a resolver's field
            error), as a reader thread's does."""
            def connection() -> PgConnection:
                return greenlets.wait_for(readers.made())

            made.append(InlineReader(self.url, self.queries, idle if idle is not None else connection(),
                                     reconnect=connection))
            return made[0]

        try:
            return await greenlets.run(fn, reader)
        finally:
            readers.give(made[0].conn if made else idle)

    async def offload_async(self, fn: Callable[[], Awaitable[T]], kind: str = "read") -> T:
        """`offload` for work that awaits (a mutation's resolvers await their writes): on the reader thread's own
        event loop, its writes going back to the server's loop (`write`)."""
        if self._readers is None:
            raise RuntimeError("database is not open")
        return await self._readers.run_async(fn, kind)

    def loop_reads_refused(self) -> contextlib.AbstractContextManager[Tripwire]:
        """Within it, a read on the event loop is refused (store/protocol.py): see `reader`."""
        return loop_reads_refused()

    async def within(self, fn: Callable[[], Awaitable[T]], kind: str = "write") -> T:
        """Await `fn()` here, on the caller's loop, within the deadline of its kind: a mutation's execution, whose
        writes queue per member on this loop holding no thread (`write`)."""
        return await within_deadline(fn(), kind, self.url, self.observer)

    async def read_slow(self, fn: Callable[[PgStatements], T]) -> T:
        """Run `fn` (reads marked slow too) on a pooled connection in a thread, off the event loop."""
        return await self._in_thread(self._read, fn)

    def _read(self, fn: Callable[[PgStatements], T]) -> T:
        assert self._pool is not None
        with self._pool.connection() as conn:
            return fn(PgStatements(conn, self.queries))

    async def readiness(self) -> tuple[int, int]:
        """Write the readiness row (a standby that cannot take writes is not ready); (schema, this code's)."""

        def probe(tx: PgTx) -> int:
            tx.run("readiness_probe", now=tx.now)
            return schema_version(tx.conn)

        return await self.write(probe), len(migration_files())

    # -- writes ----------------------------------------------------------------------------------
    async def write(self, fn: Callable[[PgTx], T], members: Iterable[int | None] = ()) -> T:
        """Run `fn` in one transaction; run it again from the start when it lost a race. At most one write of a
        member named in `members` waits on the database at a time: the others wait here, in id order, holding no
        thread and no connection, so a member whose row is locked elsewhere cannot take every connection."""
        if self._home is not None and asyncio.get_running_loop() is not self._home:
            # From a reader thread's loop (a command or a test may write from one): the member queues are the
            # server's loop's.
            return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self.write(fn, members), self._home))
        taken: list[int] = []
        try:
            for member in sorted({m for m in members if m is not None}):
                await self._take_turn(member)
                taken.append(member)
        except BaseException:
            self._end_turns(taken)
            raise
        if self._writers is None:
            self._end_turns(taken)
            raise RuntimeError("database is not open")
        job = asyncio.ensure_future(greenlets.run(lambda: self._write(fn)))
        # The members' turns end when the write does, even when its caller stopped waiting (a deadline): a write
        # that goes on in its thread still holds the database's locks, and the next may not join it there.
        job.add_done_callback(lambda done: self._end_turns(taken, done))
        return await asyncio.shield(job)

    async def _take_turn(self, member: int) -> None:
        queue = self._queues.setdefault(member, _Queue())
        queue.users += 1
        try:
            await queue.lock.acquire()
        except BaseException:
            self._leave(member, queue)
            raise

    def _end_turns(self, members: list[int], done: asyncio.Future[Any] | None = None) -> None:
        if done is not None and not done.cancelled():
            done.exception()  # retrieved: a caller that stopped waiting does not leave it unread
        for member in members:
            queue = self._queues[member]
            queue.lock.release()
            self._leave(member, queue)

    def _leave(self, member: int, queue: _Queue) -> None:
        queue.users -= 1
        if queue.users == 0:
            del self._queues[member]  # the table holds only members with writes in flight

    async def _in_thread(self, job: Callable[[Callable[[Any], T]], T], fn: Callable[[Any], T]) -> T:
        if self._threads is None:
            raise RuntimeError("database is not open")
        return await asyncio.get_running_loop().run_in_executor(self._threads, job, fn)

    @contextlib.contextmanager
    def _writer(self) -> Iterator[PgConnection]:
        """Within a write's job: a connection for it, waited for at most POOL_WAIT_SECONDS (all busy, or none can
        be made: the server is away), then DatabaseUnavailable."""
        assert self._writers is not None
        try:
            conn = greenlets.wait_for(self._writers.take(POOL_WAIT_SECONDS))
        except (TimeoutError, StoreError) as exc:
            self._retried("connection")
            reason = str(exc) if isinstance(exc, StoreError) else f"no connection within {POOL_WAIT_SECONDS:g} s"
            raise DatabaseUnavailable(f"database {redacted(self.url)}: {reason}") from None
        try:
            yield conn
        finally:
            self._writers.give(conn)

    def _write(self, fn: Callable[[PgTx], T]) -> T:
        """The write's job: one transaction, run again from the start when it lost a race."""
        assert self._writers is not None
        queued = time.perf_counter()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            committing = False
            try:
                with self._writer() as conn:
                    if attempt == 1 and self.observer is not None:
                        self.observer.write_queued(time.perf_counter() - queued)
                    with conn.pipeline() as pipeline, conn.transaction():
                        tx = PgTx(conn, self.queries, self._tx_now(conn), pipeline)
                        value = fn(tx)
                        tx.settle()
                        committing = True
            except RETRYABLE as exc:
                self._retried(type(exc).__name__)
                if attempt == MAX_ATTEMPTS:
                    log.error("a write lost %d races in a row; giving up: %s", attempt, exc)
                    raise
                # Let the winner finish; no lockstep retries.
                greenlets.wait_for(asyncio.sleep(random.uniform(0, 0.002 * attempt)))
                continue
            except (errors.LockNotAvailable, errors.QueryCanceled) as exc:
                # A member's lock held past lock_timeout (10 s), or a statement cut off: the connection is fine
                # and retrying would only wait as long again, so the caller hears it now, at the bound.
                kind = "lock_timeout" if isinstance(exc, errors.LockNotAvailable) else "statement_timeout"
                if self.observer is not None:
                    self.observer.storage_fault(kind)
                log.warning("a write gave up: %s", kind.replace("_", " "), extra={"fields": {"fault": kind}})
                raise DatabaseUnavailable(f"database {redacted(self.url)}: {first_line(exc)}") from None
            except psycopg.OperationalError as exc:
                # A connection the server dropped (a restart, a failover, an idle timeout): before COMMIT nothing
                # was kept, so the write runs again on a new connection. During COMMIT the outcome is unknown:
                # the caller hears so, and a retry with the same idempotency key gets the first answer.
                self._retried("connection")
                if committing or attempt >= 3:
                    raise DatabaseUnavailable(f"database {redacted(self.url)}: {first_line(exc)}") from None
                self._writers.drop_idle()  # a server restart drops every connection: all are made anew
                continue
            if self.observer is not None:
                self.observer.committed(tx.moved)
                self.observer.batch_committed(1)
                self.observer.write_round_trips(tx.round_trips + 1)  # and the commit's
            return value
        raise AssertionError("unreachable")

    def _retried(self, reason: str) -> None:
        if self.observer is not None:
            self.observer.retried(reason)
