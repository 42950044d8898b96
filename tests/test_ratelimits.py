"""Rate limits: token buckets per member and per client address, in a process or shared through Redis."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from invite_credits.http.app import create_app
from invite_credits.settings import Settings

from .conftest import free_port, start_server
from .http import SIGN_UP, Api, codes

SECRET = "rate-limit-secret-that-is-long-enough-for-hs256"
REDIS = os.environ.get("INVITE_CREDITS_TEST_REDIS", "redis://127.0.0.1:6379/0")


def app(tmp_path: Path, **limits: Any) -> TestClient:
    values: dict[str, Any] = {"member_mutations_per_minute": 0, "signups_per_hour": 0,
                              "anonymous_requests_per_minute": 0, **limits}
    return TestClient(create_app(Settings(db_path=tmp_path / "rl.db", jwt_secret=SECRET, synchronous="OFF",
                                          sweep_interval_seconds=3600, **values)))


def sign_up(client: TestClient, email: str) -> httpx.Response:
    response: httpx.Response = client.post("/graphql", json={"query": SIGN_UP, "variables": {"input": {"email": email, "name": "R"}}})
    return response


def assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert codes(response.json()) == ["RATE_LIMITED"]
    assert int(response.headers["retry-after"]) >= 1


def test_sign_ups_per_address(tmp_path: Path) -> None:
    with app(tmp_path, signups_per_hour=3) as client:
        for i in range(3):
            assert sign_up(client, f"s{i}@example.com").json()["data"]["signUp"]["userErrors"] == []
        refused = sign_up(client, "s3@example.com")
        assert_limited(refused)
        assert "3 per hour" in refused.json()["errors"][0]["message"]
        # Nothing was made: the email is still free once a token is back (here: another address).
        assert sign_up(client, "s3@example.com").status_code == 429
        assert client.post("/graphql", json={"query": "{ policy { balanceCap } }"}).status_code == 200
        metrics = client.get("/metrics").text
        assert 'invite_credits_rate_limited_total{bucket="sign_up"} 2.0' in metrics


def test_mutations_per_member_and_anonymous_requests_per_address(tmp_path: Path) -> None:
    with app(tmp_path, member_mutations_per_minute=2) as client:
        api = Api(client)
        _, ann = api.sign_up("ann@example.com", "Ann")
        _, bob = api.sign_up("bob@example.com", "Bob")
        post = 'mutation { postDiscussion(input: {kind: POST, body: "hi"}) { userErrors { code } } }'
        for _ in range(2):
            assert api.post(post, token=ann).status_code == 200
        assert_limited(api.post(post, token=ann))
        assert api.post(post, token=bob).status_code == 200  # another member's bucket
        assert api.post("{ viewer { name } }", token=ann).status_code == 200  # reads are not limited
    with app(tmp_path, anonymous_requests_per_minute=3) as client:
        api = Api(client)
        _, token = api.sign_up("cy@example.com", "Cy")  # the first anonymous request
        for _ in range(2):
            assert client.post("/graphql", json={"query": "{ policy { balanceCap } }"}).status_code == 200
        assert_limited(client.post("/graphql", json={"query": "{ policy { balanceCap } }"}))
        assert api.post("{ policy { balanceCap } }", token=token).status_code == 200  # a member is not anonymous


def test_limits_hold_over_websocket(tmp_path: Path) -> None:
    with app(tmp_path, member_mutations_per_minute=1) as client:
        _, token = Api(client).sign_up("ws@example.com", "W")
        with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
            assert ws.receive_json()["type"] == "connection_ack"
            post = 'mutation { postDiscussion(input: {kind: POST, body: "hi"}) { userErrors { code } } }'
            ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": post}})
            assert ws.receive_json()["type"] == "next"
            ws.receive_json()  # complete
            ws.send_json({"id": "2", "type": "subscribe", "payload": {"query": post}})
            refused = ws.receive_json()
            assert refused["type"] == "error" and refused["payload"][0]["extensions"]["code"] == "RATE_LIMITED"


def _redis_or_skip() -> None:
    host, port = REDIS.removeprefix("redis://").split("/")[0].split(":")
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
    except OSError:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run Redis at {REDIS} (see .ci/run)")
        pytest.skip(f"no Redis at {REDIS}: the shared buckets are not tested")


@pytest.fixture
def two_nodes(tmp_path: Path) -> Iterator[list[str]]:
    _redis_or_skip()
    # Keys are scoped by the database: a fresh file per run keeps runs apart on a shared Redis.
    db = tmp_path / f"shared-{uuid.uuid4().hex}.db"
    env = {"INVITE_CREDITS_REDIS_URL": REDIS, "INVITE_CREDITS_SIGNUPS_PER_HOUR": "4",
           "INVITE_CREDITS_SYNCHRONOUS": "NORMAL"}
    first = start_server(db, **env)
    second = start_server(db, **env)
    try:
        yield [first.url, second.url]
    finally:
        first.stop()
        second.stop()


@pytest.mark.slow
def test_buckets_are_shared_by_every_process_through_redis(two_nodes: list[str]) -> None:
    answers = []
    client = {"x-forwarded-for": "203.0.113.7"}  # one client behind the trusted proxy (this machine)
    for i in range(8):
        url = two_nodes[i % 2]
        answers.append(httpx.post(url + "/graphql", headers=client, json={"query": SIGN_UP, "variables": {
            "input": {"email": f"n{i}@example.com", "name": "N"}}}).status_code)
    assert answers.count(200) == 4 and answers.count(429) == 4, answers
    other = httpx.post(two_nodes[0] + "/graphql", headers={"x-forwarded-for": "203.0.113.8"}, json={
        "query": SIGN_UP, "variables": {"input": {"email": "other@example.com", "name": "O"}}})
    assert other.status_code == 200  # another client behind the proxy has a bucket of its own
    direct = [httpx.post(two_nodes[i % 2] + "/graphql", json={"query": SIGN_UP, "variables": {
        "input": {"email": f"d{i}@example.com", "name": "D"}}}).status_code for i in range(6)]
    assert direct.count(429) == 2, direct  # straight from this machine: its own address, limited the same


@pytest.mark.slow
def test_redis_away_serves_every_request_and_counts_the_loss(tmp_path: Path) -> None:
    server = start_server(tmp_path / "away.db", INVITE_CREDITS_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
                          INVITE_CREDITS_SIGNUPS_PER_HOUR="1")
    try:
        for i in range(3):
            response = httpx.post(server.url + "/graphql", headers={"x-forwarded-for": "203.0.113.9"}, json={
                "query": SIGN_UP, "variables": {
                "input": {"email": f"a{i}@example.com", "name": "A"}}})
            assert response.status_code == 200 and response.json()["data"]["signUp"]["userErrors"] == []
        metrics = httpx.get(server.url + "/metrics").text
        errors = [line for line in metrics.splitlines() if line.startswith("invite_credits_rate_limit_store_errors_total")]
        assert errors and float(errors[0].split()[-1]) >= 1, errors
    finally:
        server.stop()
