"""Connections to a PostgreSQL database, forward-only migrations under an advisory lock, and the stored
test clock: what a server checks and prepares before it starts."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from importlib.resources.abc import Traversable
from typing import Any

import psycopg
from psycopg.rows import dict_row, tuple_row

from .. import backfill
from ..protocol import StoreError
from ..queries import Query, load_queries, sql_dir

_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Both numbers of the advisory lock that lets one process migrate while the others wait.
MIGRATION_LOCK = (7317, 0)
CONNECT_TIMEOUT_SECONDS = 10
# The client's own bounds on a network that stops answering (a partition, a server frozen mid-reply), in
# seconds, not the minutes TCP's defaults take: keepalive probes after 5 s idle, every 2 s, 3 unanswered end
# the connection; data unacknowledged for 10 s ends it too (TCP_USER_TIMEOUT, Linux).
NETWORK_BOUNDS: dict[str, Any] = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
                                  "keepalives_count": 3, "tcp_user_timeout": 10_000}

PgConnection = psycopg.Connection[dict[str, Any]]


def redacted(url: str) -> str:
    """The URL without its password, for logs and messages."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


def is_url(text: str) -> bool:
    return text.startswith(("postgresql://", "postgres://"))


def connect(url: str, *, application_name: str = "invite-credits", options: str | None = None,
            cls: type[PgConnection] = psycopg.Connection) -> PgConnection:
    """An autocommit connection (transactions are explicit) with rows as dicts, or StoreError in one line.
    `options`: server settings for the session (libpq's `-c name=value`); `cls`: psycopg's class or a subclass."""
    extra: dict[str, Any] = {"options": options} if options else {}
    try:
        return cls.connect(url, autocommit=True, row_factory=dict_row, connect_timeout=CONNECT_TIMEOUT_SECONDS,
                           application_name=application_name, **NETWORK_BOUNDS, **extra)
    except psycopg.Error as exc:
        raise StoreError(f"database {redacted(url)} cannot be reached: {first_line(exc)}") from None
    except (ValueError, TypeError) as exc:  # a malformed URL or option
        raise StoreError(f"database URL {redacted(url)} is not valid: {exc}") from None


def first_line(exc: BaseException) -> str:
    """The driver's message in one line (its first), for a log or an operator's message."""
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


_FUNCTION = re.compile(r"CREATE (?:OR REPLACE )?FUNCTION (\w+)\(\).*?\$\$(.*?)\$\$", re.DOTALL)
_TRIGGER = re.compile(r"CREATE TRIGGER \w+\s+(?:BEFORE|AFTER|INSTEAD OF)\b[^;]*?\bON (\w+)[^;]*?EXECUTE FUNCTION (\w+)\(")
_TARGET = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(\w+)", re.IGNORECASE)


@cache
def trigger_writes() -> dict[str, frozenset[str]]:
    """table -> the other tables its triggers write, through triggers of those too (from the migrations, the
    last definition of each function winning): what a write to the table may change besides itself."""
    bodies: dict[str, str] = {}
    direct: dict[str, set[str]] = {}
    for _, path in migration_files():
        text = path.read_text(encoding="utf-8")
        bodies.update((name, body) for name, body in _FUNCTION.findall(text))
        for table, function in _TRIGGER.findall(text):
            direct.setdefault(table, set()).add(function)
    writes = {table: {t.lower() for f in functions for t in _TARGET.findall(bodies.get(f, ""))} - {table}
              for table, functions in direct.items()}
    closed: dict[str, frozenset[str]] = {}
    for table in writes:
        seen: set[str] = set()
        todo = list(writes[table])
        while todo:
            other = todo.pop()
            if other not in seen:
                seen.add(other)
                todo.extend(writes.get(other, ()))
        closed[table] = frozenset(seen - {table})
    return closed


def schema_version(conn: PgConnection) -> int:
    row = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL AS present").fetchone()
    if not row or not row["present"]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) AS v FROM schema_migrations").fetchone()
    return int(row["v"]) if row else 0


