"""A write transaction on PostgreSQL, in psycopg's pipeline mode: statements go out as they are made, and the
client waits for the server only when the code needs an answer.

So a write costs a round trip per answer it waits for, not per statement:
- BEGIN leaves with the first statement, and COMMIT with the last;
- a write whose count is not needed now (`run_later`) leaves with the next statement that needs an answer,
  its expected count checked when its result is in, or before the commit;
- the reads a use case declares ahead (`ahead`, store/ahead.py) leave together and are answered from their
  results; a write drops those of them that read a table it writes, itself or through a trigger (so a read
  declared ahead is never answered with what a write of the transaction since changed);
- a read made again (a payload's snapshot reads the members its write read first) is answered from the first
  one's rows, unless a write of the transaction changed a table it reads since, as above: within a write, the
  members it reads are locked, so the database would answer the same;
- a statement whose rows are whole rows of a by-id read (`-- answers:` in its SQL: the members lock returns the
  members it locks, an insert returns what it wrote) answers that read from them, under the same rule; reads a
  lock answers are not sent ahead beside it.

An error of a statement that went out earlier surfaces at the next answer, as the same exception; the
transaction is rolled back whole, as it would be had the statement been waited for.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any, cast

import psycopg

from ..ahead import Key, key, recorded
from ..protocol import Row, Tx
from ..queries import Query
from .connection import PgConnection, trigger_writes
from .reads import PgStatements

Cursor = psycopg.Cursor[dict[str, Any]]


@cache
def _changes(written: frozenset[str]) -> frozenset[str]:
    """The tables a write to `written` changes: those, and those their triggers write."""
    triggered = trigger_writes()
    return written.union(*(triggered.get(table, ()) for table in written))


class PgTx(PgStatements):
    """A write transaction's view: named queries, the transaction's time, and a tally of what it moved."""

    def __init__(self, conn: PgConnection, queries: Mapping[str, Query], now: int, pipeline: psycopg.Pipeline) -> None:
        super().__init__(conn, queries)
        self.now = now
        self.moved: Counter[str] = Counter()
        self.serial = False
        self._pipeline = pipeline
        self._declared: dict[Key, Cursor] = {}  # reads sent ahead, not yet asked for
        self._answered: dict[Key, Sequence[Row]] = {}  # reads answered, whose tables no write changed since
        self._expected: list[tuple[str, Cursor, int]] = []  # writes sent with a count to check
        self._answering: list[tuple[str, dict[str, Any], Cursor]] = []  # writes sent whose rows answer a read
        self.round_trips = 0  # the times this transaction waited for the server (its commit not yet counted)

    def _send(self, query: str, params: dict[str, Any]) -> Cursor:
        return self.conn.execute(self._queries[query].sql, params)

    def _write(self, query: str, params: dict[str, Any]) -> Cursor:
        if (self._declared or self._answered or self._answering) and (changed := _changes(self._queries[query].writes)):
            queries = self._queries
            self._declared = {k: c for k, c in self._declared.items() if not queries[k[0]].reads & changed}
            self._answered = {k: r for k, r in self._answered.items() if not queries[k[0]].reads & changed}
            self._answering = [(q, p, c) for q, p, c in self._answering
                               if not queries[queries[q].answers or q].reads & changed]
        return self._send(query, params)

    def _learn(self, query: str, params: dict[str, Any], rows: Sequence[Row]) -> None:
        """What `query`'s rows answer (`Query.answers`): the by-id read of each row's id, and, when it lists the ids
        it answers, no row for those it did not return."""
        q = self._queries[query]
        if q.answers is None:
            return
        learned = {key(q.answers, {"id": row["id"]}): [row] for row in rows}
        if q.answers_ids is not None:
            for id in json.loads(params[q.answers_ids]):
                learned.setdefault(key(q.answers, {"id": id}), [])
        self._answered.update((k, found) for k, found in learned.items() if k is not None)

    def _answers_for(self, query: str) -> None:
        """Bring in the statements sent whose rows answer `query` (writes that return rows, reads declared ahead):
        their answer is needed now, and a read of its own would cost as much."""
        queries = self._queries
        for found in [k for k in self._declared if queries[k[0]].answers == query]:
            params = dict(cast(tuple[tuple[str, Any], ...], found[1]))  # the key's parameters (ahead.key)
            rows = self._waited(self._declared.pop(found)).fetchall()
            self._answered[found] = rows
            self._learn(found[0], params, rows)
        waiting = [(q, p, c) for q, p, c in self._answering if queries[q].answers == query]
        if waiting:
            self._answering = [(q, p, c) for q, p, c in self._answering if queries[q].answers != query]
            for q, p, cursor in waiting:
                self._learn(q, p, self._waited(cursor).fetchall())
        self._check()

    def one(self, query: str, /, **params: Any) -> Row | None:
        rows = self._read(query, params)
        return rows[0] if rows else None

    def all(self, query: str, /, **params: Any) -> list[Row]:
        return list(self._read(query, params))

    def _read(self, query: str, params: dict[str, Any]) -> Sequence[Row]:
        found = key(query, params)
        kept = found if self._queries[query].repeatable else None  # a sequence drawn is not asked again
        if kept is not None and (known := self._answered.get(kept)) is not None:
            return known
        if kept is not None and kept not in self._declared:
            self._answers_for(query)
            if (known := self._answered.get(kept)) is not None:
                return known
        rows: Sequence[Row] = self._waited(self._answer(query, params, found)).fetchall()
        self._check()
        self._learn(query, params, rows)
        if kept is not None:
            self._answered[kept] = rows
        return rows

    def _waited(self, cursor: Cursor) -> Cursor:
        """The cursor, counting a round trip when its result is not in yet (fetching it waits for the server,
        and brings every result sent before it)."""
        if cursor.pgresult is None:
            self.round_trips += 1
        return cursor

    def _sync(self) -> None:
        self.round_trips += 1
        self._pipeline.sync()

    def _answer(self, query: str, params: dict[str, Any], found: Key | None) -> Cursor:
        sent = self._declared.pop(found, None) if found is not None else None
        if sent is not None:
            return sent
        return self._write(query, params) if self._queries[query].writes else self._send(query, params)

    def run(self, query: str, /, **params: Any) -> int:
        """Execute a write; returns the count of rows it changed (a round trip)."""
        cursor = self._write(query, params)
        self._sync()
        self._check()
        if self._queries[query].answers:
            self._learn(query, params, cursor.fetchall())
        return cursor.rowcount

    def insert(self, query: str, /, **params: Any) -> int:
        """Execute an INSERT ... RETURNING id of one row; returns its id."""
        row = self._waited(self._write(query, params)).fetchone()
        self._check()
        if row is None:
            raise RuntimeError(f"{query} inserted no row")
        self._learn(query, params, [row])
        return int(row["id"])

    def run_later(self, query: str, /, expect: int | None = None, **params: Any) -> None:
        cursor = self._write(query, params)
        if expect is not None:
            self._expected.append((query, cursor, expect))
        if self._queries[query].answers:
            self._answering.append((query, params, cursor))

    def ahead(self, reads: Callable[[Tx], object]) -> None:
        # Reads that a statement already sent will answer (an insert of a known id, a lock before them): not sent.
        answered = {key(self._queries[q].answers or q, {"id": p["id"]}) for q, p, _ in self._answering if "id" in p}
        for query, params in recorded(self.now, reads):
            q = self._queries[query]
            if q.writes:
                raise TypeError(f"{query} writes: only reads are declared ahead")
            found = key(query, params)
            if found is not None and found not in self._declared and found not in self._answered \
                    and found not in answered:
                self._declared[found] = self._send(query, params)
            if q.answers is not None and q.answers_ids is not None:
                answered.update(key(q.answers, {"id": id}) for id in json.loads(params[q.answers_ids]))

    def settle(self) -> None:
        """Before the commit: every expected count is in and checked (a round trip only if one is not)."""
        if any(cursor.pgresult is None for _, cursor, _ in self._expected):
            self._sync()
        self._check()

    def _check(self) -> None:
        waiting = []
        for query, cursor, expect in self._expected:
            if cursor.pgresult is None:
                waiting.append((query, cursor, expect))
            elif cursor.rowcount != expect:
                raise RuntimeError(f"{query} changed {cursor.rowcount} rows, not {expect}")
        self._expected = waiting
