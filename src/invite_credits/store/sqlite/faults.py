"""Storage faults: SQLite's answers that mean the disk or the file cannot take writes now."""

from __future__ import annotations

import logging
import sqlite3
import time

from ..protocol import DatabaseUnavailable, WriteObserver

log = logging.getLogger("invite_credits.store")


# SQLite's answers that mean the storage cannot take writes now (not a bug, not the request's fault): the
# caller gets SERVICE_UNAVAILABLE, worth a retry once the operator has made room or mended the file.
_STORAGE_FAULTS = {
    "SQLITE_FULL": "disk_full",
    "SQLITE_READONLY": "read_only",
    "SQLITE_IOERR": "io_error",
    "SQLITE_CANTOPEN": "cannot_open",
    "SQLITE_BUSY": "busy",
}
FAULT_LOG_INTERVAL_SECONDS = 10.0


class StorageFaults:
    """Turns a storage failure into DatabaseUnavailable, counted each time and logged once per kind a while."""

    def __init__(self, path: str, observer: WriteObserver | None) -> None:
        self.path = path
        self.observer = observer
        self.logged: dict[str, float] = {}

    def classify(self, exc: BaseException) -> BaseException:
        if not isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError):
            return exc
        name = getattr(exc, "sqlite_errorname", "") or ""
        kind = next((k for prefix, k in _STORAGE_FAULTS.items() if name.startswith(prefix)), None)
        if kind is None:
            return exc
        if self.observer is not None:
            self.observer.storage_fault(kind)
        now = time.monotonic()
        if now - self.logged.get(kind, -FAULT_LOG_INTERVAL_SECONDS) >= FAULT_LOG_INTERVAL_SECONDS:
            self.logged[kind] = now
            log.error("writes refused: %s (%s on %s); answering SERVICE_UNAVAILABLE until it is mended",
                      kind.replace("_", " "), name, self.path, extra={"fields": {"fault": kind}})
        return DatabaseUnavailable(f"database {self.path}: {exc}")
