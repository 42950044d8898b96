"""Writes on PostgreSQL in few round trips (psycopg's pipeline mode, reads declared ahead, writes sent with the
next answer): each member mutation waits for the server at most four times, commit included, and what goes
out early never answers a read with what a write of the same transaction since changed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import psycopg
import pytest

from invite_credits.domain.access import Actor
from invite_credits.domain.policy import DiscussionKind, InvitationStatus
from invite_credits.service import (
    AnswerInvitation,
    Contact,
    CreateCompany,
    FollowUpInvitation,
    ImportContacts,
    PostDiscussion,
    ProfileUpdate,
    SendInvitation,
    Service,
    SignUp,
)
from invite_credits.store import ahead, postgres
from invite_credits.store.postgres.connection import trigger_writes
from invite_credits.store.protocol import Tx
from invite_credits.store.sqlite.database import Database as SqliteDatabase

from . import pg
from .conftest import ADMIN, T0, violations

pytestmark = pytest.mark.anyio


class Trips:
    """A write observer that keeps the round trips of each committed write."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def write_round_trips(self, count: int) -> None:
        self.seen.append(count)

    def __getattr__(self, name: str) -> Any:
        return lambda *args: None


@pytest.fixture
def url() -> Iterator[str]:
    pg.require_server()
    with pg.fresh_database() as fresh:
        yield fresh


@pytest.fixture
async def counted(url: str) -> AsyncIterator[tuple[Service, Trips]]:
    trips = Trips()
    store = postgres.Database(url, test_clock=True, test_start=T0, observer=trips)
    await store.open()
    yield Service(store), trips
    await store.close()


async def _trips(trips: Trips, call: Any) -> int:
    trips.seen.clear()
    await call
    assert len(trips.seen) == 1, "one write"
    return trips.seen[0]


async def test_every_member_mutation_waits_for_the_server_at_most_four_times(counted: tuple[Service, Trips],
                                                                            url: str) -> None:
    service, trips = counted
    ann = (await service.sign_up(Actor(), SignUp("ann@example.com", "Ann"))).member_id
    bob = (await service.sign_up(Actor(), SignUp("bob@example.com", "Bob"))).member_id
    cid = (await service.create_company(ADMIN, CreateCompany("Acme", "acme"))).company_id
    assert ann is not None and bob is not None and cid is not None
    a, b = Actor(ann), Actor(bob)
    calls = {
        "signUp": service.sign_up(Actor(), SignUp("cy@example.com", "Cy")),
        "signUp, keyed": service.sign_up(Actor(), SignUp("di@example.com", "Di"), key="k1"),
        "sendInvitation": service.send_invitation(a, SendInvitation(bob, "hello")),
        "sendInvitation, keyed": service.send_invitation(b, SendInvitation(3, "hi"), key="k2"),
        "followUpInvitation": service.follow_up_invitation(a, FollowUpInvitation(1, "again")),
        "acceptInvitation": service.answer_invitation(b, AnswerInvitation(1, InvitationStatus.ACCEPTED)),
        "importContacts": service.import_contacts(a, ImportContacts((Contact("x@example.com"),))),
        "followCompany": service.follow_company(a, cid),
        "postDiscussion": service.post_discussion(a, PostDiscussion(DiscussionKind.COMMENT, "a thought")),
        "updateProfile": service.update_profile(a, ProfileUpdate(headline="Engineer")),
    }
    measured = {name: await _trips(trips, call) for name, call in calls.items()}
    assert {name: n for name, n in measured.items() if n > 4} == {}, measured
    assert violations(url) == []


@pytest.fixture
async def ann(url: str) -> AsyncIterator[tuple[postgres.Database, int]]:
    """A store on a new database with the test clock, and one member on it."""
    store = postgres.Database(url, test_clock=True, test_start=T0)
    await store.open()
    try:
        member = (await Service(store).sign_up(Actor(), SignUp("ann@example.com", "Ann"))).member_id
        assert member is not None
        yield store, member
    finally:
        await store.close()


async def test_a_read_sent_ahead_is_dropped_by_a_write_to_its_table(ann: tuple[postgres.Database, int]) -> None:
    store, member = ann

    def write(tx: Tx) -> tuple[str, str]:
        def reads(r: Tx) -> None:
            r.one("member_by_id", id=member)
        tx.ahead(reads)
        tx.run("member_set_profile", id=member, name="Renamed", headline=None, about=None, location=None,
               experience="[]", education="[]", skills="[]")
        after = tx.one("member_by_id", id=member)
        tx.ahead(reads)
        tx.run("test_clock_set", now=T0 + 5)  # another table: the read sent ahead stands
        again = tx.one("member_by_id", id=member)
        assert after is not None and again is not None
        return after["name"], again["name"]

    assert await store.write(write) == ("Renamed", "Renamed")


