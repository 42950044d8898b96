"""Live balance over graphql-transport-ws: the balance now, then after every change, whoever made it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from invite_credits import auth
from invite_credits.http.app import create_app
from invite_credits.settings import Settings

from .http import Api

SECRET = "subscription-secret-long-enough-for-hs256-tokens"
PROTOCOL = "graphql-transport-ws"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = Settings(db_path=tmp_path / "s.db", jwt_secret=SECRET, test_clock=True, synchronous="OFF",
                        sweep_interval_seconds=3600, subscriptions_per_member=2)
    with TestClient(create_app(settings)) as client:
        yield Api(client)


def _open(api: Api, token: str | None) -> Any:
    ws = api.client.websocket_connect("/graphql", subprotocols=[PROTOCOL])
    socket = ws.__enter__()
    socket.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"} if token else {}})
    return ws, socket


def _next(socket: Any) -> dict[str, Any]:
    message: dict[str, Any] = socket.receive_json()
    while message["type"] in ("ping", "pong"):
        message = socket.receive_json()
    return message


def test_balance_and_entries_arrive_after_each_change(api: Api) -> None:
    ann_id, ann = api.sign_up("ann@example.com", "Ann")
    bob_id, _ = api.sign_up("bob@example.com", "Bob")
    ws, socket = _open(api, ann)
    try:
        assert _next(socket)["type"] == "connection_ack"
        socket.send_json({"id": "b", "type": "subscribe", "payload": {
            "query": "subscription { balanceChanged { id available asOf } }"}})
        first = _next(socket)
        assert first["type"] == "next" and first["payload"]["data"]["balanceChanged"]["available"] == 15
        socket.send_json({"id": "e", "type": "subscribe", "payload": {
            "query": "subscription { ledgerEntryAdded { reason amount balanceAfter } }"}})
        api.data(f'mutation {{ sendInvitation(input: {{inviteeId: "{bob_id}"}}) {{ userErrors {{ code }} }} }}',
                 token=ann)
        seen = {message["id"]: message["payload"]["data"] for message in (_next(socket), _next(socket))}
        assert seen["b"]["balanceChanged"]["available"] == 14
        assert seen["b"]["balanceChanged"]["id"] == first["payload"]["data"]["balanceChanged"]["id"]
        assert seen["e"]["ledgerEntryAdded"] == {"reason": "INVITATION_SENT", "amount": -1, "balanceAfter": 14}
        # Expiry written by the sweep is a change too.
        admin = auth.admin_token(SECRET, 600)
        api.data('mutation { advanceTestClock(input: {to: "2035-01-01T00:00:00Z"}) { userErrors { code } } }',
                 token=admin)
        seen = {message["id"]: message["payload"]["data"] for message in (_next(socket), _next(socket))}
        assert seen["b"]["balanceChanged"]["available"] == 0
        assert seen["e"]["ledgerEntryAdded"]["reason"] == "EXPIRED"
        socket.send_json({"id": "b", "type": "complete"})
    finally:
        ws.__exit__(None, None, None)


def test_a_bad_token_closes_the_socket_with_4403(api: Api) -> None:
    ws, socket = _open(api, "not-a-token")
    with pytest.raises(WebSocketDisconnect) as closed:
        socket.receive_json()
    assert closed.value.code == 4403
    ws.__exit__(None, None, None)


def test_anonymous_and_over_the_limit_subscriptions_are_refused(api: Api) -> None:
    _, ann = api.sign_up("ann@example.com", "Ann")
    ws, socket = _open(api, None)
    try:
        assert _next(socket)["type"] == "connection_ack"
        socket.send_json({"id": "1", "type": "subscribe", "payload": {"query": "subscription { balanceChanged { available } }"}})
        message = _next(socket)
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert [e["extensions"]["code"] for e in errors] == ["UNAUTHENTICATED"], message
    finally:
        ws.__exit__(None, None, None)
    ws, socket = _open(api, ann)
    try:
        assert _next(socket)["type"] == "connection_ack"
        for i in range(3):
            socket.send_json({"id": str(i), "type": "subscribe",
                              "payload": {"query": "subscription { balanceChanged { available } }"}})
        messages = [_next(socket) for _ in range(3)]
        codes = [m["payload"][0]["extensions"]["code"] for m in messages if m["type"] == "error"]
        codes += [e["extensions"]["code"] for m in messages if m["type"] == "next" for e in m["payload"].get("errors", [])]
        assert codes == ["TOO_MANY_SUBSCRIPTIONS"], messages
    finally:
        ws.__exit__(None, None, None)
