"""Named queries on a SQLite connection: the bounded reader of the event loop, and a write transaction's view."""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .. import statements
from ..protocol import DatabaseUnavailable, Row, Tx
from ..queries import Query

T = TypeVar("T")

# An inline read (on the event loop) is stopped past this; the progress handler looks every this many steps.
INLINE_READ_SECONDS = 1.0
PROGRESS_STEPS = 1000


class Statements(statements.Statements[sqlite3.Connection]):
    """`all` gives its rows as dicts, as psycopg's `dict_row` gives PostgreSQL's: a gateway that reads every
    column of a page of rows looks each up in a dict, where sqlite3.Row searches its column names (a ledger
    page: 20 rows of 17 columns, bench/RESULTS.md). `one` keeps sqlite3.Row, as cheap as a dict for one row."""

    def all(self, query: str, /, **params: Any) -> list[Row]:
        cursor = self.conn.execute(self._queries[query].sql, params)
        rows = cursor.fetchall()
        if not rows:
            return []
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in rows]


class InlineReader(Statements):
    """Bounded reads on the event loop's own connection: a query marked slow is refused here, and every read has
    a time limit (a progress handler, as Datasette does), so no read, however built, holds the loop for long."""

    def __init__(self, conn: sqlite3.Connection, queries: Mapping[str, Query],
                 time_limit_seconds: float = INLINE_READ_SECONDS) -> None:
        super().__init__(conn, queries)
        self.time_limit = time_limit_seconds
        self._deadline = 0.0
        conn.set_progress_handler(self._past_deadline, PROGRESS_STEPS)

    def _past_deadline(self) -> int:
        return 1 if self._deadline and time.monotonic() > self._deadline else 0

    def one(self, query: str, /, **params: Any) -> Row | None:
        self.bounded(query)
        self._deadline = time.monotonic() + self.time_limit
        try:
            return super().one(query, **params)
        except sqlite3.OperationalError as exc:
            raise self._past_limit(query, exc) from None
        finally:
            self._deadline = 0.0

    def all(self, query: str, /, **params: Any) -> list[Row]:
        self.bounded(query)
        self._deadline = time.monotonic() + self.time_limit
        try:
            return super().all(query, **params)
        except sqlite3.OperationalError as exc:
            raise self._past_limit(query, exc) from None
        finally:
            self._deadline = 0.0

    def _past_limit(self, query: str, exc: sqlite3.OperationalError) -> Exception:
        """What a read that failed answers: DatabaseUnavailable when its time limit interrupted it."""
        if "interrupted" in str(exc):
            return DatabaseUnavailable(f"{query} ran past its time limit of {self.time_limit:g} s")
        return exc


class SqliteTx(Statements):
    """A write transaction's view: named queries, the transaction's time, and a tally of what it moved."""

    def __init__(self, conn: sqlite3.Connection, queries: Mapping[str, Query], now: int) -> None:
        super().__init__(conn, queries)
        self.now = now
        self.moved: Counter[str] = Counter()  # reported only if this write commits
        self.serial = True

    def run(self, query: str, /, **params: Any) -> int:
        """Execute a write; returns the count of rows it changed."""
        return self.conn.execute(self._queries[query].sql, params).rowcount

    def insert(self, query: str, /, **params: Any) -> int:
        """Execute an INSERT of one row; returns its id."""
        cursor = self.conn.execute(self._queries[query].sql, params)
        if cursor.rowcount != 1 or cursor.lastrowid is None:
            raise RuntimeError(f"{query} inserted no row")
        return cursor.lastrowid

    def run_later(self, query: str, /, expect: int | None = None, **params: Any) -> None:
        """`run`, at once (in the process, nothing is saved by waiting), and its count checked."""
        changed = self.run(query, **params)
        if expect is not None and changed != expect:
            raise RuntimeError(f"{query} changed {changed} rows, not {expect}")

    def ahead(self, reads: Callable[[Tx], object]) -> None:
        """Nothing to send together: each read is a call in the process."""