async def test_a_read_made_again_is_answered_from_the_first_until_a_write_changes_its_table(
        ann: tuple[postgres.Database, int]) -> None:
    """The second ask of the same read sends nothing; a write to a table it reads (itself or through a trigger)
    makes the next ask go to the database; a sequence drawn twice gives two ids."""
    store, member = ann

    def write(tx: Tx) -> tuple[list[str], int, list[int]]:
        sent: list[str] = []
        real = tx.conn.execute  # type: ignore[attr-defined]

        def execute(sql: str, *args: Any, **kw: Any) -> Any:
            sent.append(sql)
            return real(sql, *args, **kw)

        tx.conn.execute = execute  # type: ignore[attr-defined]
        names = [tx.one("member_by_id", id=member)["name"], tx.one("member_by_id", id=member)["name"]]  # type: ignore[index]
        tx.run("test_clock_set", now=T0 + 5)  # another table: the first answer stands
        names.append(tx.one("member_by_id", id=member)["name"])  # type: ignore[index]
        tx.run("member_set_profile", id=member, name="Renamed", headline=None, about=None, location=None,
               experience="[]", education="[]", skills="[]")
        names.append(tx.one("member_by_id", id=member)["name"])  # type: ignore[index]
        reads = sum(sql == store.queries["member_by_id"].sql for sql in sent)
        ids = [int(tx.one("invitation_next_id")["id"]) for _ in range(2)]  # type: ignore[index]
        return names, reads, ids

    names, reads, ids = await store.write(write)
    assert names == ["Ann", "Ann", "Ann", "Renamed"] and reads == 2
    assert ids[0] != ids[1]


def test_triggers_are_followed_to_the_tables_they_write() -> None:
    written = trigger_writes()
    assert {"member_heads", "events", "webhook_deliveries"} <= written["ledger_entries"]
    assert {"events", "webhook_deliveries"} <= written["invitations"]
    assert written["events"] == {"webhook_deliveries"}


async def test_a_write_sent_early_that_fails_fails_the_transaction_and_keeps_nothing(url: str) -> None:
    store = postgres.Database(url, test_clock=True, test_start=T0)
    await store.open()
    try:
        def write(tx: Tx) -> None:
            tx.run("test_clock_set", now=T0 + 60)
            tx.run_later("lot_draw", expect=1, id=999, amount=1)  # no such lot: 0 rows

        with pytest.raises(RuntimeError, match="lot_draw changed 0 rows, not 1"):
            await store.write(write)
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT now FROM test_clock").fetchone()
            assert row is not None and row[0] == T0
        # the connection went back to the pool clean: the next write commits
        await store.set_test_time(T0 + 120)
        assert store.now() == T0 + 120
    finally:
        await store.close()


async def test_sqlite_checks_a_write_sent_later_at_once(tmp_path: Any) -> None:
    store = SqliteDatabase(tmp_path / "t.db")
    await store.open()
    try:
        def write(tx: Tx) -> None:
            tx.ahead(lambda r: r.one("member_by_id", id=1))  # nothing to send together: ignored
            tx.run_later("lot_draw", expect=1, id=999, amount=1)

        with pytest.raises(RuntimeError, match="lot_draw changed 0 rows, not 1"):
            await store.write(write)
    finally:
        await store.close()


def test_only_reads_are_declared_ahead() -> None:
    recorder = ahead.Recorder(T0)
    assert recorder.one("member_by_id", id=1) is None and recorder.all("members_lock", ids="[1]") == []
    assert recorder.calls == [("member_by_id", {"id": 1}), ("members_lock", {"ids": "[1]"})]
    for write in (lambda: recorder.run("lot_draw", id=1, amount=1), lambda: recorder.insert("lot_insert"),
                  lambda: recorder.run_later("lot_draw")):
        with pytest.raises(TypeError, match="cannot be declared ahead"):
            write()
    assert ahead.key("q", {"ids": [1]}) is None  # a list cannot be compared: that read is not matched


def _statements(tx: Tx, store: postgres.Database) -> list[str]:
    """The names of the queries `tx` sends from now on."""
    names = {query.sql: name for name, query in store.queries.items()}
    sent: list[str] = []
    real = tx.conn.execute  # type: ignore[attr-defined]

    def execute(sql: str, *args: Any, **kw: Any) -> Any:
        sent.append(names.get(sql, sql))
        return real(sql, *args, **kw)

    tx.conn.execute = execute  # type: ignore[attr-defined]
    return sent


