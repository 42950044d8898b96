"""The PostgreSQL store: the same queries as SQLite's, the database's own guards, and concurrent writes from
several stores (each its own pool, as separate processes would be) keeping every invariant."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import errors

from invite_credits.domain.access import Actor
from invite_credits.domain.errors import Code, Refusal
from invite_credits.domain.policy import InvitationStatus
from invite_credits.service import AnswerInvitation, SendInvitation, Service
from invite_credits.store import postgres
from invite_credits.store.postgres.connection import migration_files
from invite_credits.store.queries import load_queries

from . import pg
from .conftest import ADMIN, T0, join, violations
from .test_store import HOT_QUERIES

pytestmark = pytest.mark.anyio
POSTGRES_ONLY = {"check_heads"}  # PostgreSQL's chain guard has a row per member to check; SQLite's has none


def test_both_dialects_have_the_same_queries_with_the_same_parameters() -> None:
    lite, post = load_queries("sqlite"), load_queries("postgres")
    assert sorted(set(lite) ^ (set(post) - POSTGRES_ONLY)) == [], "queries in one dialect only"
    for name, query in lite.items():
        other = post[name]
        assert (other.params, other.kind, other.slow) == (query.params, query.kind, query.slow), name


@pytest.fixture
def url() -> Iterator[str]:
    with pg.fresh_database() as fresh:
        yield fresh


@pytest.fixture
def raw(url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(url, autocommit=True) as conn:
        yield conn


def _numbered(sql: str) -> str:
    """psycopg's %(name)s placeholders as the server's $1, $2 ... (one number per name)."""
    order: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in order:
            order.append(match.group(1))
        return f"${order.index(match.group(1)) + 1}"

    return re.sub(r"%\((\w+)\)s", number, sql).replace("%%", "%")


def test_every_postgres_query_prepares_against_the_migrated_schema(raw: psycopg.Connection[Any]) -> None:
    for query in load_queries("postgres").values():
        raw.execute(f"PREPARE q AS {_numbered(query.sql)}".encode())  # the server parses, types and plans it
        raw.execute("DEALLOCATE q")


def _member(conn: psycopg.Connection[Any], email: str) -> int:
    row = conn.execute("INSERT INTO members (email, name, referral_code, joined_at) VALUES (%s, 'M', %s, 0) "
                       "RETURNING id", (email, email)).fetchone()
    assert row is not None
    return int(row[0])


def _entry(conn: psycopg.Connection[Any], member: int, amount: int, after: int, at: int = 10,
           seq: int | None = None) -> None:
    """An entry continuing the member's chain (its next seq unless `seq` says otherwise)."""
    conn.execute("INSERT INTO ledger_entries (member_id, seq, occurred_at, reason, amount, requested, balance_after, "
                 "hash) VALUES (%s, coalesce(%s, (SELECT count(*) + 1 FROM ledger_entries WHERE member_id = %s)), %s, "
                 "'ADMIN_ADJUSTMENT', %s, %s, %s, %s)", (member, seq, member, at, amount, amount, after, "0" * 64))


