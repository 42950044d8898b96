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


# -- one deployment a port, one view of its workers, start-up failures that stop (issue 22) ------------------
def _serve(db: Path, port: int, *args: str, **env: str) -> subprocess.Popen[str]:
    script = Path(sys.executable).with_name("invite-credits")
    return subprocess.Popen([str(script), "serve", "--db", str(db), "--port", str(port), *args],
                            env={**os.environ, "INVITE_CREDITS_JWT_SECRET": LIVE_SECRET, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.communicate()


@pytest.mark.slow
def test_a_second_deployment_on_the_port_is_refused(tmp_path: Path) -> None:
    port = free_port()
    first = _serve(tmp_path / "one.db", port, "--workers", "2")
    try:
        wait_until_ready(f"http://127.0.0.1:{port}", first, "/readyz")  # type: ignore[arg-type]
        for args in (["--workers", "2"], []):
            second = _serve(tmp_path / "two.db", port, *args)
            _, err = second.communicate(timeout=60)
            assert second.returncode == 2 and "Traceback" not in err
            lines = err.strip().splitlines()
            assert len(lines) == 1 and "cannot listen" in lines[0] and str(port) in lines[0], err
        for _ in range(10):  # every connection reaches the first deployment's database
            assert httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": "{ policy { balanceCap } }"},
                              headers={"connection": "close"}).status_code == 200
    finally:
        _stop(first)


@pytest.mark.slow
def test_metrics_sum_every_worker_and_never_go_back(two_workers: str) -> None:
    sent = 0
    totals = []
    for _ in range(10):
        for _ in range(3):  # new connections: the kernel spreads them over both workers
            httpx.post(two_workers + "/graphql", json={"query": "{ policy { balanceCap } }"},
                       headers={"connection": "close"})
            sent += 1
        text = httpx.get(two_workers + "/metrics", headers={"connection": "close"}).text
        total = sum(float(line.split()[-1]) for line in text.splitlines()
                    if line.startswith("invite_credits_graphql_requests_total{") and 'operation="policy"' in line)
        totals.append(total)
    assert totals == sorted(totals) and totals[-1] == sent, totals
    assert "invite_credits_graphql_request_seconds_bucket" in text  # histograms merge too


@pytest.mark.parametrize("kind", ["certificate", "private key", "not PEM"])
def test_a_bad_public_key_file_stops_serve_in_one_line(tmp_path: Path, kind: str) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.test")])
    now = __import__("datetime").datetime.now(__import__("datetime").UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(1).not_valid_before(now).not_valid_after(now).sign(key, hashes.SHA256()))
    pem = tmp_path / "key.pem"
    pem.write_bytes({
        "certificate": certificate.public_bytes(serialization.Encoding.PEM),
        "private key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()),
        "not PEM": b"hello",
    }[kind])
    for workers in ("1", "2"):
        process = _serve(tmp_path / "k.db", free_port(), "--workers", workers,
                         INVITE_CREDITS_JWT_PUBLIC_KEY_FILE=str(pem))
        _, err = process.communicate(timeout=60)
        lines = err.strip().splitlines()
        assert process.returncode == 2 and len(lines) == 1, err  # no banner, no traceback, no restarts
        assert "INVITE_CREDITS_JWT_PUBLIC_KEY_FILE" in lines[0] and "Traceback" not in err


def failing_worker(settings: object, sock: object, ready: object, failures: object) -> None:
    """A worker that fails at start-up, as one whose database went away would."""
    import logging

    logging.getLogger("invite_credits.server").error("worker failed to start: the database went away")
    failures.put("worker failed to start: the database went away")  # type: ignore[attr-defined]
    raise SystemExit(2)


def test_a_worker_failing_at_start_up_twice_stops_the_supervisor(tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    from invite_credits.server import Supervisor, bind
    from invite_credits.settings import Settings

    settings = Settings(db_path=tmp_path / "f.db", port=free_port(), jwt_secret=LIVE_SECRET)
    sockets = bind(settings, 2)
    started = time.monotonic()
    try:
        code = Supervisor(settings, sockets, target=failing_worker).run()
    finally:
        for sock in sockets:
            sock.close()
    assert code == 2 and time.monotonic() - started < 30
    stopped = [r.getMessage() for r in caplog.records if "twice in a row" in r.getMessage()]
    assert stopped and "the database went away" in stopped[0]
