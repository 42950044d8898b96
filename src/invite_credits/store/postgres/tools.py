"""What the command line does to a PostgreSQL database outside a running server: read it, check it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from ..protocol import Reader, StoreError
from ..queries import load_queries
from .connection import connect, migrate, migration_files, redacted, schema_version
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
        raise StoreError(f"database {redacted(url)}: {str(exc).strip().splitlines()[0]}") from None
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
