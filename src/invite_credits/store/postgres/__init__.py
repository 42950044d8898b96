"""The store on PostgreSQL: any number of server processes on one database, each write one transaction that
locks the members it touches; reads and writes never wait on the event loop (jobs whose waits go to it, or
reader threads)."""

from .connection import connect, prepare, redacted
from .database import Database
from .tx import PgTx

__all__ = ["Database", "PgTx", "connect", "prepare", "redacted"]