def test_the_database_guards_the_ledger(raw: psycopg.Connection[Any]) -> None:
    ann, bob = _member(raw, "ann@x.org"), _member(raw, "bob@x.org")
    assert raw.execute("SELECT balance, last_at FROM member_heads WHERE member_id = %s", (ann,)).fetchone() == (0, 0)
    _entry(raw, ann, 5, 5)
    with pytest.raises(errors.SerializationFailure, match="chain"):
        _entry(raw, ann, 5, 9)  # 5 + 5 is not 9
    with pytest.raises(errors.SerializationFailure, match="chain"):
        _entry(raw, ann, 1, 6, at=9)  # before the last entry
    with pytest.raises(errors.SerializationFailure, match="chain"):
        _entry(raw, ann, 0, 5, at=11, seq=1)  # a second first entry, moving no credit: a fork, refused
    _entry(raw, ann, -2, 3, at=11)
    for statement in ("UPDATE ledger_entries SET amount = 1", "DELETE FROM ledger_entries", "TRUNCATE ledger_entries",
                      "DELETE FROM members", "DELETE FROM member_heads"):
        # (TRUNCATE of the ledger is refused before its trigger runs: the lots' draws reference it.)
        with pytest.raises((psycopg.errors.IntegrityConstraintViolation, psycopg.errors.FeatureNotSupported)):
            raw.execute(statement)
    inserted = raw.execute("INSERT INTO credit_lots (member_id, reason, amount, remaining, granted_at, expires_at) "
                           "VALUES (%s, 'SIGNUP', 5, 5, 0, 100) RETURNING id", (ann,)).fetchone()
    assert inserted is not None
    lot = inserted[0]
    raw.execute("UPDATE credit_lots SET remaining = 3 WHERE id = %s", (lot,))
    for change in ("remaining = 4", "amount = 6", "expires_at = 200"):
        with pytest.raises(psycopg.errors.IntegrityConstraintViolation):
            raw.execute(f"UPDATE credit_lots SET {change} WHERE id = %s", (lot,))
    raw.execute("UPDATE credit_lots SET written_off = 1 WHERE id = %s", (lot,))
    with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="written-off"):
        raw.execute("UPDATE credit_lots SET remaining = 0 WHERE id = %s", (lot,))
    raw.execute("INSERT INTO audit_records (at, actor, action, member_id, details) "
                "VALUES (1, 'admin', 'TIER_CHANGED', %s, '{}')", (ann,))
    for statement in ("UPDATE audit_records SET actor = 'x'", "DELETE FROM audit_records", "TRUNCATE audit_records"):
        with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="append-only"):
            raw.execute(statement)
    expired = ("INSERT INTO ledger_entries (member_id, seq, occurred_at, reason, amount, requested, balance_after, "
               "lot_id, hash) VALUES (%s, (SELECT count(*) + 1 FROM ledger_entries WHERE member_id = %s), 100, "
               "'EXPIRED', -3, -3, %s, %s, repeat('0', 64))")
    raw.execute(expired, (ann, ann, 0, lot))
    _entry(raw, ann, 3, 3, at=100)
    with pytest.raises(errors.UniqueViolation):
        raw.execute(expired, (ann, ann, 0, lot))  # one EXPIRED entry per lot, even where the chain would allow it
    invite = "INSERT INTO invitations (inviter_id, invitee_id, sent_at, credits_spent) VALUES (%s, %s, 0, 1)"
    raw.execute(invite, (ann, bob))
    with pytest.raises(errors.UniqueViolation):
        raw.execute(invite, (bob, ann))  # one pending invitation per pair, either way
    raw.execute("INSERT INTO test_clock (id, now) VALUES (1, 100)")
    with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="never goes back"):
        raw.execute("UPDATE test_clock SET now = 99")
    with pytest.raises(psycopg.errors.CheckViolation):
        _member(raw, "Upper@x.org")


# -- several stores on one database, as several processes ------------------------------------------------------
@pytest.fixture
async def services(url: str) -> AsyncIterator[list[Service]]:
    stores = [postgres.Database(url, test_clock=True, test_start=T0, connections=8) for _ in range(2)]
    for store in stores:
        await store.open()
    yield [Service(store) for store in stores]
    for store in stores:
        await store.close()


async def _attempt(call: Any) -> Any:
    try:
        return await call
    except Refusal as refusal:
        return refusal.code


async def test_concurrent_sends_from_one_member_on_two_stores_never_overspend(services: list[Service],
                                                                             url: str) -> None:
    a, b = services
    ann = await join(a, "ann@example.com")
    invitees = [await join(b, f"to{i}@example.com") for i in range(40)]
    results = await asyncio.gather(*(_attempt((a, b)[i % 2].send_invitation(Actor(ann), SendInvitation(invitee)))
                                     for i, invitee in enumerate(invitees)))
    sent = [r for r in results if not isinstance(r, Code)]
    assert len(sent) == 15 and [r for r in results if isinstance(r, Code)] == [Code.INSUFFICIENT_CREDITS] * 25
    member = a.member(ann)
    assert member is not None and a.balance(member).available == 0
    assert violations(url) == []


