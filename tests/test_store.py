"""The store: migrations, named queries, the database's own guards, the group-commit writer."""

from __future__ import annotations

import ast
import asyncio
import re
import sqlite3
import time
from pathlib import Path

import pytest

from invite_credits.store import companies
from invite_credits.store.queries import check_answers, load_queries, parse_queries
from invite_credits.store.sqlite.connection import connect
from invite_credits.store.sqlite.database import Database
from invite_credits.store.sqlite.migrations import migrate, migration_files, schema_version

SRC = Path(__file__).resolve().parents[1] / "src" / "invite_credits"
GATEWAYS = SRC / "store"


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    c = connect(tmp_path / "store.db")
    migrate(c)
    return c


def test_migrations_apply_once_and_record_the_version(tmp_path: Path) -> None:
    c = connect(tmp_path / "m.db")
    assert migrate(c) == [n for n, _ in migration_files()]
    assert migrate(c) == []
    assert schema_version(c) == len(migration_files())
    assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_every_named_query_compiles_against_the_migrated_schema(conn: sqlite3.Connection) -> None:
    for name, query in load_queries().items():
        conn.execute("EXPLAIN " + query.sql, {p: None for p in query.params}).fetchall(), name


def _calls() -> list[tuple[str, str, set[str]]]:
    """(module, query name, keyword names) for every `x.one/all/run/insert/run_later("name", k=...)` in the store and the
    invariant check: the only code that names queries."""
    found = []
    for path in [*GATEWAYS.glob("*.py"), *GATEWAYS.glob("sqlite/*.py"), SRC / "service" / "check.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("one", "all", "run", "insert", "run_later") and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                found.append((path.name, node.args[0].value, {k.arg for k in node.keywords if k.arg} - {"expect"}))
    return found


def test_every_named_query_is_used_once_by_a_gateway_with_exactly_its_parameters() -> None:
    queries = load_queries()
    calls = _calls()
    named = {name for _, name, _ in calls}
    from invite_credits.service.check import CHECKS

    assert sorted(set(queries) - named - set(CHECKS)) == [], "queries no gateway uses"
    assert sorted(named - set(queries)) == [], "gateways naming queries that do not exist"
    for module, name, keywords in calls:
        assert keywords == set(queries[name].params), f"{module}: {name} takes {sorted(queries[name].params)}"


def test_query_files_refuse_duplicates_and_empty_blocks_and_record_each_query() -> None:
    with pytest.raises(ValueError, match="twice"):
        parse_queries("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;", "x.sql")
    with pytest.raises(ValueError, match="empty"):
        parse_queries("-- name: a\n-- only a comment\n", "x.sql")
    with pytest.raises(ValueError, match="SELECT, INSERT"):
        parse_queries("-- name: a\nPRAGMA x;", "x.sql")
    query = parse_queries("-- name: a\n-- The doc.\n-- slow: scans\nSELECT :x, :y::int;", "x.sql")["a"]
    assert (query.sql, query.kind, query.slow, query.doc, query.params) == (
        "SELECT :x, :y::int;", "select", True, "The doc.", frozenset({"x", "y"}))


def test_a_statement_answers_only_a_read_of_one_row_by_id() -> None:
    text = ("-- name: by_id\nSELECT * FROM t WHERE id = :id;\n"
            "-- name: lock\n-- Locks.\n-- answers: by_id for each id in :ids\nSELECT * FROM t WHERE id = ANY(:ids) FOR UPDATE;\n"
            "-- name: add\n-- answers: by_id\nINSERT INTO t (x) VALUES (:x) RETURNING *;\n")
    queries = parse_queries(text, "x.sql")
    check_answers(queries)
    assert (queries["lock"].answers, queries["lock"].answers_ids, queries["lock"].doc) == ("by_id", "ids", "Locks.")
    assert (queries["add"].answers, queries["add"].answers_ids) == ("by_id", None)
    with pytest.raises(ValueError, match="not a parameter"):
        parse_queries("-- name: lock\n-- answers: by_id for each id in :ids\nSELECT * FROM t;", "x.sql")
    for wrong in ("by_x", "add"):  # no such query; a write
        bad = parse_queries(text + f"-- name: other\n-- answers: {wrong}\nSELECT * FROM t;\n", "x.sql")
        with pytest.raises(ValueError, match=f"answers '{wrong}', which is not a read"):
            check_answers(bad)
    by_x = parse_queries(text + "-- name: by_x\nSELECT * FROM t WHERE x = :x;\n-- name: o\n-- answers: by_x\n"
                         "SELECT * FROM t;\n", "x.sql")
    with pytest.raises(ValueError, match="answers 'by_x'"):
        check_answers(by_x)


def _member(conn: sqlite3.Connection) -> int:
    return int(conn.execute(
        "INSERT INTO members (email, name, referral_code, joined_at) VALUES ('a@b.co', 'A', 'R1', 0)").lastrowid or 0)


def _entry(conn: sqlite3.Connection, member: int, amount: int, balance_after: int, at: int = 10,
           seq: int | None = None) -> None:
    """An entry continuing the member's chain (its next seq unless `seq` says otherwise; the hash is not the
    database's to check: `invite-credits check` recomputes it)."""
    conn.execute(
        "INSERT INTO ledger_entries (member_id, seq, occurred_at, reason, amount, requested, balance_after, hash) "
        "VALUES (?, coalesce(?, (SELECT count(*) + 1 FROM ledger_entries WHERE member_id = ?)), ?, 'SIGNUP', ?, ?, ?, "
        "?)", (member, seq, member, at, amount, amount, balance_after, "0" * 64))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entries SET amount = 99",
        "DELETE FROM ledger_entries",
        "UPDATE credit_lots SET remaining = 20",  # above amount, and growing
        "UPDATE credit_lots SET remaining = -1",
        "UPDATE credit_lots SET amount = 1",
        "DELETE FROM credit_lots",
        "DELETE FROM members",
    ],
)
def test_database_refuses_what_the_code_never_does(conn: sqlite3.Connection, statement: str) -> None:
    member = _member(conn)
    conn.execute("INSERT INTO credit_lots (member_id, reason, amount, remaining, granted_at, expires_at) "
                 "VALUES (?, 'SIGNUP', 15, 15, 10, 100)", (member,))
    _entry(conn, member, 15, 15)
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(statement)


