"""Connections to a SQLite file, and what a server checks and prepares before it starts on one."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path

from ...settings import SYNCHRONOUS_MODES
from ..protocol import StoreError
from ..queries import Query, load_queries
from .files import check_database_path
from .migrations import migrate


def connect(path: str | Path, synchronous: str = "FULL") -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, foreign keys on."""
    if synchronous not in SYNCHRONOUS_MODES:
        raise ValueError(f"synchronous must be one of {SYNCHRONOUS_MODES}")
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.row_factory = sqlite3.Row
    _configure(conn, synchronous)
    return conn


def _configure(conn: sqlite3.Connection, synchronous: str) -> None:
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")  # checked against SYNCHRONOUS_MODES
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 30000")


def start_clock(conn: sqlite3.Connection, queries: Mapping[str, Query], path: str, *, test_clock: bool,
                test_start: int | None = None) -> None:
    """Test clock: resume at the later of the stored time and the start time (real time by default).
    Real clock: refuse a database whose stored test time is still ahead of real time."""
    row = conn.execute(queries["test_clock_get"].sql).fetchone()
    stored = int(row["now"]) if row else None
    wall = int(time.time())
    if test_clock:
        start = test_start if test_start is not None else wall
        conn.execute(queries["test_clock_set"].sql, {"now": max(stored or 0, start)})
    elif stored is not None and stored > wall:
        moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stored))
        raise StoreError(f"database {path} ran with the test clock up to {moment}, later than the real time: "
                         "use it with INVITE_CREDITS_TEST_CLOCK=1 set, or use another database (--db)")


def prepare(path: Path, synchronous: str = "FULL", *, test_clock: bool = False) -> None:
    """Check, create or migrate the database and its clock before a server starts, or raise StoreError."""
    check_database_path(path)
    try:
        conn = connect(path, synchronous)
    except sqlite3.Error as exc:
        raise StoreError(f"database {path} cannot be opened: {exc}") from None
    try:
        migrate(conn)
        start_clock(conn, load_queries(), str(path), test_clock=test_clock)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"database {path} cannot be used: {exc}") from None
    except RuntimeError as exc:  # a schema newer than this code
        raise StoreError(f"database {path}: {exc}") from None
    finally:
        conn.close()


def _test_now(conn: sqlite3.Connection, queries: Mapping[str, Query]) -> int:
    row = conn.execute(queries["test_clock_get"].sql).fetchone()
    if row is None:
        raise RuntimeError("the test clock has no stored time")
    return int(row["now"])
