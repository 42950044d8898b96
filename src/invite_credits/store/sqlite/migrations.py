"""Forward-only migrations: sql/sqlite/migrations/NNNN_*.sql, applied in order by PRAGMA user_version.

A file runs statement by statement in one transaction. A line `-- step: NAME` runs the Python step NAME
(STEPS) at that point, in the same transaction: what SQL alone cannot compute (the ledger's hashes)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from importlib.resources.abc import Traversable

from .. import backfill
from ..queries import sql_dir

_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migration_files(directory: Traversable | None = None) -> list[tuple[int, Traversable]]:
    directory = directory or sql_dir("sqlite") / "migrations"
    found = []
    for path in directory.iterdir():
        match = _FILE.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    found.sort(key=lambda item: item[0])
    numbers = [n for n, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations must be numbered 0001, 0002, ... without gaps: {numbers}")
    return found


def schema_version(conn: sqlite3.Connection) -> int:
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return version


def _hash_chains(conn: sqlite3.Connection) -> None:
    def write_hashes(rows: Sequence[tuple[str, int]]) -> None:
        conn.executemany("UPDATE ledger_entries SET hash = ? WHERE id = ?", rows)

    def write_draws(rows: Sequence[tuple[int, int, int, int]]) -> None:
        conn.executemany("INSERT INTO lot_draws (entry_id, lot_id, amount, at) VALUES (?, ?, ?, ?)", rows)

    reader = conn.cursor()  # its own cursor: the writes above run while it streams
    lots = conn.cursor()
    backfill.ledger_chain(reader.execute(backfill.ENTRIES), lots.execute(backfill.LOTS), write_hashes, write_draws)


STEPS: dict[str, Callable[[sqlite3.Connection], None]] = {"ledger_chain": _hash_chains}
_STEP = re.compile(r"^-- step: ([a-z_]+)\s*$")


def _statements(text: str) -> Iterator[str | Callable[[sqlite3.Connection], None]]:
    """The file's statements, in order, and its steps where they stand."""
    pending = ""
    for line in text.splitlines(keepends=True):
        step = _STEP.match(line)
        if step and not pending.strip():
            yield STEPS[step.group(1)]
            continue
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending
            pending = ""
    if pending.strip() and not all(s.strip().startswith("--") for s in pending.splitlines() if s.strip()):
        raise RuntimeError(f"a migration ends with an unfinished statement: {pending.strip()[:80]}")


def migrate(conn: sqlite3.Connection, upto: int | None = None) -> list[int]:
    """Apply every migration newer than the database (up to `upto`, when given), each in its own transaction;
    returns what ran."""
    applied = []
    files = migration_files()
    current = schema_version(conn)
    if current > len(files):
        raise RuntimeError(f"database schema {current} is newer than this code knows ({len(files)})")
    for number, path in files:
        if number <= current or (upto is not None and number > upto):
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(path.read_text(encoding="utf-8")):
                if callable(statement):
                    statement(conn)
                else:
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
        applied.append(number)
    return applied
