"""The store on SQLite: one file, one writer thread with group commit, readers inline and on threads."""

from .database import Database, SqliteTx, connect, prepare

__all__ = ["Database", "SqliteTx", "connect", "prepare"]
