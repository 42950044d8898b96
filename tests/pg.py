"""PostgreSQL for the tests: a server found at $INVITE_CREDITS_TEST_POSTGRES (default: the local one on
127.0.0.1:5432, trust auth, user postgres), a migrated template, and a fresh database per test made from it.

Without a server the PostgreSQL tests are skipped, loudly (see conftest's summary); with CI=true a missing
server fails them: CI must test both stores."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import psycopg
import pytest

ADMIN_URL = os.environ.get("INVITE_CREDITS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
SKIPPED: list[str] = []


def url_of(name: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)


@cache
def _server_problem() -> str | None:
    try:
        with _admin() as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL is not reachable at {ADMIN_URL}: {str(exc).strip().splitlines()[0]}"
    return None


def server_available() -> bool:
    return _server_problem() is None


def require_server() -> None:
    problem = _server_problem()
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{problem} (CI runs the PostgreSQL tests; set INVITE_CREDITS_TEST_POSTGRES)", pytrace=False)
    SKIPPED.append(problem)
    pytest.skip(problem)


@cache
def template() -> str:
    """A database migrated once per test run, copied for each test (CREATE DATABASE ... TEMPLATE)."""
    from invite_credits.store.postgres.connection import connect, migrate

    name = f"ic_template_{uuid.uuid4().hex[:10]}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    migrated = connect(url_of(name))
    try:
        migrate(migrated)
    finally:
        migrated.close()
    return name


def drop_templates() -> None:
    if _server_problem() is not None or template.cache_info().currsize == 0:
        return
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{template()}" WITH (FORCE)')


@contextmanager
def fresh_database(*, migrated: bool = True) -> Iterator[str]:
    """The URL of a new database (migrated, or empty), dropped afterwards."""
    require_server()
    name = f"ic_{uuid.uuid4().hex[:12]}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template() if migrated else "template0"}"')
    try:
        yield url_of(name)
    finally:
        with _admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
