"""The store boundary: what the service needs from a database, whichever one it is.

Gateways (store/members.py, lots.py, ...) are functions that take a Reader or a Tx and named parameters and
return typed rows (store/rows.py). The service calls them; it never sees SQL or a driver's row.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

from ..domain.errors import Unavailable

T = TypeVar("T")
Row = Mapping[str, Any]


class StoreError(Unavailable):
    """The database cannot be served as it is; the message says what to do, in one line, for an operator (a
    client hears SERVICE_UNAVAILABLE, with the request id, never the message)."""


class DatabaseUnavailable(StoreError):
    """A running server lost its database for a moment; a client's retry may succeed."""


class Tripwire:
    """Whether a read was refused on the event loop while `loop_reads_refused` held."""

    tripped = False


class LoopReadRefused(Exception):  # noqa: N818 - what happened, not an error of the caller's
    """A read that would have waited on a network from the event loop, while its caller had asked for none there
    (`loop_reads_refused`): the caller does its work again where reads may wait."""


_REFUSING: ContextVar[Tripwire | None] = ContextVar("invite_credits_loop_reads_refused", default=None)


@contextlib.contextmanager
def loop_reads_refused() -> Iterator[Tripwire]:
    """Within it, a store whose reads wait on a network (PostgreSQL) refuses one on the event loop, raising
    LoopReadRefused and tripping the wire, rather than holding the loop up for its round trip."""
    wire = Tripwire()
    token = _REFUSING.set(wire)
    try:
        yield wire
    finally:
        _REFUSING.reset(token)


def refuse_loop_read() -> None:
    """Called by a store about to read on the event loop: raises LoopReadRefused within `loop_reads_refused`."""
    wire = _REFUSING.get()
    if wire is not None:
        wire.tripped = True
        raise LoopReadRefused


class Reader(Protocol):
    """Runs named read queries."""

    def one(self, query: str, /, **params: Any) -> Row | None: ...
    def all(self, query: str, /, **params: Any) -> list[Row]: ...


class Tx(Reader, Protocol):
    """One write transaction: named queries, the transaction's time, and a tally of the credits it moved."""

    now: int
    moved: Counter[str]
    # True when this store runs writes one at a time (SQLite's one writer): what a write reads cannot change
    # under it, so it takes no locks. False (PostgreSQL): a write locks the members it touches.
    serial: bool

    def run(self, query: str, /, **params: Any) -> int: ...
    def insert(self, query: str, /, **params: Any) -> int: ...
    def run_later(self, query: str, /, expect: int | None = None, **params: Any) -> None:
        """A write whose count the caller does not need now: a networked store sends it with the next statement
        that needs an answer. `expect`: how many rows it must change, checked before the commit (the
        transaction fails otherwise)."""
    def ahead(self, reads: Callable[[Tx], object]) -> None:
        """The reads `reads` makes are the ones the caller makes next: a networked store sends them together
        (store/ahead.py). Declare only reads that the writes between here and the read do not change."""


class WriteObserver(Protocol):
    """What a store reports about its writes, after the fact (metrics)."""

    def committed(self, moved: Mapping[str, int]) -> None: ...
    def write_lock_waited(self, seconds: float) -> None: ...
    def write_queued(self, seconds: float) -> None: ...
    def batch_committed(self, size: int) -> None: ...
    def write_round_trips(self, count: int) -> None:
        """A committed write waited for a networked database this many times, its commit included."""
    def retried(self, reason: str) -> None: ...
    def storage_fault(self, kind: str) -> None: ...


class Store(Protocol):
    """What the service needs: the service's time, bounded reads, slow reads off the event loop, and writes
    that each run in one transaction."""

    test_clock: bool
    # True when entries become visible in id order (one writer); False when a lower id may commit later.
    ids_in_commit_order: bool

    # True when a read may wait on a network (PostgreSQL): the service runs its reads through `offload`, off
    # the event loop. False (SQLite): reads are local, bounded, and run inline.
    reads_off_loop: bool

    @property
    def reader(self) -> Reader: ...
    def offload(self, fn: Callable[[], T], kind: str = "read") -> Awaitable[T]:
        """Run `fn`, whose reads use `reader`, where they cannot hold the event loop up, within the deadline of
        its kind ("read", or "write" for a mutation's whole execution); past it, DatabaseUnavailable."""
    def offload_async(self, fn: Callable[[], Awaitable[T]], kind: str = "read") -> Awaitable[T]:
        """`offload` for work that awaits."""
    def loop_reads_refused(self) -> contextlib.AbstractContextManager[Tripwire]:
        """Within it, a read that would wait on a network from the event loop is refused (`loop_reads_refused`
        below); a local store's reads never are."""
    def within(self, fn: Callable[[], Awaitable[T]], kind: str = "write") -> Awaitable[T]:
        """Await `fn()` on the caller's loop within the deadline of its kind (a mutation's execution, whose writes
        queue per member there, holding no thread); past it, DatabaseUnavailable."""
    def now(self) -> int: ...
    def read_slow(self, fn: Callable[[Reader], T]) -> Awaitable[T]: ...
    def write(self, fn: Callable[[Tx], T], members: Iterable[int | None] = ()) -> Awaitable[T]:
        """Run `fn` in one write transaction. `members`: those it is known to lock, so a store whose writes
        wait on row locks lets one write a member wait on the database and queues the others in the process."""
    def set_test_time(self, now: int) -> Awaitable[None]: ...
    def readiness(self) -> Awaitable[tuple[int, int]]:
        """Write the readiness row (proof that the database takes a write); (schema, this code's schema)."""
    def close(self) -> Awaitable[None]: ...
