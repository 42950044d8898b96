"""The store on PostgreSQL: any number of server processes on one database, each write one transaction that
locks the members it touches; reads on reader threads, never on the event loop."""

from .connection import connect, prepare, redacted
from .database import Database
from .tx import PgTx

__all__ = ["Database", "PgTx", "connect", "prepare", "redacted"]