async def test_the_members_lock_answers_the_member_reads_until_a_write_changes_members(
        ann: tuple[postgres.Database, int]) -> None:
    """The rows the lock returns answer member_by_id, for a member it did not find too (none); sent ahead beside the
    lock, those reads do not go out; a write to members makes the next read go to the database."""
    store, member = ann

    def write(tx: Tx) -> tuple[list[str], list[Any]]:
        sent = _statements(tx, store)

        def reads(r: Tx) -> None:
            r.all("members_lock", ids=f"[{member}, 999999]")
            r.one("member_by_id", id=member)
            r.one("member_by_id", id=999999)
        tx.ahead(reads)
        tx.all("members_lock", ids=f"[{member}, 999999]")
        seen: list[Any] = [tx.one("member_by_id", id=member)["name"], tx.one("member_by_id", id=999999)]  # type: ignore[index]
        tx.run("member_set_profile", id=member, name="Renamed", headline=None, about=None, location=None,
               experience="[]", education="[]", skills="[]")
        seen.append(tx.one("member_by_id", id=member)["name"])  # type: ignore[index]
        return sent, seen

    sent, seen = await store.write(write)
    assert seen == ["Ann", None, "Renamed"]
    assert sent == ["members_lock", "member_set_profile", "member_by_id"]


async def test_an_insert_answers_the_read_of_what_it_wrote_until_a_write_changes_it(
        ann: tuple[postgres.Database, int]) -> None:
    """invitation_insert returns its row: the invitation's read is answered from it, not sent (ahead or not); an
    update of invitations after it, before or after that read, sends the next read to the database."""
    store, ann_id = ann
    bob = (await Service(store).sign_up(Actor(), SignUp("bob@example.com", "Bob"))).member_id
    cy = (await Service(store).sign_up(Actor(), SignUp("cy@example.com", "Cy"))).member_id

    def invite(tx: Tx, invitee: int | None) -> int:
        id = int(tx.one("invitation_next_id")["id"])  # type: ignore[index]
        tx.run_later("invitation_insert", expect=1, id=id, inviter_id=ann_id, invitee_id=invitee, message=None,
                     sent_at=tx.now, credits_spent=1)
        return id

    def answered_at_once(tx: Tx) -> tuple[list[str], list[str]]:
        id = invite(tx, bob)
        sent = _statements(tx, store)
        tx.ahead(lambda r: r.one("invitation_by_id", id=id))
        seen = [tx.one("invitation_by_id", id=id)["status"]]  # type: ignore[index]
        tx.run("invitation_answer", id=id, status="DECLINED", responded_at=tx.now)
        seen.append(tx.one("invitation_by_id", id=id)["status"])  # type: ignore[index]
        return sent, seen

    def changed_before_the_read(tx: Tx) -> tuple[list[str], list[str]]:
        id = invite(tx, cy)
        sent = _statements(tx, store)
        tx.run_later("invitation_answer", expect=1, id=id, status="WITHDRAWN", responded_at=tx.now)
        return sent, [tx.one("invitation_by_id", id=id)["status"]]  # type: ignore[index]

    assert await store.write(answered_at_once) == (["invitation_answer", "invitation_by_id"], ["PENDING", "DECLINED"])
    assert await store.write(changed_before_the_read) == (["invitation_answer", "invitation_by_id"], ["WITHDRAWN"])


async def test_a_send_reads_back_neither_its_members_nor_what_it_wrote(counted: tuple[Service, Trips],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The lock answers the two members, the inserts answer the payload's invitation and entry: none of those reads
    goes out, and the payload shows what was written."""
    service, _ = counted
    ann = (await service.sign_up(Actor(), SignUp("ann@example.com", "Ann"))).member_id
    bob = (await service.sign_up(Actor(), SignUp("bob@example.com", "Bob"))).member_id
    assert ann is not None and bob is not None
    sent: list[str] = []
    real = postgres.PgTx._send

    def send(tx: postgres.PgTx, query: str, params: dict[str, Any]) -> Any:
        sent.append(query)
        return real(tx, query, params)

    monkeypatch.setattr(postgres.PgTx, "_send", send)
    outcome = await service.send_invitation(Actor(ann), SendInvitation(bob, "hello"))
    assert {"member_by_id", "invitation_by_id", "entry_by_id"} & set(sent) == set(), sent
    snap, invitation = outcome.snapshot, outcome.invitation_id
    assert snap is not None and invitation is not None and outcome.entry_id is not None
    assert (snap.members[ann].name, snap.members[bob].name) == ("Ann", "Bob")
    assert (snap.invitations[invitation].status, snap.invitations[invitation].message) == (InvitationStatus.PENDING,
                                                                                          "hello")
    assert (snap.entries[outcome.entry_id].amount, snap.entries[outcome.entry_id].invitation_id) == (-1, invitation)
