"""Tamper evidence and the corrections under concurrency, on both stores: `check` names a row changed behind
the service's back; the migration hashes the chains of an existing database and finds which lots its spends
drew from; two admins reversing one entry at once make one reversal."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invite_credits.domain import chain, ids
from invite_credits.domain.access import Actor
from invite_credits.domain.errors import AlreadyReversed
from invite_credits.service import AdjustCredits, ReverseEntry, SendInvitation, Service
from invite_credits.service.check import chain_breaks
from invite_credits.store.databases import backend
from invite_credits.store.postgres.connection import connect as pg_connect
from invite_credits.store.postgres.connection import migrate as pg_migrate
from invite_credits.store.sqlite import migrations as lite_migrations
from invite_credits.store.sqlite.connection import connect as lite_connect

from . import pg
from .conftest import available, join, settings_on, violations

pytestmark = pytest.mark.anyio
ADMIN = Actor(is_admin=True)


def _tamper(database: str, sql: str) -> None:
    """Change a row behind the service's back: drop the append-only guard, update, put the guard back."""
    if database.startswith("postgresql://"):
        with psycopg.connect(database, autocommit=True) as remote:
            remote.execute("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_no_update")
            remote.execute(sql.encode())
            remote.execute("ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_no_update")
        return
    conn = sqlite3.connect(database)
    try:
        found = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'ledger_entries_no_update'").fetchone()
        assert found is not None
        conn.execute("DROP TRIGGER ledger_entries_no_update")
        conn.execute(sql)
        conn.execute(found[0])
        conn.commit()
    finally:
        conn.close()


async def test_check_names_the_entry_changed_behind_the_services_back(service: Service, database: str) -> None:
    ann = await join(service, "ann@example.com")
    bob = await join(service, "bob@example.com")
    await service.send_invitation(Actor(ann), SendInvitation(bob))
    await service.adjust_credits(ADMIN, AdjustCredits(ann, 3, "goodwill"))
    assert violations(database) == []
    page = service.ledger(ann, 10, None, None).items
    spend = next(e for e in page if e.reason.value == "INVITATION_SENT")
    _tamper(database, f"UPDATE ledger_entries SET note = 'harmless?' WHERE id = {spend.id}")
    with backend(settings_on(database)).reader() as r:
        found = chain_breaks(r)
    assert len(found) == 1 and ids.encode("LedgerEntry", spend.id) in found[0], found
    assert any("hash chain" in line for line in violations(database))


async def test_two_admins_reversing_one_entry_at_once_make_one_reversal(service: Service, database: str) -> None:
    ann = await join(service, "ann@example.com")
    bob = await join(service, "bob@example.com")
    sent = await service.send_invitation(Actor(ann), SendInvitation(bob))
    assert sent.entry_id is not None
    results = await asyncio.gather(*(service.reverse_ledger_entry(ADMIN, ReverseEntry(sent.entry_id, f"admin {i}"))
                                     for i in range(6)), return_exceptions=True)
    done = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, AlreadyReversed)]
    assert len(done) == 1 and len(refused) == 5, results
    assert await available(service, ann) == 15
    assert violations(database) == []


# -- the migration over a database written before it ------------------------------------------------------
LEGACY = [  # one member: a sign-up lot, a referral lot, an invitation and a negative adjustment that drew on both
    "INSERT INTO members (id, email, name, referral_code, joined_at) VALUES (1, 'a@example.com', 'A', 'AAAA', 1000)",
    "INSERT INTO members (id, email, name, referral_code, joined_at) VALUES (2, 'b@example.com', 'B', 'BBBB', 1000)",
    "INSERT INTO credit_lots (id, member_id, reason, amount, remaining, granted_at, expires_at)"
    " VALUES (1, 1, 'SIGNUP', 15, 0, 1000, 40000000000)",
    "INSERT INTO credit_lots (id, member_id, reason, amount, remaining, granted_at, expires_at)"
    " VALUES (2, 1, 'REFERRAL', 3, 2, 2000, 30000000000)",
    "INSERT INTO credit_lots (id, member_id, reason, amount, remaining, granted_at, expires_at)"
    " VALUES (3, 2, 'SIGNUP', 15, 15, 1000, 40000000000)",
    "INSERT INTO invitations (id, inviter_id, invitee_id, sent_at, credits_spent) VALUES (1, 1, 2, 3000, 1)",
    "INSERT INTO ledger_entries (id, member_id, occurred_at, reason, amount, requested, balance_after, lot_id)"
    " VALUES (1, 1, 1000, 'SIGNUP', 15, 15, 15, 1)",
    "INSERT INTO ledger_entries (id, member_id, occurred_at, reason, amount, requested, balance_after, lot_id)"
    " VALUES (2, 2, 1000, 'SIGNUP', 15, 15, 15, 3)",
    "INSERT INTO ledger_entries (id, member_id, occurred_at, reason, amount, requested, balance_after, lot_id,"
    " referred_member_id) VALUES (3, 1, 2000, 'REFERRAL', 3, 3, 18, 2, 2)",
    "INSERT INTO ledger_entries (id, member_id, occurred_at, reason, amount, requested, balance_after,"
    " invitation_id) VALUES (4, 1, 3000, 'INVITATION_SENT', -1, -1, 17, 1)",
    "INSERT INTO ledger_entries (id, member_id, occurred_at, reason, amount, requested, balance_after, note)"
    " VALUES (5, 1, 4000, 'ADMIN_ADJUSTMENT', -15, -15, 2, 'clean-up')",
]


