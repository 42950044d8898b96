"""The SQLite store: one writer thread with group commit; reads inline on the event loop, or on reader
threads when slow.

Every write is a function run in the writer thread inside `BEGIN IMMEDIATE`.
Writes that queue up while a commit is in flight run together in one
transaction, each inside its own SAVEPOINT: a write that fails is rolled back
alone, and every caller is answered only after the shared COMMIT returned
(durable at `synchronous=FULL`). One thread hop per write, one fsync per batch.

A read is an index lookup or a page of at most 101 rows: it takes tens of
microseconds, less than handing it to a thread and back, and a thread hop per
statement also makes the reader wait for the GIL behind busy threads. So reads
run inline on the event loop's own connection. Queries marked `-- slow:` in
their SQL (unbounded scans) go to reader threads instead, each with its own connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import queue
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from ..protocol import Tripwire, WriteObserver
from ..queries import load_queries
from .connection import _test_now, connect, start_clock
from .faults import StorageFaults
from .migrations import migrate, migration_files, schema_version
from .statements import InlineReader, SqliteTx, Statements

T = TypeVar("T")
log = logging.getLogger("invite_credits.store")

@dataclass
class _Job(Generic[T]):
    fn: Callable[[SqliteTx], T]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[T]
    queued_at: float = field(default_factory=time.perf_counter)


@dataclass
class WriterStats:
    batches: int = 0
    jobs: int = 0
    largest_batch: int = 0
    lock_wait_seconds: float = 0.0


class Database:
    """The Store of store/protocol.py on one SQLite file."""

    ids_in_commit_order = True  # one writer at a time, across processes too

    def __init__(
        self,
        path: str | Path,
        *,
        test_clock: bool = False,
        test_start: int | None = None,
        synchronous: str = "FULL",
        readers: int = 4,
        batch_max: int = 128,
        observer: WriteObserver | None = None,
    ) -> None:
        self.path = str(path)
        self.synchronous = synchronous
        self.queries = load_queries()
        self.stats = WriterStats()
        # The test clock lives in the database, so every process on the file serves one time.
        self.test_clock = test_clock
        self._test_start = test_start
        self._reader_count = readers
        self._batch_max = batch_max
        self._jobs: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        self._writer: sqlite3.Connection | None = None
        self._turns: int | None = None
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._pool_connections: list[sqlite3.Connection] = []
        self._inline: InlineReader | None = None
        self._last_now = 0
        self.observer = observer
        self.faults = StorageFaults(str(path), observer)

    # -- lifecycle -------------------------------------------------------------------------------
    async def open(self) -> None:
        self._writer = connect(self.path, self.synchronous)
        # Processes on one file take turns through a blocking lock instead of SQLite's busy handler, which
        # polls with sleeps of up to 100 ms: under two processes' writes that starved one of them for seconds.
        self._turns = os.open(self.path + "-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
        migrate(self._writer)
        start_clock(self._writer, self.queries, self.path, test_clock=self.test_clock, test_start=self._test_start)
        self._thread = threading.Thread(target=self._write_loop, name="invite-credits-writer", daemon=True)
        self._thread.start()
        self._pool = ThreadPoolExecutor(max_workers=self._reader_count, thread_name_prefix="invite-credits-reader")
        self._inline = InlineReader(self._read_connection(), self.queries)

    def _read_connection(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA query_only = ON")
        conn.execute("PRAGMA busy_timeout = 30000")
        return conn

    async def close(self) -> None:
        if self._inline is not None:
            self._inline.conn.close()
            self._inline = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for conn in self._pool_connections:
            conn.close()
        self._pool_connections.clear()
        if self._thread is not None:
            self._jobs.put(None)
            await asyncio.get_running_loop().run_in_executor(None, self._thread.join)
            self._thread = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._turns is not None:
            os.close(self._turns)
            self._turns = None

    async def __aenter__(self) -> Database:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- time ------------------------------------------------------------------------------------
    def now(self) -> int:
        """The service's time for a read: the stored test time, or real time."""
        if not self.test_clock:
            return int(time.time())
        return _test_now(self.reader.conn, self.queries)

    async def set_test_time(self, now: int) -> None:
        """Move the test clock (forward only: the database refuses going back)."""
        if not self.test_clock:
            raise RuntimeError("the test clock is off")
        await self.write(lambda tx: tx.run("test_clock_set", now=now))

    # -- reads -----------------------------------------------------------------------------------
    @property
    def reader(self) -> InlineReader:
        """Bounded reads, run inline on the caller's (the event loop's) connection."""
        if self._inline is None:
            raise RuntimeError("database is not open")
        return self._inline

    # A local file answers in microseconds, and every inline read has a time limit: reads stay on the loop.
    reads_off_loop = False

    async def offload(self, fn: Callable[[], T], kind: str = "read") -> T:
        """Run `fn` here: its reads are inline reads, each bounded by the progress handler."""
        return fn()

    async def offload_async(self, fn: Callable[[], Awaitable[T]], kind: str = "read") -> T:
        return await fn()

    def loop_reads_refused(self) -> contextlib.AbstractContextManager[Tripwire]:
        """A local file's reads are never refused on the loop: an empty wire."""
        return contextlib.nullcontext(Tripwire())

    async def within(self, fn: Callable[[], Awaitable[T]], kind: str = "write") -> T:
        """Await `fn()`: every read and write here is bounded on its own."""
        return await fn()

    async def read_slow(self, fn: Callable[[Statements], T]) -> T:
        """Run `fn` (reads marked slow too) on a reader thread, off the event loop."""
        if self._pool is None:
            raise RuntimeError("database is not open")
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._in_reader_thread, fn)

    def _in_reader_thread(self, fn: Callable[[Statements], T]) -> T:
        statements: Statements | None = getattr(self._local, "statements", None)
        if statements is None:
            conn = self._read_connection()
            self._pool_connections.append(conn)
            statements = self._local.statements = Statements(conn, self.queries)
        return fn(statements)

    async def readiness(self) -> tuple[int, int]:
        """Write the readiness row (proof that the database takes a write); returns (schema, expected schema)."""

        def probe(tx: SqliteTx) -> int:
            tx.run("readiness_probe", now=tx.now)
            return schema_version(tx.conn)

        return await self.write(probe), len(migration_files())

    # -- writes ----------------------------------------------------------------------------------
    async def write(self, fn: Callable[[SqliteTx], T], members: Iterable[int | None] = ()) -> T:
        """Run `fn` in one write transaction (shared with other writes queued at the same moment). `members` needs
        no queue here: the one writer runs writes one at a time."""
        if self._thread is None:
            raise RuntimeError("database is not open")
        loop = asyncio.get_running_loop()
        job: _Job[T] = _Job(fn, loop, loop.create_future())
        self._jobs.put(job)
        return await job.future

    def _write_loop(self) -> None:
        while True:
            first = self._jobs.get()
            if first is None:
                return
            batch: list[_Job[Any]] = [first]
            stop = False
            while len(batch) < self._batch_max:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                batch.append(job)
            self._run_batch(batch)
            if stop:
                return

    def _now(self, conn: sqlite3.Connection) -> int:
        if self.test_clock:
            return _test_now(conn, self.queries)  # inside the transaction: what every process sees
        # The writer's time never goes back, even if the wall clock does (the ledger also keeps each
        # member's entries in time order on its own, for what another process wrote).
        self._last_now = max(self._last_now, int(time.time()))
        return self._last_now

    def _run_batch(self, batch: list[_Job[Any]]) -> None:
        conn = self._writer
        assert conn is not None
        began = time.perf_counter()
        assert self._turns is not None
        fcntl.flock(self._turns, fcntl.LOCK_EX)
        try:
            self._run_locked(conn, batch, began)
        finally:
            fcntl.flock(self._turns, fcntl.LOCK_UN)

    def _run_locked(self, conn: sqlite3.Connection, batch: list[_Job[Any]], began: float) -> None:  # noqa: C901
        outcomes: list[tuple[_Job[Any], Any, BaseException | None]] = []
        moved: Counter[str] = Counter()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            refused = self.faults.classify(exc)
            for job in batch:
                _deliver(job, None, refused)
            return
        locked = time.perf_counter()
        self.stats.lock_wait_seconds += locked - began
        for job in batch:
            conn.execute("SAVEPOINT job")
            tx = SqliteTx(conn, self.queries, self._now(conn))
            try:
                value = job.fn(tx)
            except BaseException as exc:  # noqa: BLE001 - every failure goes back to its own caller
                try:
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                except sqlite3.Error:
                    pass  # the transaction itself is gone (SQLite rolled it back on a full disk): COMMIT says so
                outcomes.append((job, None, self.faults.classify(exc)))
            else:
                conn.execute("RELEASE job")
                outcomes.append((job, value, None))
                moved.update(tx.moved)
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            failure = self.faults.classify(exc)
            if failure is exc:  # not a storage fault: a bug worth its traceback
                log.exception("commit failed; %d writes rolled back", len(batch))
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            outcomes = [(job, None, error or failure) for job, _, error in outcomes]
            moved.clear()
        if self.observer is not None:
            self.observer.committed(moved)
            self.observer.write_lock_waited(locked - began)
            self.observer.batch_committed(len(batch))
            for job in batch:
                self.observer.write_queued(began - job.queued_at)
        self.stats.batches += 1
        self.stats.jobs += len(batch)
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
        for job, value, error in outcomes:
            _deliver(job, value, error)


def _deliver(job: _Job[Any], value: Any, error: BaseException | None) -> None:
    def settle() -> None:
        if job.future.done():  # the caller went away (cancelled request)
            return
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(value)

    try:
        job.loop.call_soon_threadsafe(settle)
    except RuntimeError:  # the loop is closed: nobody is waiting any more
        pass
