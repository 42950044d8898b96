"""Reads and writes on PostgreSQL as jobs on the event loop (store/postgres/greenlets.py): a job's waits go to the
loop, which keeps serving meanwhile; a job stopped half-way leaves no connection behind in an unknown state;
connections are bounded, made in a thread, and reused only when sound."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from invite_credits.store.postgres import greenlets
from invite_credits.store.postgres.reads import reader_connection

from . import pg

pytestmark = pytest.mark.anyio
REQUEST = contextvars.ContextVar("request", default="none")


@pytest.fixture
def url() -> Iterator[str]:
    pg.require_server()
    with pg.fresh_database() as fresh:
        yield fresh


def _connections(url: str, size: int = 2) -> greenlets.Connections:
    return greenlets.Connections(lambda: reader_connection(url, greenlets.LoopConnection), size)


def test_psycopg_still_waits_where_the_jobs_take_over() -> None:
    """The private API the jobs lean on: every wait of a connection goes through `Connection.wait(gen, interval,
    timeout)`. If this fails after a psycopg upgrade, store/postgres/greenlets.py must follow the new one."""
    assert list(inspect.signature(psycopg.Connection.wait).parameters) == ["self", "gen", "interval", "timeout"], \
        "psycopg.Connection.wait changed: see store/postgres/greenlets.py"


async def test_a_job_waiting_for_the_server_leaves_the_loop_serving(url: str) -> None:
    """Two reads of 0.3 s each, as jobs at once, take 0.3 s, not 0.6; a timer on the loop ticks all along; the jobs
    see the caller's context variables."""
    connections = _connections(url)
    ticks: list[float] = []

    async def tick() -> None:
        while True:
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.01)

    async def slow_read() -> tuple[str, str]:
        conn = await connections.take()
        try:
            def read() -> tuple[str, str]:
                row = conn.execute("SELECT pg_sleep(0.3)::text AS slept").fetchone()
                assert row is not None
                return row["slept"], REQUEST.get()
            return await greenlets.run(read)
        finally:
            connections.give(conn)

    REQUEST.set("request-1")
    ticker = asyncio.create_task(tick())
    started = time.perf_counter()
    try:
        answers = await asyncio.gather(slow_read(), slow_read())
    finally:
        ticker.cancel()
        await connections.close()
    took = time.perf_counter() - started
    assert list(answers) == [("", "request-1")] * 2
    assert took < 0.55, f"the reads waited one after the other ({took:.2f} s): psycopg's waits held the loop"
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert len(ticks) >= 10 and max(gaps) < 0.25, f"the loop was held up {max(gaps):.2f} s"  # a read holds it 0.3 s


async def test_a_job_stopped_mid_statement_closes_its_connection_and_the_next_gets_a_new_one(url: str) -> None:
    connections = _connections(url, size=1)
    conn = await connections.take()
    try:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await greenlets.run(lambda: conn.execute("SELECT pg_sleep(5)"))
        assert conn.closed, "a connection stopped mid-exchange is not used again"
    finally:
        connections.give(conn)
    again = await connections.take()
    try:
        assert again is not conn
        row = await greenlets.run(lambda: again.execute("SELECT 1 AS one").fetchone())
        assert row == {"one": 1}
    finally:
        connections.give(again)
        await connections.close()


async def test_connections_are_bounded_and_only_sound_ones_are_kept(url: str) -> None:
    """...and made in threads of their own (one to a database that does not answer ties up none of the loop's
    default threads)."""
    threads: list[str] = []

    def make() -> psycopg.Connection[Any]:
        threads.append(threading.current_thread().name)
        return reader_connection(url, greenlets.LoopConnection)

    connections = greenlets.Connections(make, 2)
    first, second = await connections.take(), await connections.take()
    assert len(threads) == 2 and all(name.startswith("invite-credits-pg-connect") for name in threads), threads
    with pytest.raises(TimeoutError):
        await connections.take(wait=0.05)  # both in use
    second.close()
    connections.give(second)  # closed: dropped, its slot free
    third = await connections.take(wait=1)
    assert third is not second and not third.closed
    await greenlets.run(lambda: third.execute("BEGIN"))
    connections.give(third)  # inside a transaction: not kept for another job
    assert third.closed
    connections.give(first)
    assert await connections.take() is first  # idle and sound: kept
    connections.give(first)
    await connections.close()
    assert first.closed
    with pytest.raises(RuntimeError, match="closing"):
        await connections.take()


async def test_a_connection_whose_taker_stopped_waiting_is_closed_when_it_comes(url: str) -> None:
    made: list[psycopg.Connection[Any]] = []

    def slow_connect() -> psycopg.Connection[Any]:
        time.sleep(0.3)
        made.append(reader_connection(url))
        return made[-1]

    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await greenlets.in_a_thread(slow_connect)
    for _ in range(100):
        await asyncio.sleep(0.02)
        if made and made[0].closed:
            break
    assert made and made[0].closed


def test_a_connection_outside_a_job_waits_as_psycopg_does(url: str) -> None:
    """A command or a migration uses the same class off the loop: it blocks as a psycopg connection would."""
    conn = reader_connection(url, greenlets.LoopConnection)
    try:
        assert greenlets.current() is None
        assert conn.execute("SELECT 2 AS two").fetchone() == {"two": 2}
        with pytest.raises(RuntimeError, match="outside a job"):
            greenlets.wait_for(asyncio.sleep(0))
    finally:
        conn.close()