def _legacy_sqlite(path: Path) -> None:
    conn = lite_connect(path)
    try:
        for number, migration in lite_migrations.migration_files()[:4]:  # the schema before corrections
            conn.execute("BEGIN IMMEDIATE")
            for statement in lite_migrations._statements(migration.read_text(encoding="utf-8")):
                assert isinstance(statement, str)
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
            conn.commit()
        for statement in LEGACY:
            conn.execute(statement)
    finally:
        conn.close()


def _legacy_postgres(url: str) -> None:
    from invite_credits.store.postgres.connection import migration_files

    conn = pg_connect(url)
    try:
        # As the code before corrections left it: its own numbering (1 init, 2 sessions), no `name` column.
        conn.execute("CREATE TABLE schema_migrations (version integer PRIMARY KEY, "
                     "applied_at timestamptz NOT NULL DEFAULT now())")
        files = dict(migration_files())
        for old_number, migration in ((1, files[1]), (2, files[4])):
            with conn.transaction():
                conn.execute(migration.read_text(encoding="utf-8").encode())
                conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (old_number,))
        for statement in LEGACY:
            conn.execute(statement.encode())
        for table in ("members", "credit_lots", "invitations", "ledger_entries"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 100)".encode())
    finally:
        conn.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_the_migration_hashes_existing_chains_and_finds_each_spends_lots(kind: str, tmp_path: Path) -> None:
    if kind == "postgres":
        with pg.fresh_database(migrated=False) as url:
            _legacy_postgres(url)
            remote = pg_connect(url)
            try:
                assert pg_migrate(remote) == [5, 6]  # renumbered as 1 to 4 first: corrections, then events
            finally:
                remote.close()
            await _after_migration(url)
    else:
        path = tmp_path / "legacy.db"
        _legacy_sqlite(path)
        conn = lite_connect(path)
        try:
            assert lite_migrations.migrate(conn)[0] == 5  # the corrections migration, and those after it
        finally:
            conn.close()
        await _after_migration(str(path))


async def _after_migration(database: str) -> None:
    assert violations(database) == []  # every chain recomputes, and the invariants hold
    with backend(settings_on(database)).reader() as r:
        rows = r.all("draws_of_entry", entry_id=5)
        head = r.one("entry_last", member_id=1)
    # The adjustment took the 2 left of the referral lot (it expires first) and 13 of the sign-up lot; the
    # invitation before it took 1 of the referral lot.
    assert [(row["lot_id"], row["amount"]) for row in rows] == [(1, 13), (2, 2)]
    assert head is not None and head["seq"] == 4 and len(head["hash"]) == 64 and head["hash"] != chain.GENESIS
    from .conftest import open_database

    db = open_database(database)
    await db.open()
    service = Service(db)
    try:
        reversed_ = await service.reverse_ledger_entry(ADMIN, ReverseEntry(5, "legacy clean-up undone"))
        assert reversed_.balance is not None and reversed_.balance.available == 17
    finally:
        await db.close()
    assert violations(database) == []


def _plain_json(f: chain.Fields) -> bytes:
    """The canonical encoding as docs/rules.md defines it, by the json module's sorted, compact dump."""
    def ref(kind: str, key: int | None) -> str | None:
        return ids.encode(kind, key) if key is not None else None

    from invite_credits.domain.rules import iso

    document = {"amount": f.amount, "balanceAfter": f.balance_after, "company": ref("Company", f.company_id),
                "contactsCount": f.contacts_count, "creditLot": ref("CreditLot", f.lot_id),
                "invitation": ref("Invitation", f.invitation_id), "member": ids.encode("Member", f.member_id),
                "note": f.note, "occurredAt": iso(f.occurred_at), "post": ref("DiscussionPost", f.post_id),
                "reason": f.reason, "referredMember": ref("Member", f.referred_member_id), "requested": f.requested,
                "reverses": ref("LedgerEntry", f.reverses_id)}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


_KEYS = st.none() | st.integers(min_value=1, max_value=10**15)


@settings(max_examples=300, deadline=None)
@given(member=st.integers(min_value=1, max_value=10**15), at=st.integers(min_value=0, max_value=253402300799),
       reason=st.sampled_from(["SIGNUP", "INVITATION_SENT", "REVERSAL", "LOT_EXTENDED"]),
       amount=st.integers(-1000, 1000), requested=st.integers(-1000, 1000), balance=st.integers(0, 10**6),
       lot=_KEYS, invitation=_KEYS, company=_KEYS, post=_KEYS, referred=_KEYS, contacts=_KEYS,
       note=st.none() | st.text(), reverses=_KEYS)
def test_the_fast_canonical_encoding_is_the_documented_json(
        member: int, at: int, reason: str, amount: int, requested: int, balance: int, lot: int | None,
        invitation: int | None, company: int | None, post: int | None, referred: int | None, contacts: int | None,
        note: str | None, reverses: int | None) -> None:
    fields = chain.Fields(member, at, reason, amount, requested, balance, lot, invitation, company, post, referred,
                          contacts, note, reverses)
    assert chain.canonical(fields) == _plain_json(fields)
