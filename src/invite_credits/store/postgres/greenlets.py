"""psycopg's connections driven from the event loop: each read or write runs as a job in a greenlet of its own,
its statements are psycopg's synchronous code, and each time its connection would block (for the server's
answer, or for room to send), the job hands the wait to the event loop, which serves other requests meanwhile.

Why not threads: a thread per read or write made every statement's wait a hand-over of the GIL, and every
request two thread hops. Under 16 clients a send cost the server about 110 context switches and 3.8 ms of CPU
(bench/RESULTS.md, session 18); as jobs on the loop, about none and 2.5 ms. Why not psycopg's AsyncConnection:
the service's reads and writes are synchronous functions (the same code runs in the process on SQLite), so
awaiting would need two versions of every use case; SQLAlchemy's asyncio support bridges the same way.

A job never blocks the loop on the network: a wait goes to the loop, a connection is made in a thread
(`Connections.take`). A job stopped half-way (its caller's deadline) closes the connection it was using: the
exchange with the server stopped mid-way, and the session cannot be trusted again.

The one private psycopg API used: `Connection.wait(gen, interval, timeout)`, through which every operation of a
connection waits (psycopg 3.2 and 3.3); test_greenlets fails if an upgrade bypasses it.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import select
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any, TypeVar

import greenlet
import psycopg
from psycopg import pq
from psycopg.waiting import Ready, Wait  # the states psycopg's generators yield and expect (its waiting module)

T = TypeVar("T")

_POLL = {Wait.R: select.POLLIN, Wait.W: select.POLLOUT, Wait.RW: select.POLLIN | select.POLLOUT}
_READABLE = select.POLLIN | select.POLLERR | select.POLLHUP


class Job(greenlet.greenlet):
    """A read or write running on the event loop's thread; `reader` makes what its reads use, at the first."""

    def __init__(self, run: Callable[..., Any], reader: Callable[[], Any] | None = None) -> None:
        super().__init__(run)
        self._make_reader = reader
        self._reader: Any = None

    def reader(self) -> Any:
        """What the job's reads use (None for a job that has none: a write's reads go through its transaction)."""
        if self._reader is None and self._make_reader is not None:
            self._reader = self._make_reader()
        return self._reader


def current() -> Job | None:
    """The job running now, or None (the event loop itself, a thread, a command)."""
    here = greenlet.getcurrent()
    return here if isinstance(here, Job) else None


async def run(fn: Callable[[], T], reader: Callable[[], Any] | None = None) -> T:
    """`fn()` as a job: what it hands over (`wait_for`) is awaited here, on the loop, and the answer (or the
    exception, a cancellation included) handed back. It sees the caller's context variables (a request's id)."""
    job = Job(fn, reader)
    job.gr_context = contextvars.copy_context()
    handed = job.switch()
    while not job.dead:
        try:
            answer = await handed
        except BaseException as exc:  # noqa: BLE001 - the job hears every outcome of what it waited for
            handed = job.throw(exc)
        else:
            handed = job.switch(answer)
    return handed  # type: ignore[no-any-return]


def wait_for(awaitable: Awaitable[T]) -> T:
    """Within a job: the awaitable's answer, awaited on the loop (which runs other work meanwhile)."""
    job = current()
    if job is None:
        if inspect.iscoroutine(awaitable):
            awaitable.close()  # never to be awaited: not left to warn
        raise RuntimeError("wait_for outside a job")
    return _loop_side(job).switch(awaitable)  # type: ignore[no-any-return]


def _loop_side(job: Job) -> greenlet.greenlet:
    """Where a job hands its waits: the greenlet of the loop that runs it (`run`)."""
    parent = job.parent
    assert parent is not None, "a running job has its loop's greenlet as parent"
    return parent


def _ready_now(fileno: int, state: int) -> int:
    """What the socket is ready for at once (a zero-timeout poll): nearly always room to send, often an answer."""
    poll = select.poll()
    poll.register(fileno, _POLL[Wait(state)])
    ready = 0
    for _, events in poll.poll(0):
        if events & _READABLE:
            ready |= Ready.R
        if events & select.POLLOUT:
            ready |= Ready.W
    return ready


