"""A PostgreSQL database as the Backend of store/databases.py."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

from ...settings import Settings
from ..protocol import Reader, Store, WriteObserver
from . import tools
from .connection import prepare, redacted
from .database import Database


class PostgresBackend:
    def __init__(self, settings: Settings, url: str) -> None:
        self.settings = settings
        self.url = url

    def describe(self) -> str:
        return redacted(self.url)

    def prepare(self) -> None:
        prepare(self.url, test_clock=self.settings.test_clock)

    async def open(self, observer: WriteObserver | None = None, test_start: int | None = None) -> Store:
        store = Database(self.url, test_clock=self.settings.test_clock, test_start=test_start,
                         connections=self.settings.db_connections, observer=observer)
        await store.open()
        return store

    def require_existing(self, *, writable: bool = True) -> None:
        """Nothing to check before connecting: a URL that names no database fails there."""

    def reader(self, *, migrated: bool = False) -> AbstractContextManager[Reader]:
        return tools.url_reader(self.url, migrated=migrated)

    def integrity_problems(self, r: Reader) -> list[str]:
        return tools.integrity_problems(r)

    def schema_version(self) -> int:
        return tools.version(self.url)

    def backup(self, target: Path) -> str:
        tools.dump(self.url, target)
        return f"backed up {redacted(self.url)} to {target} with pg_dump (restore with pg_restore)"
