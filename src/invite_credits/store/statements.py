"""Named queries on one connection, sqlite3's or psycopg's: the Reader of store/protocol.py, for both.

Both drivers run `conn.execute(sql, params)` and hand back a cursor; the one difference between the dialects,
the parameter style, is settled when the queries are loaded (store/queries.py). Each store builds on this:
its inline reader (SQLite's time limit, PostgreSQL's reconnect) and its write transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, Protocol, TypeVar

from .protocol import Row
from .queries import Query


class Connection(Protocol):
    def execute(self, sql: Any, params: Any = ..., /) -> Any: ...


C = TypeVar("C", bound=Connection)


class Statements(Generic[C]):
    def __init__(self, conn: C, queries: Mapping[str, Query]) -> None:
        self.conn = conn
        self._queries = queries

    def one(self, query: str, /, **params: Any) -> Row | None:
        row: Row | None = self.conn.execute(self._queries[query].sql, params).fetchone()
        return row

    def all(self, query: str, /, **params: Any) -> list[Row]:
        return list(self.conn.execute(self._queries[query].sql, params).fetchall())

    def bounded(self, query: str) -> None:
        """Refuse a query marked slow: a reader that must answer quickly runs none (Store.read_slow does)."""
        if self._queries[query].slow:
            raise RuntimeError(f"{query} is marked slow: run it with Store.read_slow")
