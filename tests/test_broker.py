"""Events to NATS JetStream, with a nats-server the test starts on its own port: every event arrives once (by
Nats-Msg-Id), subject invite_credits.<type>, and a broker restart under load loses nothing."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from invite_credits import auth

from .conftest import LIVE_SECRET, LiveServer, free_port, start_server
from .test_concurrency import SEND, gql, sign_up

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"


class Nats:
    def __init__(self, store: Path) -> None:
        self.port = free_port()
        self.store = store
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen([NATS_SERVER, "-js", "-a", "127.0.0.1", "-p", str(self.port),
                                         "-sd", str(self.store)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                import socket

                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nats-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Nats]:
    if not os.path.exists(NATS_SERVER):
        if os.environ.get("CI"):
            pytest.fail("nats-server is needed for the broker tests in CI")
        pytest.skip("nats-server is missing: the broker tests need it")
    server = Nats(tmp_path / "jetstream")
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def stream_messages(url: str) -> list[tuple[str, str]]:
    """(subject, Nats-Msg-Id) of every message in the stream, in order."""
    import nats

    connection = await nats.connect(url)
    try:
        js = connection.jetstream()
        info = await js.stream_info("INVITE_CREDITS")
        found = []
        for sequence in range(info.state.first_seq, info.state.last_seq + 1):
            message = await js.get_msg("INVITE_CREDITS", sequence)
            found.append((str(message.subject), str((message.headers or {}).get("Nats-Msg-Id", ""))))
        return found
    finally:
        await connection.close()


async def feed_ids(client: httpx.AsyncClient, admin: str) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        page = (await gql(client, "query($a: String) { events(first: 100, after: $a) { edges { node { id } } "
                                  "pageInfo { hasNextPage endCursor } } }", {"a": after}, admin))["events"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


async def test_every_event_reaches_jetstream_once_through_a_broker_restart(broker: Nats, tmp_path: Path) -> None:
    server: LiveServer = start_server(tmp_path / "app.db", INVITE_CREDITS_NATS_URL=broker.url)
    admin = auth.admin_token(LIVE_SECRET, 600)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            members = [await sign_up(client, f"m{i}@example.com") for i in range(6)]
            restarted = False
            for round_ in range(4):
                await asyncio.gather(*(gql(client, SEND, {"i": {"inviteeId": members[(i + round_ + 1) % 6][0]}},
                                           token) for i, (_, token) in enumerate(members)))
                if round_ == 1 and not restarted:  # the broker goes away under load, and comes back
                    broker.stop()
                    await asyncio.gather(*(sign_up(client, f"during{i}@example.com") for i in range(4)))
                    broker.start()
                    restarted = True
            expected = await feed_ids(client, admin)
            deadline = time.monotonic() + 30
            while True:
                found = await stream_messages(broker.url)
                if len(found) >= len(expected) or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
    finally:
        server.stop()
    ids = [msg_id for _, msg_id in found]
    assert len(ids) == len(set(ids)) and set(ids) == set(expected), (len(ids), len(expected))
    subjects = {subject for subject, _ in found}
    assert {"invite_credits.member_signed_up", "invite_credits.ledger_entry_added",
            "invite_credits.invitation_sent"} <= subjects
