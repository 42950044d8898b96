"""Serving over TCP: TCP_NODELAY on every connection, workers that split connections and share one clock."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from invite_credits import auth
from invite_credits.server import ListenError, listen_socket

from .conftest import LIVE_SECRET, free_port, wait_until_ready
from .http import SIGN_UP


def test_accepted_connections_get_tcp_nodelay() -> None:
    """asyncio sets TCP_NODELAY only on sockets made with IPPROTO_TCP: the bug uvicorn's own socket has."""
    sock = listen_socket("127.0.0.1", 0, reuse_port=True)
    port = sock.getsockname()[1]
    seen: list[int] = []

    async def main() -> None:
        async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.append(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(accepted, sock=sock)
        async with server:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            for _ in range(100):
                if seen:
                    break
                await asyncio.sleep(0.01)
            writer.close()

    asyncio.run(main())
    assert seen and seen[0] != 0


def test_a_taken_port_is_one_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ListenError, match="Address already in use"):
            listen_socket("127.0.0.1", taken.getsockname()[1], reuse_port=False)


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    script = Path(sys.executable).with_name("invite-credits")
    process = subprocess.Popen(
        [str(script), "serve", "--db", str(tmp_path / "w.db"), "--port", str(port), "--workers", "2"],
        env={**os.environ, "INVITE_CREDITS_JWT_SECRET": LIVE_SECRET, "INVITE_CREDITS_TEST_CLOCK": "1"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, process, "/readyz")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            raise


@pytest.mark.slow
def test_two_workers_answer_kept_alive_connections_without_a_delayed_ack_stall(two_workers: str) -> None:
    with httpx.Client(base_url=two_workers) as client:  # one kept-alive connection, as a browser holds it
        token = client.post("/graphql", json={"query": SIGN_UP, "variables": {"input": {
            "email": "w@example.com", "name": "W"}}}).json()["data"]["signUp"]["token"]
        headers = {"authorization": f"Bearer {token}"}
        timings = []
        for _ in range(40):
            started = time.perf_counter()
            assert client.post("/graphql", json={"query": "{ viewer { balance { available } } }"},
                               headers=headers).status_code == 200
            timings.append(time.perf_counter() - started)
    # A stalled response waits for the client's delayed ACK: ~40 ms each. Unstalled: a few ms.
    assert statistics.median(timings) < 0.02, timings


@pytest.mark.slow
def test_every_worker_serves_the_test_clock_moved_through_another(two_workers: str) -> None:
    admin = auth.admin_token(LIVE_SECRET, 600)
    signed = httpx.post(two_workers + "/graphql", json={"query": SIGN_UP, "variables": {"input": {
        "email": "c@example.com", "name": "C"}}}).json()["data"]["signUp"]
    moved = httpx.post(two_workers + "/graphql", headers={"authorization": f"Bearer {admin}"}, json={
        "query": 'mutation { advanceTestClock(input: {to: "2031-03-01T00:00:00Z"}) { now userErrors { code } } }'})
    assert moved.json()["data"]["advanceTestClock"]["now"] == "2031-03-01T00:00:00Z"
    seen = set()
    for _ in range(12):  # a new connection each time: the kernel spreads them over both workers
        body = httpx.post(two_workers + "/graphql", headers={"authorization": f"Bearer {signed['token']}"},
                          json={"query": "{ viewer { balance { asOf available } } }"}).json()
        seen.add((body["data"]["viewer"]["balance"]["asOf"], body["data"]["viewer"]["balance"]["available"]))
    assert seen == {("2031-03-01T00:00:00Z", 0)}  # and the sign-up credits expired on every worker