async def _ready_later(fileno: int, state: int) -> int:
    """What the socket is ready for, once it is: awaited on the loop."""
    loop = asyncio.get_running_loop()
    found: asyncio.Future[int] = loop.create_future()

    def wake(ready: int) -> None:
        if not found.done():
            found.set_result(ready)

    if state & Wait.R:
        loop.add_reader(fileno, wake, Ready.R)
    if state & Wait.W:
        loop.add_writer(fileno, wake, Ready.W)
    try:
        return await found
    finally:
        if state & Wait.R:
            loop.remove_reader(fileno)
        if state & Wait.W:
            loop.remove_writer(fileno)


class LoopConnection(psycopg.Connection[Any]):
    """A psycopg connection whose waits, within a job, go to the event loop; elsewhere it waits as psycopg does."""

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        job = current()
        if job is None or timeout is not None:  # not a job; or a bounded wait (notifies), which the store never uses
            return super().wait(gen, interval=interval, timeout=timeout)
        fileno = self.pgconn.socket
        try:
            state = next(gen)
            while True:
                ready = _ready_now(fileno, state)
                if not ready:
                    try:
                        ready = _loop_side(job).switch(_ready_later(fileno, state))
                    except BaseException:
                        self.close()  # the job was stopped mid-exchange (a deadline): the session is not reused
                        raise
                state = gen.send(ready)
        except StopIteration as done:
            return done.value


class Connections:
    """Connections for jobs: at most `size` in use at once; each made in a thread of its own pool (a connect never
    holds up the loop, and one to a database that does not answer holds none of the loop's default threads, which
    other work uses: a webhook's name lookup) and kept for the next job when it comes back usable."""

    def __init__(self, make: Callable[[], psycopg.Connection[Any]], size: int) -> None:
        self._make = make
        self._connecting = ThreadPoolExecutor(max_workers=size, thread_name_prefix="invite-credits-pg-connect")
        self._slots = asyncio.Semaphore(size)
        self._idle: list[psycopg.Connection[Any]] = []
        self._closing = False

    async def take(self, wait: float | None = None) -> psycopg.Connection[Any]:
        """An idle connection or a new one; TimeoutError when no slot frees within `wait` seconds."""
        conn = await self.slot(wait)
        if conn is not None:
            return conn
        try:
            return await self.made()
        except BaseException:
            self._slots.release()
            raise

    async def made(self) -> psycopg.Connection[Any]:
        """A new connection, made in this pool's threads (for a turn taken with `slot`)."""
        return await in_a_thread(self._make, self._connecting)

    async def slot(self, wait: float | None = None) -> psycopg.Connection[Any] | None:
        """A turn to use a connection, with an idle one when there is one (else None: the job makes its own and
        gives it back); TimeoutError when no turn frees within `wait` seconds."""
        if self._closing:
            raise RuntimeError("database is closing")
        async with asyncio.timeout(wait):
            await self._slots.acquire()
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed and not conn.broken:
                return conn
        return None

    def give(self, conn: psycopg.Connection[Any] | None) -> None:
        """Back from its job (None: it made none): kept when idle and sound, closed otherwise."""
        if conn is not None:
            usable = not (self._closing or conn.closed or conn.broken) and \
                conn.pgconn.transaction_status == pq.TransactionStatus.IDLE
            if usable:
                self._idle.append(conn)
            else:
                conn.close()
        self._slots.release()

    def drop_idle(self) -> None:
        """Close the idle connections (the server restarted: each would fail once before being replaced)."""
        while self._idle:
            self._idle.pop().close()

    async def close(self) -> None:
        """Close the idle connections now and the others as they come back; wait for the connects under way
        (in a thread: a database that does not answer bounds it by the connect timeout), so what they make is
        closed while the loop still runs."""
        self._closing = True
        self.drop_idle()
        await asyncio.get_running_loop().run_in_executor(
            None, functools.partial(self._connecting.shutdown, wait=True, cancel_futures=True))
        await asyncio.sleep(0)  # the callbacks of connects that finished: their connections closed
        self.drop_idle()


async def in_a_thread(make: Callable[[], T], threads: Executor | None = None) -> T:
    """A connection made by `make()` in a thread of `threads` (the loop's default ones when None): its connect
    would hold up the loop. If the caller stops waiting, it is closed when it comes."""
    made = asyncio.get_running_loop().run_in_executor(threads, make)
    try:
        return await asyncio.shield(made)
    except asyncio.CancelledError:
        made.add_done_callback(_close_orphan)
        raise


def _close_orphan(made: asyncio.Future[Any]) -> None:
    if not made.cancelled() and made.exception() is None:
        made.result().close()
