"""Connections to a PostgreSQL database, forward-only migrations under an advisory lock, and the stored
test clock: what a server checks and prepares before it starts."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from importlib.resources.abc import Traversable
from typing import Any

import psycopg
from psycopg.rows import dict_row

from ..protocol import StoreError
from ..queries import Query, load_queries, sql_dir

_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Both numbers of the advisory lock that lets one process migrate while the others wait.
MIGRATION_LOCK = (7317, 0)
CONNECT_TIMEOUT_SECONDS = 10

PgConnection = psycopg.Connection[dict[str, Any]]


def redacted(url: str) -> str:
    """The URL without its password, for logs and messages."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


def is_url(text: str) -> bool:
    return text.startswith(("postgresql://", "postgres://"))


def connect(url: str, *, application_name: str = "invite-credits", options: str | None = None) -> PgConnection:
    """An autocommit connection (transactions are explicit) with rows as dicts, or StoreError in one line.
    `options`: server settings for the session (libpq's `-c name=value`)."""
    extra: dict[str, Any] = {"options": options} if options else {}
    try:
        return psycopg.connect(url, autocommit=True, row_factory=dict_row, connect_timeout=CONNECT_TIMEOUT_SECONDS,
                               application_name=application_name, **extra)
    except psycopg.Error as exc:
        raise StoreError(f"database {redacted(url)} cannot be reached: {_first_line(exc)}") from None
    except (ValueError, TypeError) as exc:  # a malformed URL or option
        raise StoreError(f"database URL {redacted(url)} is not valid: {exc}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def migration_files() -> list[tuple[int, Traversable]]:
    found = []
    for path in (sql_dir("postgres") / "migrations").iterdir():
        match = _FILE.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    found.sort(key=lambda item: item[0])
    if [n for n, _ in found] != list(range(1, len(found) + 1)):
        raise RuntimeError("migrations must be numbered 0001, 0002, ... without gaps")
    return found


def schema_version(conn: PgConnection) -> int:
    row = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL AS present").fetchone()
    if not row or not row["present"]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) AS v FROM schema_migrations").fetchone()
    return int(row["v"]) if row else 0


def migrate(conn: PgConnection) -> list[int]:
    """Apply every migration newer than the database, each in its own transaction, under an advisory lock:
    ten processes starting at once migrate once (the others wait, then find nothing to do)."""
    files = migration_files()
    applied = []
    conn.execute("SELECT pg_advisory_lock(%s, %s)", MIGRATION_LOCK)
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                     " version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
        current = schema_version(conn)
        if current > len(files):
            raise RuntimeError(f"database schema {current} is newer than this code knows ({len(files)})")
        for number, path in files:
            if number <= current:
                continue
            with conn.transaction():
                conn.execute(path.read_text(encoding="utf-8").encode())  # no parameters: the file as written
                conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (number,))
            applied.append(number)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s, %s)", MIGRATION_LOCK)
    return applied


def test_now(conn: PgConnection, queries: Mapping[str, Query]) -> int:
    row = conn.execute(queries["test_clock_get"].sql).fetchone()
    if row is None:
        raise RuntimeError("the test clock has no stored time")
    return int(row["now"])


def start_clock(conn: PgConnection, queries: Mapping[str, Query], url: str, *, test_clock: bool,
                test_start: int | None = None) -> None:
    """Test clock: resume at the later of the stored time and the start time (every process shares it).
    Real clock: refuse a database whose stored test time is still ahead of real time."""
    row = conn.execute(queries["test_clock_get"].sql).fetchone()
    stored = int(row["now"]) if row else None
    wall = int(time.time())
    if test_clock:
        start = test_start if test_start is not None else wall
        if stored is None or start > stored:
            conn.execute("INSERT INTO test_clock (id, now) VALUES (1, %(now)s) "
                         "ON CONFLICT (id) DO UPDATE SET now = GREATEST(test_clock.now, excluded.now)", {"now": start})
    elif stored is not None and stored > wall:
        moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stored))
        raise StoreError(f"database {redacted(url)} ran with the test clock up to {moment}, later than the real "
                         "time: serve it with INVITE_CREDITS_TEST_CLOCK=1, or use another database")


def prepare(url: str, *, test_clock: bool = False, test_start: int | None = None) -> None:
    """Check, create or migrate the database and its clock before a server starts, or raise StoreError."""
    conn = connect(url)
    try:
        migrate(conn)
        start_clock(conn, load_queries("postgres"), url, test_clock=test_clock, test_start=test_start)
    except psycopg.Error as exc:
        raise StoreError(f"database {redacted(url)} cannot be used: {_first_line(exc)}") from None
    except RuntimeError as exc:  # a schema newer than this code
        raise StoreError(f"database {redacted(url)}: {exc}") from None
    finally:
        conn.close()