def test_ledger_chain_is_enforced(conn: sqlite3.Connection) -> None:
    member = _member(conn)
    _entry(conn, member, 15, 15, at=10)
    with pytest.raises(sqlite3.IntegrityError, match="chain"):
        _entry(conn, member, 1, 17, at=11)  # 15 + 1 is not 17
    with pytest.raises(sqlite3.IntegrityError, match="chain"):
        _entry(conn, member, 1, 16, at=9)  # earlier than the previous entry
    with pytest.raises(sqlite3.IntegrityError, match="chain"):
        _entry(conn, member, 0, 15, at=11, seq=1)  # a second first entry: a fork of the chain
    _entry(conn, member, 1, 16, at=11)


def test_a_lots_expiry_moves_only_later_and_only_with_its_extension(conn: sqlite3.Connection) -> None:
    member = _member(conn)
    lot = conn.execute("INSERT INTO credit_lots (member_id, reason, amount, remaining, granted_at, expires_at) "
                       "VALUES (?, 'SIGNUP', 15, 15, 10, 100)", (member,)).lastrowid
    _entry(conn, member, 15, 15)
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        conn.execute("UPDATE credit_lots SET expires_at = 200 WHERE id = ?", (lot,))
    entry = conn.execute("INSERT INTO ledger_entries (member_id, seq, occurred_at, reason, amount, requested, "
                         "balance_after, lot_id, hash) VALUES (?, 2, 20, 'LOT_EXTENDED', 0, 0, 15, ?, ?)",
                         (member, lot, "0" * 64)).lastrowid
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute("INSERT INTO lot_extensions VALUES (?, ?, 20, 100, 90)", (entry, lot))  # earlier: never
    conn.execute("INSERT INTO lot_extensions VALUES (?, ?, 20, 100, 200)", (entry, lot))
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        conn.execute("UPDATE credit_lots SET expires_at = 300 WHERE id = ?", (lot,))  # not the recorded move
    conn.execute("UPDATE credit_lots SET expires_at = 200 WHERE id = ?", (lot,))
    for statement in ("UPDATE lot_extensions SET new_expires_at = 300", "DELETE FROM lot_extensions"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(statement)


def test_an_entry_is_reversed_once_and_audit_records_are_append_only(conn: sqlite3.Connection) -> None:
    member = _member(conn)
    _entry(conn, member, 15, 15)
    reversal = ("INSERT INTO ledger_entries (member_id, seq, occurred_at, reason, amount, requested, balance_after, "
                "reverses_id, hash) VALUES (?, (SELECT count(*) + 1 FROM ledger_entries WHERE member_id = ?), 20, "
                "'REVERSAL', 0, -15, 15, ?, ?)")
    conn.execute(reversal, (member, member, 1, "0" * 64))
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        conn.execute(reversal, (member, member, 1, "0" * 64))
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):  # a reversal names what it reverses
        conn.execute(reversal.replace("?, ?)", "NULL, ?)"), (member, member, "0" * 64))
    conn.execute("INSERT INTO audit_records (at, actor, action, member_id, details) "
                 "VALUES (1, 'admin', 'TIER_CHANGED', ?, '{}')", (member,))
    for statement in ("UPDATE audit_records SET actor = 'someone else'", "DELETE FROM audit_records"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(statement)


def test_one_pending_invitation_per_pair_in_either_direction(conn: sqlite3.Connection) -> None:
    a = _member(conn)
    b = int(conn.execute("INSERT INTO members (email, name, referral_code, joined_at) "
                         "VALUES ('b@b.co', 'B', 'R2', 0)").lastrowid or 0)
    insert = "INSERT INTO invitations (inviter_id, invitee_id, sent_at, credits_spent) VALUES (?, ?, 0, 1)"
    conn.execute(insert, (a, b))
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(insert, (b, a))


@pytest.mark.anyio
async def test_group_commit_isolates_each_write(tmp_path: Path) -> None:
    db = Database(tmp_path / "g.db", test_clock=True, test_start=1000, synchronous="NORMAL")
    await db.open()
    try:
        def good(i: int):  # type: ignore[no-untyped-def]
            return lambda tx: tx.conn.execute(
                "INSERT INTO companies (name, slug, created_at) VALUES (?, ?, ?)", (f"C{i}", f"c{i}", tx.now)).lastrowid

        def bad(tx):  # type: ignore[no-untyped-def]
            tx.conn.execute("INSERT INTO companies (name, slug, created_at) VALUES ('X', 'x', 0)")
            raise RuntimeError("this write fails after writing")

        results = await asyncio.gather(*(db.write(good(i) if i % 3 else bad) for i in range(30)),
                                       return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        assert len(failures) == 10 and all(isinstance(f, RuntimeError) for f in failures)
        rows = await db.read_slow(lambda r: companies.page(r, search=None, after=None, limit=100))
        assert sorted(c.slug for c in rows) == sorted(f"c{i}" for i in range(30) if i % 3)
        assert db.stats.jobs == 30 and db.stats.batches < 30  # writes queued together shared commits
    finally:
        await db.close()


HOT_QUERIES = {
    # query: a table it must never scan whole
    "member_by_id": "members",
    "member_by_email": "members",
    "balance": "credit_lots",
    "lots_spendable": "credit_lots",
    "lots_page": "credit_lots",
    "lots_due": "credit_lots",
    "member_lots_due": "credit_lots",
    "expiry_entries_insert": "credit_lots",
    "lots_write_off": "credit_lots",
    "entries_page": "ledger_entries",
    "entries_newest_of": "ledger_entries",
    "members_lock": "members",
    "entries_after": "ledger_entries",
    "entries_last_id": "ledger_entries",
    "entry_last": "ledger_entries",
    "granted_by_reason_since": "ledger_entries",
    "invitation_pending_between": "invitations",
    "invitations_sent_page": "invitations",
    "invitations_received_page": "invitations",
    "connected": "connections",
    "share_connection": "connections",
    "connections_page": "connections",
    "contact_known": "contacts",
    "follow_get": "company_follows",
}


@pytest.mark.parametrize(("query", "table"), sorted(HOT_QUERIES.items()))
def test_hot_queries_use_an_index(conn: sqlite3.Connection, query: str, table: str) -> None:
    record = load_queries()[query]
    params = {p: "[1]" if p.endswith(("_ids", "reasons")) else 1 for p in record.params}
    plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + record.sql, params)]
    full_scans = [step for step in plan if re.fullmatch(rf"SCAN {table}( AS \w+)?", step)]
    assert full_scans == [], plan


