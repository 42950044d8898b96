"""The store on SQLite: one file, one writer thread with group commit, readers inline and on threads."""

from .connection import connect, prepare
from .database import Database
from .statements import SqliteTx

__all__ = ["Database", "SqliteTx", "connect", "prepare"]
