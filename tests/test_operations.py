"""Operating it: production switches, browsers on other origins, and the refusals an operator meets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from invite_credits import auth
from invite_credits.http.app import create_app
from invite_credits.settings import Settings

from .http import Api, codes

SECRET = "operations-secret-that-is-long-enough-for-hs256"
INTROSPECTION = "{ __schema { queryType { name } } }"


def client(tmp_path: Path, **changes: Any) -> TestClient:
    settings = Settings(db_path=tmp_path / "ops.db", jwt_secret=SECRET, synchronous="OFF", sweep_interval_seconds=3600,
                        **changes)
    return TestClient(create_app(settings))


@pytest.fixture
def locked(tmp_path: Path) -> Iterator[Api]:
    with client(tmp_path, graphiql=False, introspection=False) as c:
        yield Api(c)


def test_graphiql_and_introspection_can_be_switched_off(locked: Api) -> None:
    page = locked.client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 404 and "graphiql" not in page.text.lower()
    for query in (INTROSPECTION, '{ __type(name: "Member") { name } }',
                  "{ ...F } fragment F on Query { __schema { types { name } } }"):
        refused = locked.gql(query)
        assert codes(refused) == ["GRAPHQL_VALIDATION_FAILED"] and "INTROSPECTION" in refused["errors"][0]["message"]
    assert locked.data("{ policy { __typename balanceCap } }") == {"policy": {"__typename": "Policy", "balanceCap": 200}}
    admin = auth.admin_token(SECRET, 600)
    assert locked.data(INTROSPECTION, token=admin) == {"__schema": {"queryType": {"name": "Query"}}}
    _, member = locked.sign_up("m@example.com", "M")
    assert codes(locked.gql(INTROSPECTION, token=member)) == ["GRAPHQL_VALIDATION_FAILED"]


def test_introspection_is_closed_over_websocket_too(locked: Api) -> None:
    with locked.client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init", "payload": {}})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": INTROSPECTION}})
        message = ws.receive_json()
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", message


def test_under_trusted_documents_graphiql_is_not_served(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"cap": "{ policy { balanceCap } }"}))
    with client(tmp_path, trusted_documents=manifest) as c:
        assert c.get("/graphql", headers={"accept": "text/html"}).status_code == 404


PREFLIGHT = {"origin": "https://app.example.com", "access-control-request-method": "POST",
             "access-control-request-headers": "authorization, content-type"}


def test_cors_answers_listed_origins_only(tmp_path: Path) -> None:
    with client(tmp_path, cors_origins=("https://app.example.com",)) as c:
        ok = c.options("/graphql", headers=PREFLIGHT)
        assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://app.example.com"
        assert "POST" in ok.headers["access-control-allow-methods"]
        assert "authorization" in ok.headers["access-control-allow-headers"].lower()
        assert "access-control-allow-credentials" not in ok.headers
        answer = c.post("/graphql", json={"query": "{ policy { balanceCap } }"},
                        headers={"origin": "https://app.example.com"})
        assert answer.headers["access-control-allow-origin"] == "https://app.example.com"
        assert "x-request-id" in answer.headers["access-control-expose-headers"]
        assert c.get("/healthz").json() == {"status": "ok"}  # a request without Origin passes untouched
        plain = c.post("/graphql", json={"query": "{ policy { balanceCap } }"})
        assert plain.status_code == 200 and "access-control-allow-origin" not in plain.headers
        for origin in ("https://evil.example.com", "https://app.example.com.evil.example", "null"):
            refused = c.options("/graphql", headers={**PREFLIGHT, "origin": origin})
            assert refused.status_code == 403
            assert not [h for h in refused.headers if h.lower().startswith("access-control-")]
            plain = c.post("/graphql", json={"query": "{ policy { balanceCap } }"}, headers={"origin": origin})
            assert not [h for h in plain.headers if h.lower().startswith("access-control-")]
    with client(tmp_path) as c:  # no origins: no CORS at all, and OPTIONS is not a method of the API
        response = c.options("/graphql", headers=PREFLIGHT)
        assert response.status_code == 405 and response.headers["allow"] == "GET, POST"
        assert "access-control-allow-origin" not in response.headers


# -- faults answered as faults -------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_full_disk_is_service_unavailable_with_one_line_and_a_count(tmp_path: Path) -> None:
    import os
    import shutil
    import subprocess
    import sys

    import httpx

    from .conftest import LIVE_SECRET, NO_RATE_LIMITS, free_port, violations, wait_until_ready
    from .http import SIGN_UP

    if os.geteuid() != 0 or shutil.which("mount") is None:
        if os.environ.get("CI"):
            pytest.fail("CI runs as root and mounts a small tmpfs for the full-disk test")
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs: {mounted.stderr!r}")
        pytest.skip("cannot mount a tmpfs here")
    log_file = tmp_path / "server.log"
    port = free_port()
    try:
        with log_file.open("w") as log:
            process = subprocess.Popen(
                [str(Path(sys.executable).with_name("invite-credits")), "serve", "--db", str(disk / "full.db"),
                 "--port", str(port)],
                env={**os.environ, "INVITE_CREDITS_JWT_SECRET": LIVE_SECRET, **NO_RATE_LIMITS}, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_ready(url, process)

            def sign_up(i: int) -> dict[str, Any]:
                body: dict[str, Any] = httpx.post(url + "/graphql", json={"query": SIGN_UP, "variables": {
                    "input": {"email": f"d{i}@example.com", "name": "D" * 90}}}, timeout=30).json()
                return body

            assert sign_up(0)["data"]["signUp"]["userErrors"] == []
            with (disk / "ballast").open("wb") as ballast:  # fill the disk to the last byte
                try:
                    while True:
                        ballast.write(b"\0" * 65536)
                        ballast.flush()
                except OSError:
                    pass
            answers = [sign_up(i) for i in range(1, 40)]
            refused = [a for a in answers if a.get("errors")]
            assert refused, answers
            assert all(a["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE" for a in refused), refused
            metrics = httpx.get(url + "/metrics").text
            assert 'invite_credits_storage_faults_total{kind="disk_full"}' in metrics
            (disk / "ballast").unlink()  # room again: writes go through
            assert sign_up(100)["data"]["signUp"]["userErrors"] == []
        finally:
            process.terminate()
            process.wait(timeout=30)
        text = log_file.read_text()
        assert "Traceback" not in text, text[-3000:]
        faults = [line for line in text.splitlines() if "writes refused" in line]
        assert 1 <= len(faults) <= 3, faults  # one line per fault (a while), not one per write
        assert violations(disk / "full.db") == []
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