async def test_one_idempotency_key_raced_on_two_stores_has_one_effect(services: list[Service], url: str) -> None:
    a, b = services
    ann, bob = await join(a, "ann@example.com"), await join(a, "bob@example.com")
    answers = await asyncio.gather(*((a, b)[i % 2].send_invitation(Actor(ann), SendInvitation(bob), key="k-1")
                                     for i in range(16)))
    assert len({(o.invitation_id, o.entry_id) for o in answers}) == 1
    member = b.member(ann)
    assert member is not None and b.balance(member).available == 14
    assert violations(url) == []


async def test_accept_on_one_store_while_the_inviter_withdraws_on_the_other(services: list[Service],
                                                                          url: str) -> None:
    a, b = services
    ann = await join(a, "ann@example.com")
    for i in range(10):
        bob = await join(a, f"bob{i}@example.com")
        sent = await a.send_invitation(Actor(ann), SendInvitation(bob))
        accept = a.answer_invitation(Actor(bob), AnswerInvitation(sent.invitation_id, InvitationStatus.ACCEPTED))
        withdraw = b.answer_invitation(Actor(ann), AnswerInvitation(sent.invitation_id, InvitationStatus.WITHDRAWN))
        results = await asyncio.gather(_attempt(accept), _attempt(withdraw))
        assert sorted(isinstance(r, Code) for r in results) == [False, True], results
        assert [r for r in results if isinstance(r, Code)] == [Code.INVITATION_NOT_PENDING]
    assert violations(url) == []


async def test_sweeps_on_two_stores_write_each_expiry_once(services: list[Service], url: str) -> None:
    a, b = services
    for i in range(30):
        await join(a, f"m{i}@example.com")
    await a.db.set_test_time(T0 + 400 * 86400)
    reports = await asyncio.gather(a.sweep(batch_lots=7), b.sweep(batch_lots=7), a.sweep(batch_lots=5))
    assert sum(r.lots for r in reports) == 30 and sum(r.credits for r in reports) == 30 * 15
    assert a.expiry_lag() == 0
    assert violations(url) == []


async def test_the_test_clock_moved_on_one_store_is_read_on_the_other(services: list[Service]) -> None:
    a, b = services
    await a.advance_test_clock(ADMIN, T0 + 3600)
    assert b.now() == T0 + 3600
    assert await b.db.write(lambda tx: tx.now) == T0 + 3600


async def test_a_connection_the_server_dropped_costs_one_retry(services: list[Service], url: str) -> None:
    a, _ = services
    ann = await join(a, "ann@example.com")
    with psycopg.connect(pg.ADMIN_URL, autocommit=True) as admin:
        name = url.rsplit("/", 1)[1]
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
    member = a.member(ann)  # the inline reader reconnects
    assert member is not None and a.balance(member).available == 15
    bob = await join(a, "bob@example.com")  # a pooled connection that died is replaced
    assert bob and violations(url) == []


def test_both_dialects_number_their_migrations_alike() -> None:
    from invite_credits.store.sqlite.migrations import migration_files as sqlite_migrations

    assert [(n, p.name) for n, p in migration_files()] == [(n, p.name) for n, p in sqlite_migrations()]


def test_a_database_migrated_under_the_old_numbering_is_renumbered_once(url: str) -> None:
    from invite_credits.store.postgres.connection import connect, migrate

    conn = connect(url)
    try:
        conn.execute("DELETE FROM schema_migrations")
        conn.execute("ALTER TABLE schema_migrations DROP COLUMN name")
        conn.execute("INSERT INTO schema_migrations (version) VALUES (1), (2), (3), (4)")  # all four, as they were
        assert migrate(conn) == []  # nothing runs again
        rows = conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
        assert [(r["version"], r["name"]) for r in rows] == [(n, p.name) for n, p in migration_files()]
        assert migrate(conn) == []
    finally:
        conn.close()


