"""A SQLite file as the Backend of store/databases.py."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

from ...settings import Settings
from ..protocol import Reader, Store, WriteObserver
from . import tools
from .connection import prepare
from .database import Database
from .files import check_database_path
from .statements import Statements


class SqliteBackend:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.path = settings.db_path

    def describe(self) -> str:
        return str(self.path.resolve())

    def prepare(self) -> None:
        prepare(self.path, self.settings.synchronous, test_clock=self.settings.test_clock)

    async def open(self, observer: WriteObserver | None = None, test_start: int | None = None) -> Store:
        s = self.settings
        store = Database(self.path, test_clock=s.test_clock, test_start=test_start, synchronous=s.synchronous,
                         readers=s.read_connections, batch_max=s.write_batch_max, observer=observer)
        await store.open()
        return store

    def require_existing(self, *, writable: bool = True) -> None:
        """A file that does not exist is refused (a typo must not create one)."""
        check_database_path(self.path, must_exist=True, writable=writable)

    def reader(self, *, migrated: bool = False) -> AbstractContextManager[Reader]:
        return tools.file_reader(self.path, migrated=migrated)

    def integrity_problems(self, r: Reader) -> list[str]:
        if not isinstance(r, Statements):
            raise TypeError("a SQLite check needs this backend's reader")
        return tools.integrity_problems(r)

    def schema_version(self) -> int:
        return tools.version(self.path)

    def backup(self, target: Path) -> str:
        tools.backup(self.path, target)
        return f"backed up {self.path} to {target}"
