"""Which database a command or a server uses: a SQLite file (the default) or a PostgreSQL URL. The rest of
the program asks here and never imports a driver."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..settings import Settings
from .protocol import Reader, Store, StoreError, WriteObserver


def describe(settings: Settings) -> str:
    """The database, as logs and messages name it (a URL without its password)."""
    if settings.db_url is not None:
        from .postgres import redacted

        return redacted(settings.db_url)
    return str(settings.db_path.resolve())


def prepare(settings: Settings) -> None:
    """Check, create or migrate the database and its clock before a server starts, or raise StoreError."""
    if settings.db_url is not None:
        from .postgres import prepare as prepare_postgres

        prepare_postgres(settings.db_url, test_clock=settings.test_clock)
    else:
        from .sqlite import prepare as prepare_sqlite

        prepare_sqlite(settings.db_path, settings.synchronous, test_clock=settings.test_clock)


async def open_store(settings: Settings, observer: WriteObserver | None = None,
                     test_start: int | None = None) -> Store:
    store: Store
    if settings.db_url is not None:
        from .postgres import Database as PgDatabase

        pg = PgDatabase(settings.db_url, test_clock=settings.test_clock, test_start=test_start,
                        connections=settings.db_connections, observer=observer)
        await pg.open()
        store = pg
    else:
        from .sqlite import Database as SqliteDatabase

        lite = SqliteDatabase(settings.db_path, test_clock=settings.test_clock, test_start=test_start,
                              synchronous=settings.synchronous, readers=settings.read_connections,
                              batch_max=settings.write_batch_max, observer=observer)
        await lite.open()
        store = lite
    return store


def require_existing(settings: Settings, *, writable: bool = True) -> None:
    """Refuse a SQLite file that does not exist (a typo must not create one); a URL is checked on connecting."""
    if settings.db_url is None:
        from .sqlite.files import check_database_path

        check_database_path(settings.db_path, must_exist=True, writable=writable)


@contextmanager
def reader(settings: Settings, *, migrated: bool = False) -> Iterator[Reader]:
    """Named read queries on an existing database, outside a server (migrated first when asked)."""
    if settings.db_url is not None:
        from .postgres.tools import url_reader

        with url_reader(settings.db_url, migrated=migrated) as r:
            yield r
    else:
        from .sqlite.tools import file_reader

        with file_reader(settings.db_path, migrated=migrated) as lite:
            yield lite


def integrity_problems(settings: Settings, r: Reader) -> list[str]:
    """The database's own checks beyond the rulebook's, one line per problem."""
    if settings.db_url is not None:
        from .postgres.tools import integrity_problems as pg_problems

        return pg_problems(r)
    from .sqlite.tools import integrity_problems as lite_problems

    return lite_problems(r)  # type: ignore[arg-type]  # a SQLite reader, from reader() above


def schema_version(settings: Settings) -> int:
    if settings.db_url is not None:
        from .postgres.tools import version as pg_version

        return pg_version(settings.db_url)
    from .sqlite.tools import version as lite_version

    return lite_version(settings.db_path)


def backup(settings: Settings, target: Path) -> str:
    """Copy the live database to `target`; returns what was done, in one line."""
    if settings.db_url is None:
        from .sqlite.tools import backup as lite_backup

        lite_backup(settings.db_path, target)
        return f"backed up {settings.db_path} to {target}"
    from .postgres import redacted

    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise StoreError("backup of a PostgreSQL database: use pg_dump (a logical copy) or pg_basebackup (the "
                         "whole cluster, for a standby); pg_dump is not installed here")
    if target.exists():
        raise StoreError(f"{target} exists: give a new file")
    done = subprocess.run([pg_dump, "--format=custom", "--file", str(target), settings.db_url],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        target.unlink(missing_ok=True)
        message = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise StoreError(f"pg_dump of {redacted(settings.db_url)} failed: {message}")
    return f"backed up {redacted(settings.db_url)} to {target} with pg_dump (restore with pg_restore)"