def test_readyz_is_unavailable_on_a_read_only_database(url: str) -> None:
    from starlette.testclient import TestClient

    from invite_credits.http.app import create_app
    from invite_credits.settings import Settings

    name = url.rsplit("/", 1)[1]

    def switch(read_only: str) -> None:  # as a standby would refuse writes after a failover
        with psycopg.connect(pg.ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = {read_only}')
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))

    settings = Settings(db_url=url, jwt_secret="a-secret-long-enough-for-hs256-tokens-0123")
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").json() == {"status": "ready", "schema": len(migration_files())}
        switch("on")
        assert client.get("/readyz").status_code == 503
        switch("off")
        assert client.get("/readyz").status_code == 200


def test_a_database_that_went_away_is_service_unavailable_not_a_stack_trace(url: str) -> None:
    from starlette.testclient import TestClient

    from invite_credits.http.app import create_app
    from invite_credits.settings import Settings

    settings = Settings(db_url=url, jwt_secret="a-secret-long-enough-for-hs256-tokens-0123")
    with TestClient(create_app(settings)) as client:
        payload = client.post("/graphql", json={"query": 'mutation { signUp(input: {email: "a@x.org", name: "A"}) '
                                                         "{ member { id } token } }"}).json()["data"]["signUp"]
        signed, member = payload["token"], payload["member"]["id"]
        with psycopg.connect(pg.ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
        cases = [("{ viewer { name } }", signed, 503), ('mutation { postDiscussion(input: {kind: POST, body: "x"}) '
                                                        "{ post { id } } }", signed, 503),
                 (f'{{ member(id: "{member}") {{ name }} }}', None, 200),  # anonymous: the field's own error
                 ('mutation { signUp(input: {email: "b@x.org", name: "B"}) { token } }', None, 200)]
        for query, token, status in cases:
            headers = {"authorization": f"Bearer {token}"} if token else {}
            response = client.post("/graphql", json={"query": query}, headers=headers)
            assert response.status_code == status, response.text
            assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["SERVICE_UNAVAILABLE"]
            assert "Traceback" not in response.text and "psycopg" not in response.text
        assert client.get("/readyz").status_code == 503


async def test_ten_processes_starting_at_once_migrate_once() -> None:
    with pg.fresh_database(migrated=False) as empty:
        command = [sys.executable, "-m", "invite_credits.cli", "migrate", "--db", empty]
        processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(10)]
        outputs = [p.communicate(timeout=120) for p in processes]
        assert [p.returncode for p in processes] == [0] * 10, outputs
        with psycopg.connect(empty) as conn:
            versions = [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
        assert versions == [n for n, _ in migration_files()]


# -- moving off SQLite ---------------------------------------------------------------------------------------
BENCH = Path(__file__).resolve().parents[1] / "bench"


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "invite_credits.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=600, check=False)


def test_copy_moves_the_bench_seed_and_the_demo_and_checks_the_target(tmp_path: Path, url: str) -> None:
    seeded = tmp_path / "bench.db"
    done = subprocess.run([sys.executable, str(BENCH / "seed.py"), str(seeded), "20000", "1000"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    copied = _cli("copy", "--from", str(seeded), "--to", url)
    assert copied.returncode == 0, copied.stderr
    assert re.search(r"ledger_entries\s+180,992 rows", copied.stdout) and "0 violation(s)" in copied.stdout
    again = _cli("copy", "--from", str(seeded), "--to", url)
    assert again.returncode == 2 and "already holds data" in again.stderr
    with psycopg.connect(url, autocommit=True) as conn:  # new rows continue after the copied ids
        assert conn.execute("SELECT nextval(pg_get_serial_sequence('ledger_entries', 'id'))").fetchone() == (180993,)
        conn.execute("ANALYZE")
        for name, table in HOT_QUERIES.items():
            if table in ("members", "credit_lots", "ledger_entries"):  # the tables the seed fills
                plan = _plan(conn, load_queries("postgres")[name].sql)
                assert f"Seq Scan on {table}" not in plan, (name, plan)


def _plan(conn: psycopg.Connection[Any], sql: str) -> str:
    """The server's plan for a query, with a value of each parameter's inferred type."""
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", sql)))
    conn.execute(f"PREPARE hot AS {_numbered(sql)}".encode())
    try:
        row = conn.execute("SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = 'hot'").fetchone()
        assert row is not None
        values = ["'[1]'" if kind in ("jsonb", "json") or name.endswith(("_ids", "reasons")) else
                  ("'x'" if kind == "text" else "1") for name, kind in zip(names, row[0], strict=True)]
        args = f"({', '.join(values)})" if values else ""
        return "\n".join(r[0] for r in conn.execute(f"EXPLAIN EXECUTE hot{args}".encode()))
    finally:
        conn.execute("DEALLOCATE hot")


def test_copy_brings_every_row_of_every_table_as_it_was(tmp_path: Path, url: str) -> None:
    import sqlite3

    demo = tmp_path / "demo.db"
    assert _cli("demo", "--db", str(demo)).returncode == 0
    lite = sqlite3.connect(demo)
    with lite:  # what the demo does not make: a linked identity and a stored first answer
        lite.execute("INSERT INTO member_identities VALUES ('https://idp.test', 'u-1', 1, 5)")
        lite.execute("INSERT INTO idempotency_keys VALUES ('m:1', 'k', 'sign_up', 'h', '{\"entry_id\": 1}', 5)")
        lite.execute("INSERT OR IGNORE INTO events_pruned VALUES (1, 0)")
        lite.execute("INSERT OR IGNORE INTO expiry_notices VALUES (1, 5, 5)")
    assert _cli("copy", "--from", str(demo), "--to", url).returncode == 0
    with psycopg.connect(url) as conn:
        for table, order in __import__("invite_credits.store.copy", fromlist=["TABLES"]).TABLES:
            if table == "readiness_probe":
                continue
            columns = ", ".join(row[1] for row in lite.execute(f"PRAGMA table_info({table})"))
            mine = [tuple(r) for r in lite.execute(f"SELECT {columns} FROM {table} ORDER BY {order}")]
            theirs = [tuple(r) for r in conn.execute(f"SELECT {columns} FROM {table} ORDER BY {order}")]
            assert mine == theirs and mine, table
    assert violations(url) == []


def test_a_copy_that_breaks_a_rule_keeps_nothing(tmp_path: Path, url: str) -> None:
    demo = tmp_path / "demo.db"
    assert _cli("demo", "--db", str(demo)).returncode == 0
    import sqlite3

    lite = sqlite3.connect(demo)
    lite.execute("DROP TRIGGER ledger_entries_no_update")
    lite.execute("UPDATE ledger_entries SET balance_after = balance_after + 1 WHERE id = 3")
    lite.commit()
    broken = _cli("copy", "--from", str(demo), "--to", url)
    assert broken.returncode == 2 and "chain" in broken.stderr and "nothing was kept" in broken.stderr
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM members").fetchone() == (0,)


# -- the command line on PostgreSQL ----------------------------------------------------------------------------
def test_commands_take_a_postgresql_url(url: str) -> None:
    secret = {"INVITE_CREDITS_JWT_SECRET": "a-secret-long-enough-for-hs256-tokens-0123"}
    refused = _cli("serve", "--db", url, INVITE_CREDITS_JWT_SECRET="")
    assert refused.returncode == 2 and "INVITE_CREDITS_JWT_SECRET must be set" in refused.stderr
    assert "no secret" not in _cli("token", "--admin", "--db", url).stderr
    assert _cli("token", "--admin", "--db", url, INVITE_CREDITS_JWT_SECRET="").returncode == 2
    assert _cli("migrate", "--db", url).stdout.strip().endswith(f"schema version {len(migration_files())}")
    assert _cli("demo", "--db", url, **secret).returncode == 0
    assert _cli("token", "--admin", "--db", url, **secret).stdout.count(".") == 2
    assert _cli("expire", "--db", url).returncode == 0
    checked = _cli("check", "--db", url)
    assert checked.returncode == 0 and "0 violation(s)" in checked.stdout
    assert "password" not in url and url.split("/")[-1] in checked.stdout
    unreachable = _cli("check", "--db", "postgresql://nobody:hunter2@127.0.0.1:1/none")
    assert unreachable.returncode == 2 and "cannot be reached" in unreachable.stderr
    assert "hunter2" not in unreachable.stderr and "Traceback" not in unreachable.stderr


def test_a_lock_held_past_lock_timeout_answers_at_its_bound_without_retrying(url: str,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """An outside transaction holds a member's row: the write gives up at lock_timeout, once, as unavailable."""
    import asyncio
    import time

    import psycopg

    from invite_credits.domain.errors import Unavailable
    from invite_credits.store import members
    from invite_credits.store.postgres import database as pg_database

    from .conftest import open_database

    async def main() -> float:
        db = open_database(url)
        await db.open()
        try:
            member = await db.write(lambda tx: members.insert(tx, email="l@example.com", name="L", referral_code="L1",
                                                              referred_by=None, joined_at=0))
            with psycopg.connect(url, autocommit=False) as holder:
                holder.execute("SELECT id FROM members WHERE id = %s FOR UPDATE", (member,))
                started = time.monotonic()
                with pytest.raises(Unavailable):
                    await db.write(lambda tx: members.lock(tx, member))
                return time.monotonic() - started
        finally:
            await db.close()

    monkeypatch.setattr(pg_database, "WRITER_OPTIONS", "-c lock_timeout=300")
    waited = asyncio.run(main())
    assert 0.25 <= waited < 0.6, waited  # one bound (0.3 s here), not three retries of it (0.9 s)


def test_a_member_locked_elsewhere_cannot_take_every_connection(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Twelve writes wait on one member whose row another transaction holds: one of them waits on the database,
    the others in the process, so the other members' writes go through meanwhile."""
    import asyncio
    import time

    import psycopg

    from invite_credits.domain.errors import Unavailable
    from invite_credits.store import members
    from invite_credits.store.postgres import database as pg_database

    from .conftest import open_database

    monkeypatch.setattr(pg_database, "WRITER_OPTIONS", "-c lock_timeout=3000")

    async def main() -> tuple[float, int]:
        db = open_database(url, connections=4)
        await db.open()
        try:
            locked = await db.write(lambda tx: members.insert(tx, email="a@example.com", name="A", referral_code="RA",
                                                              referred_by=None, joined_at=0))
            other = await db.write(lambda tx: members.insert(tx, email="b@example.com", name="B", referral_code="RB",
                                                             referred_by=None, joined_at=0))
            with psycopg.connect(url, autocommit=False) as holder:
                holder.execute("SELECT id FROM members WHERE id = %s FOR UPDATE", (locked,))
                waiting = [asyncio.create_task(db.write(lambda tx: members.lock(tx, locked), [locked]))
                           for _ in range(12)]
                await asyncio.sleep(0.2)  # they queue up
                started = time.monotonic()
                for _ in range(5):
                    await db.write(lambda tx: members.lock(tx, other), [other])
                elapsed = time.monotonic() - started
                holder.rollback()
            refused = sum(isinstance(r, Unavailable) for r in await asyncio.gather(*waiting, return_exceptions=True))
            return elapsed, refused
        finally:
            await db.close()

    elapsed, refused = asyncio.run(main())
    assert elapsed < 1.5, elapsed  # the other member's writes did not wait for the locked one's
    assert refused <= 1  # at most the one write that waited on the database timed out
