"""What a SQLite database path must be before the service opens it: each problem in one line."""

from __future__ import annotations

import os
from pathlib import Path

from ..protocol import StoreError

_HEADER = b"SQLite format 3\x00"


def check_database_path(path: Path, *, must_exist: bool = False, writable: bool = True,
                        flag: str = "--db (or INVITE_CREDITS_DB)", non_empty: bool = False) -> None:
    """Raise StoreError naming the problem: a missing directory (never created for you), a directory where the
    file should be, a file that is not SQLite (or empty, with `non_empty`), or a file or directory this process
    cannot write. `flag` is the option that named the file."""
    where = f"database {path}"
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise StoreError(f"{where}: directory {parent} does not exist; create it or give another {flag}")
    if path.is_dir():
        raise StoreError(f"{where} is a directory; give a file path to {flag}")
    if not path.exists():
        if must_exist:
            raise StoreError(f"{where} does not exist; check {flag}")
    else:
        try:
            with path.open("rb") as f:
                header = f.read(len(_HEADER))
        except OSError as exc:
            raise StoreError(f"{where} cannot be read: {exc.strerror}") from None
        if header and header != _HEADER:
            raise StoreError(f"{where} is not a SQLite database; check {flag}")
        if not header and non_empty:
            raise StoreError(f"{where} is empty: not a database of this service (a backup cut short?); check {flag}")
        if writable and not os.access(path, os.W_OK):
            raise StoreError(f"{where} is read-only for this user; the service writes to it")
    # SQLite writes its -wal and -shm files beside the database.
    if writable and not os.access(parent, os.W_OK | os.X_OK):
        raise StoreError(f"{where}: directory {parent} is read-only for this user; SQLite writes its WAL beside the file")