def _hash_chains(conn: PgConnection) -> None:
    """The corrections migration's step: hashes through a temporary table (COPY, then one UPDATE), draws by
    COPY, the ledger streamed through server-side cursors."""
    conn.execute("CREATE TEMPORARY TABLE chain_fill (id bigint PRIMARY KEY, hash text NOT NULL) ON COMMIT DROP")

    def write_hashes(rows: Sequence[tuple[str, int]]) -> None:
        with conn.cursor().copy("COPY chain_fill (hash, id) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def write_draws(rows: Sequence[tuple[int, int, int, int]]) -> None:
        with conn.cursor().copy("COPY lot_draws (entry_id, lot_id, amount, at) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    with conn.cursor("chain_entries", row_factory=tuple_row) as entries, \
            conn.cursor("chain_lots", row_factory=tuple_row) as lots:
        entries.itersize = lots.itersize = 5000
        backfill.ledger_chain(entries.execute(backfill.ENTRIES), lots.execute(backfill.LOTS), write_hashes,
                              write_draws)
    conn.execute("UPDATE ledger_entries AS e SET hash = f.hash FROM chain_fill AS f WHERE e.id = f.id")


STEPS: dict[str, Callable[[PgConnection], None]] = {"ledger_chain": _hash_chains}
_STEP = re.compile(r"^-- step: ([a-z_]+)\s*$", re.MULTILINE)


def _run_file(conn: PgConnection, text: str) -> None:
    """The file as written, with each `-- step: NAME` line run as the Python step NAME at that point."""
    parts = _STEP.split(text)  # [sql, step, sql, step, sql, ...]
    for index, part in enumerate(parts):
        if index % 2:
            STEPS[part](conn)
        elif any(line.strip() and not line.lstrip().startswith("--") for line in part.splitlines()):
            conn.execute(part.encode())  # no parameters: the SQL as written


# Until both dialects' migrations were numbered alike, PostgreSQL's were 0001 init (which holds SQLite's 0001 to
# 0003), 0002 sessions, 0003 ledger corrections and 0004 events. A database migrated then has a schema_migrations
# without `name`; its versions are renumbered once, the first time this code migrates it.
RENUMBERED = {1: (1, 2, 3), 2: (4,), 3: (5,), 4: (6,)}


def _renumber(conn: PgConnection, names: Mapping[int, str]) -> None:
    found = conn.execute("SELECT 1 FROM pg_attribute WHERE attrelid = 'schema_migrations'::regclass"
                         " AND attname = 'name' AND NOT attisdropped").fetchone()
    if found:
        return
    with conn.transaction():
        rows = conn.execute("SELECT version, applied_at FROM schema_migrations").fetchall()
        conn.execute("DELETE FROM schema_migrations")
        conn.execute("ALTER TABLE schema_migrations ADD COLUMN name text")
        for row in rows:
            for version in RENUMBERED[row["version"]]:
                conn.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (%s, %s, %s)",
                             (version, names[version], row["applied_at"]))


def migrate(conn: PgConnection) -> list[int]:
    """Apply every migration newer than the database, each in its own transaction, under an advisory lock:
    ten processes starting at once migrate once (the others wait, then find nothing to do)."""
    files = migration_files()
    applied = []
    conn.execute("SELECT pg_advisory_lock(%s, %s)", MIGRATION_LOCK)
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                     " version integer PRIMARY KEY, name text, applied_at timestamptz NOT NULL DEFAULT now())")
        _renumber(conn, {number: path.name for number, path in files})
        current = schema_version(conn)
        if current > len(files):
            raise RuntimeError(f"database schema {current} is newer than this code knows ({len(files)})")
        for number, path in files:
            if number <= current:
                continue
            with conn.transaction():
                _run_file(conn, path.read_text(encoding="utf-8"))
                conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (number, path.name))
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
        raise StoreError(f"database {redacted(url)} cannot be used: {first_line(exc)}") from None
    except RuntimeError as exc:  # a schema newer than this code
        raise StoreError(f"database {redacted(url)}: {exc}") from None
    finally:
        conn.close()