@pytest.mark.anyio
async def test_inline_reads_refuse_slow_queries_and_stop_past_their_time_limit(database: str) -> None:
    from dataclasses import replace

    from invite_credits.domain.errors import Unavailable
    from invite_credits.store.sqlite.statements import InlineReader

    from .conftest import open_database

    db = open_database(database)
    await db.open()
    try:
        for read in (db.reader.one, db.reader.all):  # the `-- slow:` mark holds for both
            with pytest.raises(RuntimeError, match="marked slow"):
                read("companies_page", search=None, after_name=None, after_id=None, limit=1)
    finally:
        await db.close()
    if not database.endswith(".db"):
        return  # PostgreSQL's inline reads are cut off by the server's statement_timeout (test_postgres.py)
    conn = sqlite3.connect(database, check_same_thread=False)
    from invite_credits.store.queries import load_queries

    queries = dict(load_queries())
    endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) AS c FROM n"
    queries["member_by_id"] = replace(queries["member_by_id"], sql=endless + " WHERE :id IS NOT NULL")
    reader = InlineReader(conn, queries, time_limit_seconds=0.05)
    started = time.monotonic()
    with pytest.raises(Unavailable, match="time limit"):
        reader.one("member_by_id", id=1)
    assert time.monotonic() - started < 2
    conn.close()
