"""Reads declared ahead: what lets a networked store answer a write's reads in one round trip.

A use case names the reads it is about to make (`Tx.ahead`), by calling the same gateways on a `Recorder`:
it answers every read with no rows and keeps the query and its parameters. PostgreSQL sends them all at once
(psycopg's pipeline mode) and answers the same reads from those results, each at most once; SQLite, in the
process, ignores the declaration. A read declared ahead must be one the writes made before it do not change:
it is answered as the database stood when it was declared.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable
from typing import Any

from .protocol import Row, Tx

Key = tuple[str, Hashable]


def key(query: str, params: dict[str, Any]) -> Key | None:
    """The read's identity (query and parameters), or None when a parameter cannot be compared."""
    try:
        frozen = tuple(sorted(params.items()))
        hash(frozen)
    except TypeError:
        return None
    return query, frozen


class Recorder:
    """A Tx that records the reads made on it, answering each with no rows; a write on it is a mistake."""

    serial = False  # the reads of a store that locks: members.lock records its statement

    def __init__(self, now: int) -> None:
        self.now = now
        self.moved: Counter[str] = Counter()
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def one(self, query: str, /, **params: Any) -> Row | None:
        self.calls.append((query, params))
        return None

    def all(self, query: str, /, **params: Any) -> list[Row]:
        self.calls.append((query, params))
        return []

    def run(self, query: str, /, **params: Any) -> int:
        raise TypeError(f"{query}: a write cannot be declared ahead")

    def insert(self, query: str, /, **params: Any) -> int:
        return self.run(query, **params)

    def run_later(self, query: str, /, expect: int | None = None, **params: Any) -> None:
        self.run(query, **params)

    def ahead(self, reads: Callable[[Tx], object]) -> None:
        raise TypeError("reads ahead cannot be nested")


def drawn(id: int | None, what: str) -> int:
    """An id drawn ahead for an insert (`<table>_next_id`); there is always one."""
    if id is None:
        raise RuntimeError(f"no {what} id was drawn")
    return id


def recorded(now: int, reads: Callable[[Tx], object]) -> list[tuple[str, dict[str, Any]]]:
    """The reads `reads` makes, in order."""
    recorder = Recorder(now)
    reads(recorder)
    return recorder.calls
