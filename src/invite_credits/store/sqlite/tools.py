"""What the command line does to a database file outside a running server: read it, check it, copy it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..protocol import StoreError
from ..queries import load_queries
from .connection import connect
from .database import Statements
from .files import check_database_path
from .migrations import migrate, schema_version


@contextmanager
def file_reader(path: Path, *, migrated: bool = False) -> Iterator[Statements]:
    """Named queries on an existing database file (migrated first when asked)."""
    check_database_path(path, must_exist=True, writable=migrated)
    conn = connect(path)
    try:
        if migrated:
            migrate(conn)
        yield Statements(conn, load_queries())
    finally:
        conn.close()


def integrity_problems(r: Statements) -> list[str]:
    """SQLite's own integrity and foreign-key checks, one line per problem."""
    problems = [f"integrity: {row[0]}" for row in r.conn.execute("PRAGMA integrity_check") if row[0] != "ok"]
    problems += [f"foreign key: {tuple(row)}" for row in r.conn.execute("PRAGMA foreign_key_check")]
    return problems


def version(path: Path) -> int:
    with file_reader(path) as r:
        return schema_version(r.conn)


def backup(path: Path, target: Path) -> None:
    """A consistent copy of a live database (SQLite's online backup, one step under one read transaction)."""
    check_database_path(path, must_exist=True, writable=False)
    if target.exists():
        raise StoreError(f"{target} exists: give a new file")
    if not target.parent.is_dir():
        raise StoreError(f"directory {target.parent} does not exist")
    source = connect(path)
    try:
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
            dest.execute("PRAGMA journal_mode = WAL")
        finally:
            dest.close()
    except sqlite3.Error as exc:
        for leftover in (target, target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
            leftover.unlink(missing_ok=True)
        raise StoreError(f"backup failed: {exc}") from None
    finally:
        source.close()
