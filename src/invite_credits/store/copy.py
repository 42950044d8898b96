"""Moving off SQLite: copy a whole SQLite database into an empty PostgreSQL one, table by table.

The events keep their ids and come first in the feed (their `tx` is SQLite's 0); the target's outbox
triggers, which announce the copied rows again as they go in, have their rows replaced by the source's.

Rows go in id order through COPY, in batches read from SQLite, all inside one PostgreSQL transaction: a
failed copy leaves the target as empty as it was. The target's own guards see every row: the ledger's chain
trigger moves each member's head entry by entry, so a copied chain that does not add up stops the copy.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from tqdm import tqdm

from .postgres.connection import connect, first_line, migrate, redacted
from .protocol import StoreError
from .sqlite.files import check_database_path
from .sqlite.migrations import migration_files, schema_version

# In an order that satisfies every foreign key, each with the column it is copied in order of.
TABLES: list[tuple[str, str]] = [
    ("members", "id"), ("companies", "id"), ("credit_lots", "id"), ("invitations", "id"), ("connections", "id"),
    ("discussion_posts", "id"), ("ledger_entries", "id"), ("lot_draws", "entry_id, lot_id"),
    ("lot_extensions", "entry_id"), ("audit_records", "id"), ("events", "id"), ("events_pruned", "id"),
    ("expiry_notices", "id"), ("contacts", "member_id, email"),
    ("company_follows", "member_id, company_id"), ("idempotency_keys", "scope, key"),
    ("member_identities", "issuer, subject"), ("test_clock", "id"), ("readiness_probe", "id"),
]
WITH_IDS = ["members", "companies", "credit_lots", "invitations", "connections", "discussion_posts", "ledger_entries",
            "audit_records", "events"]
BATCH_ROWS = 5000
# What the target may hold before the copy, replaced by the source's rows: the events its triggers announced
# as the copied rows went in, and the rows a server that ran on it wrote for itself (probe, notice horizon).
REPLACED = frozenset({"events", "readiness_probe", "expiry_notices", "events_pruned"})


@dataclass(frozen=True)
class Copied:
    table: str
    rows: int
    seconds: float


def copy_sqlite_to_postgres(source: Path, url: str, *, progress: bool | None = None,
                            report: Callable[[Copied], None] | None = None) -> list[Copied]:
    """Copy every table of the SQLite file at `source` into the (empty) PostgreSQL database at `url`.
    `progress`: bars on the terminal (None: when standard error is a terminal)."""
    check_database_path(source, must_exist=True, writable=False, flag="--from", non_empty=True)
    lite = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        version, latest = schema_version(lite), len(migration_files())
        if version != latest:
            raise StoreError(f"{source} has schema {version}, this version copies {latest}: run "
                             f"`invite-credits migrate --db {source}` first")
        pg = connect(url, application_name="invite-credits copy")
        try:
            migrate(pg)
            _refuse_data(pg, url)
            with pg.transaction():
                done = [_copy_table(lite, pg, table, order, progress, report) for table, order in TABLES]
                for table in WITH_IDS:  # new rows continue after the copied ids
                    pg.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)")
            return done
        except psycopg.Error as exc:
            raise StoreError(f"copy to {redacted(url)} stopped, nothing was kept: {first_line(exc)}") from None
        finally:
            pg.close()
    finally:
        lite.close()


def _refuse_data(pg: psycopg.Connection[Any], url: str) -> None:
    held = [table for table, _ in TABLES
            if table not in REPLACED - {"events"} and pg.execute(f"SELECT EXISTS (SELECT 1 FROM {table}) AS held").fetchone()
            ["held"]]  # type: ignore[index]
    if held:
        raise StoreError(f"{redacted(url)} already holds data ({', '.join(held)}): copy into an empty database")


def _copy_table(lite: sqlite3.Connection, pg: psycopg.Connection[Any], table: str, order: str,
                progress: bool | None, report: Callable[[Copied], None] | None) -> Copied:
    columns = [row[1] for row in lite.execute(f"PRAGMA table_info({table})")]
    total = lite.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    names = ", ".join(columns)
    started = time.perf_counter()
    if table in REPLACED:
        pg.execute(f"DELETE FROM {table}")
    bar = tqdm(total=total, desc=f"{table:<18}", unit=" rows", unit_scale=True, file=sys.stderr,
               disable=(not sys.stderr.isatty()) if progress is None else not progress, leave=True)
    rows = lite.execute(f"SELECT {names} FROM {table} ORDER BY {order}")
    with pg.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        while batch := rows.fetchmany(BATCH_ROWS):
            for row in batch:
                copy.write_row(row)
            bar.update(len(batch))
    bar.close()
    copied = Copied(table, total, time.perf_counter() - started)
    if report is not None:
        report(copied)
    return copied
