"""A slow or stalled PostgreSQL never freezes a server process (issue 21, item 6).

- A database that stops answering for 8 s (a proxy between the server and PostgreSQL stops forwarding, as a
  SIGSTOPped cluster or a network partition would look to the client): /healthz keeps answering within 100 ms,
  and every request is answered, with data or SERVICE_UNAVAILABLE, within its deadline.
- A read made slow on purpose (pg_sleep) holds its own request only: other requests' reads are not delayed.
- The reads of HTTP requests, queries and mutations alike, never wait on the event loop: each is a job whose
  waits go to the loop (store/postgres/greenlets.py), or runs on a reader thread.
"""

from __future__ import annotations

import gc
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from invite_credits import auth
from invite_credits.http.app import create_app
from invite_credits.service import Service
from invite_credits.settings import Settings
from invite_credits.store.postgres.reads import DEADLINES

from . import pg
from .conftest import LIVE_SECRET, start_server
from .http import Api

SIGN_UP = 'mutation($e: String!) { signUp(input: {email: $e, name: "Stall"}) { member { id } token } }'
BALANCE = "{ viewer { balance { available } } }"


class FreezingProxy:
    """A TCP proxy to PostgreSQL that can stop forwarding without closing anything: to the server process the
    database looks stalled, as a SIGSTOPped cluster does (the kernel still holds the connections open)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = threading.Event()
        self.open.set()
        self.closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, database_url: str) -> str:
        host = f"{self.target[0]}:{self.target[1]}"
        return database_url.replace(host, f"127.0.0.1:{self.port}")

    def _accept(self) -> None:
        while not self.closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                self.open.wait()  # frozen: the bytes wait here, and nothing else is read
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def close(self) -> None:
        self.closing = True
        self.open.set()
        self.listener.close()


@pytest.fixture
def proxied_database() -> Iterator[tuple[FreezingProxy, str]]:
    with pg.fresh_database() as url:
        host, _, port = url.split("@")[1].split("/")[0].partition(":")
        proxy = FreezingProxy((host, int(port or 5432)))
        try:
            yield proxy, proxy.url(url)
        finally:
            proxy.close()


def _post(url: str, query: str, token: str | None = None, variables: dict[str, Any] | None = None) -> tuple[float, Any]:
    started = time.monotonic()
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(url + "/graphql", json={"query": query, "variables": variables or {}}, headers=headers,
                          timeout=60)
    return time.monotonic() - started, response.json()


def _codes(body: Any) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


def test_a_stalled_database_leaves_healthz_answering_and_every_request_answered_in_time(
        proxied_database: tuple[FreezingProxy, str]) -> None:
    proxy, url = proxied_database
    server = start_server(url, INVITE_CREDITS_DB_CONNECTIONS="4")
    try:
        signed = _post(server.url, SIGN_UP, variables={"e": "stall@example.com"})[1]["data"]["signUp"]
        token = signed["token"]
        assert _post(server.url, BALANCE, token)[1] == {"data": {"viewer": {"balance": {"available": 15}}}}
        proxy.open.clear()
        frozen_at = time.monotonic()
        with ThreadPoolExecutor(max_workers=12) as pool:
            reads = [pool.submit(_post, server.url, BALANCE, token) for _ in range(8)]
            writes = [pool.submit(_post, server.url, SIGN_UP, None, {"e": f"w{i}@example.com"}) for i in range(2)]
            health = []
            # The server's latency, not this process's: after hundreds of tests, one of pytest's own full garbage
            # collections can take longer than the bound.
            gc.disable()
            try:
                with httpx.Client(base_url=server.url, timeout=5) as probe:  # one kept-alive connection, as a prober
                    while time.monotonic() - frozen_at < 8:
                        started = time.monotonic()
                        assert probe.get("/healthz").status_code == 200
                        health.append(time.monotonic() - started)
                        time.sleep(0.1)
            finally:
                gc.enable()
            proxy.open.set()
            answered = [(f.result(), DEADLINES["read"]) for f in reads] + [(f.result(), DEADLINES["write"])
                                                                            for f in writes]
        slowest = max(range(len(health)), key=health.__getitem__)
        assert len(health) > 40 and health[slowest] < 0.1, (
            f"/healthz took {health[slowest] * 1000:.0f} ms, probe {slowest} of {len(health)}")
        for (seconds, body), deadline in answered:
            assert seconds < deadline + 1.5, (seconds, body)
            assert body.get("data") or _codes(body) == ["SERVICE_UNAVAILABLE"], body
        assert any(_codes(body) == ["SERVICE_UNAVAILABLE"] for (_, body), _ in answered)  # the stall was felt
        # And once the database answers again, so does the server.
        deadline = time.monotonic() + 20
        while _post(server.url, BALANCE, token)[1].get("data") is None:
            assert time.monotonic() < deadline, "the server did not recover"
            time.sleep(0.5)
    finally:
        proxy.open.set()
        server.stop()


def test_a_slow_read_does_not_delay_the_reads_of_other_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    with pg.fresh_database() as url, \
            TestClient(create_app(Settings(db_url=url, jwt_secret=LIVE_SECRET, sweep_interval_seconds=3600))) as c:
        api = Api(c)
        _, slow_token = api.sign_up("slow@example.com", "Slow")
        _, fast_token = api.sign_up("fast@example.com", "Fast")
        real = Service.balance

        def balance(self: Service, member: Any) -> Any:
            if member.email == "slow@example.com":
                self.db.reader.conn.execute("SELECT pg_sleep(2)")  # type: ignore[attr-defined]
            return real(self, member)

        monkeypatch.setattr(Service, "balance", balance)
        with ThreadPoolExecutor(max_workers=4) as pool:
            slow = pool.submit(api.data, BALANCE, token=slow_token)
            time.sleep(0.3)  # the slow read is running
            started = time.monotonic()
            for _ in range(5):
                assert api.data(BALANCE, token=fast_token) == {"viewer": {"balance": {"available": 15}}}
            fast = time.monotonic() - started
            assert not slow.done(), "the slow read was not slow"
            assert slow.result() == {"viewer": {"balance": {"available": 15}}}
        assert fast < 1.0, f"five reads took {fast:.2f} s beside a 2 s read"


def test_a_member_locked_elsewhere_holds_up_no_other_members_requests() -> None:
    """Twelve mutations of one member whose row another transaction holds (more than the process has reader
    threads): one waits on the database, the others in the process holding no thread, so another member's read
    and mutation answer at once (issue 21, item 7)."""
    import psycopg

    with pg.fresh_database() as url, \
            TestClient(create_app(Settings(db_url=url, jwt_secret=LIVE_SECRET, sweep_interval_seconds=3600,
                                           member_mutations_per_minute=0))) as c:
        api = Api(c)
        _, locked_token = api.sign_up("locked@example.com", "Locked")
        _, other_token = api.sign_up("other@example.com", "Other")
        profile = 'mutation { updateProfile(input: {headline: "Here"}) { userErrors { code } } }'
        with ThreadPoolExecutor(max_workers=14) as pool:
            with psycopg.connect(url, autocommit=False) as holder:
                holder.execute("SELECT id FROM members WHERE email = 'locked@example.com' FOR UPDATE")
                waiting = [pool.submit(api.data, profile, token=locked_token) for _ in range(12)]
                time.sleep(0.5)  # they are all in
                started = time.monotonic()
                read = pool.submit(api.data, BALANCE, token=other_token)
                write = pool.submit(api.data, profile, token=other_token)
                try:
                    answered = [read.result(timeout=2), write.result(timeout=2)]
                except TimeoutError:
                    answered = []
                other = time.monotonic() - started
                still_waiting = not any(w.done() for w in waiting)
                holder.rollback()  # before any assertion: a failing test must not leave the writes waiting
            assert answered == [{"viewer": {"balance": {"available": 15}}}, {"updateProfile": {"userErrors": []}}], \
                f"another member's read and write took {other:.2f} s beside a locked member"
            assert other < 1.0, f"another member's read and write took {other:.2f} s beside a locked member"
            assert still_waiting, "the locked member's writes did not wait"
            assert all(w.result() == {"updateProfile": {"userErrors": []}} for w in waiting)


@pytest.fixture
def counted() -> Iterator[tuple[TestClient, Api, Any]]:
    """An app on a new PostgreSQL database, its API, and its store (which counts the reads made on a loop)."""
    with pg.fresh_database() as url, \
            TestClient(create_app(Settings(db_url=url, jwt_secret=LIVE_SECRET, sweep_interval_seconds=3600))) as c:
        yield c, Api(c), c.app.state.app_state.service.db  # type: ignore[attr-defined]


def test_http_requests_read_nothing_on_the_event_loop(counted: tuple[TestClient, Api, Any]) -> None:
    _, api, db = counted
    member_id, token = api.sign_up("loop@example.com", "Loop")
    other_id, _ = api.sign_up("other@example.com", "Other")
    before = db.loop_reads
    admin = auth.admin_token(LIVE_SECRET, 60)
    api.data("{ viewer { name balance { available } ledger(first: 5) { edges { node { reason amount } } } "
             "earning { reason earned } } }", token=token)
    api.data(f'mutation {{ sendInvitation(input: {{inviteeId: "{other_id}"}}) {{ invitation {{ id invitee '
             '{ name } } balance { available } userErrors { code } } }', token=token)
    api.data('query($m: ID!) { member(id: $m) { name balance { available } } }', {"m": member_id}, token=admin)
    assert db.loop_reads == before, f"{db.loop_reads - before} reads ran on the event loop"


def test_a_subscription_event_reads_nothing_on_the_event_loop(counted: tuple[TestClient, Api, Any]) -> None:
    """ledgerEntryAdded's nested fields (the invitation, its invitee, the lot) read the store: each event is
    completed on a reader thread, as an operation is."""
    c, api, db = counted
    _, token = api.sign_up("live@example.com", "Live")
    other_id, _ = api.sign_up("other@example.com", "Other")
    with c.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json({"id": "e", "type": "subscribe", "payload": {"query": (
            "subscription { ledgerEntryAdded { reason amount invitation { invitee { name } status } "
            "creditLot { remaining } } }")}})
        time.sleep(0.5)  # the subscription has read its starting point
        before = db.loop_reads
        api.data(f'mutation {{ sendInvitation(input: {{inviteeId: "{other_id}"}}) {{ userErrors {{ code }} }} }}',
                 token=token)
        message = ws.receive_json()
        while message["type"] in ("ping", "pong"):
            message = ws.receive_json()
        assert message["payload"]["data"]["ledgerEntryAdded"] == {
            "reason": "INVITATION_SENT", "amount": -1, "invitation": {"invitee": {"name": "Other"},
                                                                       "status": "PENDING"}, "creditLot": None}
        assert db.loop_reads == before, f"{db.loop_reads - before} reads ran on the event loop"
        ws.send_json({"id": "e", "type": "complete"})


def test_a_query_whose_plan_never_awaits_is_one_job_and_one_that_awaits_runs_on_a_reader_thread(
        counted: tuple[TestClient, Api, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """A query with a compiled plan runs as one read job (no reader thread, no loop of its own); `policy`, whose
    resolver is a coroutine, goes to a reader thread. Both answer as before."""
    client, api, db = counted
    _, token = api.sign_up("jobs@example.com", "Jobs")
    threaded: list[str] = []
    real = db.offload_async

    def offload_async(fn: Any, kind: str = "read") -> Any:
        threaded.append(kind)
        return real(fn, kind)

    monkeypatch.setattr(db, "offload_async", offload_async)
    before = db.loop_reads
    data = api.data("{ viewer { name balance { available } } }", token=token)
    assert data["viewer"]["name"] == "Jobs" and threaded == []
    assert api.data("{ policy { invitationCost } }", token=token)["policy"]["invitationCost"] == 1
    assert threaded == ["read"] and db.loop_reads == before
