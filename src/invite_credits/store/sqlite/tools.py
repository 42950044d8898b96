"""What the command line does to a database file outside a running server: read it, check it, copy it."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..protocol import StoreError
from ..queries import load_queries
from .connection import connect
from .files import check_database_path
from .migrations import migrate, migration_files, schema_version
from .statements import Statements


@contextmanager
def file_reader(path: Path, *, migrated: bool = False) -> Iterator[Statements]:
    """Named queries on an existing database file: migrated first when asked, else opened read-only (nothing is
    written to it, not even a schema: a file that holds no invite-credits schema is refused)."""
    check_database_path(path, must_exist=True, writable=migrated, non_empty=not migrated)
    if migrated:
        conn = connect(path)
    else:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
    try:
        if migrated:
            migrate(conn)
        else:
            _require_schema(conn, path)
        yield Statements(conn, load_queries())
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"database {path} cannot be read: {exc}") from None
    finally:
        conn.close()


def _require_schema(conn: sqlite3.Connection, path: Path) -> None:
    version, latest = schema_version(conn), len(migration_files())
    if version == 0:
        raise StoreError(f"database {path} holds no invite-credits schema (not this service's database, or a backup "
                         "cut short)")
    if version != latest:
        raise StoreError(f"database {path} has schema {version}, this version reads {latest}: run `invite-credits "
                         f"migrate --db {path}` first")


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
    # Written beside the target and renamed into place once whole: a backup killed early leaves no file that
    # looks like a database at the target (only a `.partial` file, removed by the next backup to it).
    partial = target.with_name(target.name + ".partial")
    for leftover in (partial, partial.with_name(partial.name + "-journal")):
        leftover.unlink(missing_ok=True)
    source = connect(path)
    try:
        dest = sqlite3.connect(partial)
        try:
            source.backup(dest)
            dest.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
        finally:
            dest.close()
        with partial.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(partial, target)
    except (sqlite3.Error, OSError) as exc:
        for leftover in (partial, partial.with_name(partial.name + "-journal")):
            leftover.unlink(missing_ok=True)
        raise StoreError(f"backup failed: {exc}") from None
    finally:
        source.close()
