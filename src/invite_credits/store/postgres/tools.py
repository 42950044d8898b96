"""What the command line does to a PostgreSQL database outside a running server: read it, check it."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from ..protocol import Reader, StoreError
from ..queries import load_queries
from .connection import connect, first_line, migrate, migration_files, redacted, schema_version
from .reads import PgStatements


@contextmanager
def url_reader(url: str, *, migrated: bool = False) -> Iterator[PgStatements]:
    """Named queries on the database, in one read-only transaction (one consistent snapshot for a check)."""
    conn = connect(url, application_name="invite-credits cli")
    try:
        if migrated and schema_version(conn) < len(migration_files()):  # a standby is read as it is
            migrate(conn)
        elif schema_version(conn) == 0:
            raise StoreError(f"database {redacted(url)} holds no invite-credits schema: run `invite-credits "
                             "migrate` or `serve` on it first")
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield PgStatements(conn, load_queries("postgres"))
    except psycopg.Error as exc:
        raise StoreError(f"database {redacted(url)}: {first_line(exc)}") from None
    finally:
        conn.close()


def integrity_problems(r: Reader) -> list[str]:
    """PostgreSQL keeps foreign keys and indexes itself; what it cannot see is each member's head row."""
    return [f"the member's head row differs from their newest entry: {dict(row)}" for row in r.all("check_heads")]


def version(url: str) -> int:
    conn = connect(url, application_name="invite-credits cli")
    try:
        return schema_version(conn)
    finally:
        conn.close()


def dump(url: str, target: Path) -> None:
    """A logical copy of the database in pg_dump's custom format (pg_restore reads it)."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise StoreError("backup of a PostgreSQL database: use pg_dump (a logical copy) or pg_basebackup (the "
                         "whole cluster, for a standby); pg_dump is not installed here")
    if target.exists():
        raise StoreError(f"{target} exists: give a new file")
    done = subprocess.run([pg_dump, "--format=custom", "--file", str(target), url],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        target.unlink(missing_ok=True)
        message = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise StoreError(f"pg_dump of {redacted(url)} failed: {message}")
