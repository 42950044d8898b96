"""Which database a command or a server uses: a SQLite file (the default) or a PostgreSQL URL, chosen once
from the settings as a Backend. The rest of the program asks it and never imports a driver."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from ..settings import Settings
from .protocol import Reader, Store, WriteObserver


class Backend(Protocol):
    """One database and everything done to it: its implementations are store/sqlite/backend.py and
    store/postgres/backend.py."""

    def describe(self) -> str:
        """The database, as logs and messages name it (a URL without its password)."""
    def prepare(self) -> None:
        """Check, create or migrate the database and its clock before a server starts, or raise StoreError."""
    async def open(self, observer: WriteObserver | None = None, test_start: int | None = None) -> Store:
        """The Store a server runs on, opened."""
    def require_existing(self, *, writable: bool = True) -> None:
        """Refuse a database a command must not create."""
    def reader(self, *, migrated: bool = False) -> AbstractContextManager[Reader]:
        """Named read queries on the existing database, outside a server (migrated first when asked), in one
        consistent snapshot."""
    def integrity_problems(self, r: Reader) -> list[str]:
        """The database's own checks beyond the rulebook's, one line per problem (`r` from `reader`)."""
    def schema_version(self) -> int: ...
    def backup(self, target: Path) -> str:
        """Copy the live database to `target`; returns what was done, in one line."""


def backend(settings: Settings) -> Backend:
    """The settings' database: a PostgreSQL URL when one is set, else the SQLite file."""
    if settings.db_url is not None:
        from .postgres.backend import PostgresBackend

        return PostgresBackend(settings, settings.db_url)
    from .sqlite.backend import SqliteBackend

    return SqliteBackend(settings)
