"""Forward-only migrations: sql/sqlite/migrations/NNNN_*.sql, applied in order by PRAGMA user_version."""

from __future__ import annotations

import re
import sqlite3
from importlib.resources.abc import Traversable

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


def migrate(conn: sqlite3.Connection) -> list[int]:
    """Apply every migration newer than the database, each in its own transaction; returns what ran."""
    applied = []
    files = migration_files()
    current = schema_version(conn)
    if current > len(files):
        raise RuntimeError(f"database schema {current} is newer than this code knows ({len(files)})")
    for number, path in files:
        if number <= current:
            continue
        # executescript runs the file as written; the version bump is part of the same transaction.
        conn.executescript(f"BEGIN IMMEDIATE;\n{path.read_text(encoding='utf-8')}\nPRAGMA user_version = {number};\nCOMMIT;")
        applied.append(number)
    return applied
