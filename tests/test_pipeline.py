"""One pipeline for every transport: the same documents by POST, by GET and over a WebSocket
(graphql-transport-ws) give the same data and the same errors (messages, codes, locations, paths), and the
WebSocket's refusals before execution are `error` messages with the codes HTTP answers with."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from invite_credits import auth
from invite_credits.domain import ids
from invite_credits.http.app import create_app
from invite_credits.settings import Settings

SECRET = "thin-path-secret-that-is-long-enough-for-hs256"
SIGN_UP = 'mutation($i: SignUpInput!) { signUp(input: $i) { member { id } token } }'
LEDGER = """query L($n: Int, $after: String, $with: Boolean!) {
  viewer { __typename id name ...Money
    ledger(first: $n, after: $after) { edges { cursor node { id reason amount balanceAfter occurredAt } }
                                       pageInfo { hasNextPage endCursor } }
    earning @include(if: $with) { reason earned remaining }
    creditLots @skip(if: $with) { edges { node { id expired } } } }
}
fragment Money on Member { balance { id available expiringSoon nextExpiryAt asOf unlimited cap } }"""

CASES: list[tuple[str, dict[str, Any], str]] = [
    ("{ viewer { id name } }", {}, "ann"),
    (LEDGER, {"n": 2, "with": True}, "ann"),
    (LEDGER, {"n": 2, "with": False}, "ann"),
    (LEDGER, {"n": 101, "with": False}, "ann"),
    (LEDGER, {"n": 10**6, "with": False}, "ann"),
    (LEDGER, {"n": 2, "after": "nope", "with": True}, "ann"),
    (LEDGER, {"n": "two", "with": True}, "ann"),
    (LEDGER, {}, "ann"),
    ("query($id: ID!) { node(id: $id) { __typename id ... on Member { name headline tier } } }", {"id": "BOB"}, "ann"),
    ("query($id: ID!) { member(id: $id) { name email balance { available } } }", {"id": "BOB"}, "ann"),
    ("query($id: ID!) { member(id: $id) { name email balance { available } } }", {"id": "BOB"}, "admin"),
    ("{ a: viewer { name } b: viewer { n: name } policy { balanceCap earning { reason limit } } }", {}, "ann"),
    ("{ companies(first: 5) { edges { node { name } } pageInfo { hasNextPage } } }", {}, ""),
    ("{ viewer { connections(first: 100) { edges { node { connections(first: 100) { edges { cursor } } } } } } }",
     {}, "ann"),
    ("{ viewer { nope } }", {}, "ann"),
    ("{ viewer { name ", {}, "ann"),
    ("query A { viewer { id } } query B { policy { balanceCap } }", {}, "ann"),
    ("mutation($i: SendInvitationInput!) { sendInvitation(input: $i) { invitation { id } userErrors { code field } } }",
     {"i": {"inviteeId": "ANN", "message": "x" * 301}}, "ann"),
    ("mutation($i: SignUpInput!) { signUp(input: $i) { token userErrors { code field } } }",
     {"i": {"email": "bad", "name": " "}}, ""),
    ("{ balance { available } }", {}, ""),
    ("{ invitation(id: \"x\") { id } }", {}, "ann"),
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = Settings(db_path=Path(tmp_path_factory.mktemp("pipeline")) / "p.db", jwt_secret=SECRET,
                        test_clock=True, synchronous="OFF", sweep_interval_seconds=3600)
    with TestClient(create_app(settings)) as c:
        people = {}
        for name in ("ann", "bob"):
            signed = c.post("/graphql", json={"query": SIGN_UP, "variables": {"i": {
                "email": f"{name}@example.com", "name": name.title()}}}).json()["data"]["signUp"]
            people[name.upper()] = signed["member"]["id"]
            people[name] = signed["token"]
        people["admin"] = auth.admin_token(SECRET, 600)
        yield c, people


def _variables(variables: dict[str, Any], people: dict[str, str]) -> dict[str, Any]:
    variables = {k: people.get(v, v) if isinstance(v, str) else v for k, v in variables.items()}
    if isinstance(variables.get("i"), dict):
        variables["i"] = {k: people.get(v, v) if isinstance(v, str) else v for k, v in variables["i"].items()}
    return variables


def _http(c: TestClient, method: str, query: str, variables: dict[str, Any], token: str | None) -> dict[str, Any]:
    headers = {"x-request-id": "same-id", **({"authorization": f"Bearer {token}"} if token else {})}
    if method == "GET":
        response = c.get("/graphql", params={"query": query, **({"variables": json.dumps(variables)} if variables
                                                                  else {})}, headers=headers)
    else:
        response = c.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    body: dict[str, Any] = response.json()
    return body


def _ws(c: TestClient, query: str, variables: dict[str, Any], token: str | None) -> dict[str, Any]:
    """The operation's answer over graphql-transport-ws: `next`'s payload, or `error`'s errors (no data)."""
    with c.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"], headers={"x-request-id": "same-id"}) \
            as socket:
        socket.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"} if token else {}})
        assert socket.receive_json()["type"] == "connection_ack"
        socket.send_json({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}})
        message = socket.receive_json()
        if message["type"] == "error":
            return {"errors": message["payload"]}
        assert message["type"] == "next", message
        assert socket.receive_json() == {"id": "1", "type": "complete"}
        payload: dict[str, Any] = message["payload"]
        return payload


def _comparable(body: dict[str, Any]) -> dict[str, Any]:
    """An answer without what differs by nature between two requests: a request id, a new token; and `data` when
    it is null (a WebSocket's `error` message has no `data`)."""
    text = json.dumps({k: v for k, v in body.items() if not (k == "data" and v is None)})
    for field in ("token",):
        text = re.sub(rf'"{field}": "[^"]*"', f'"{field}": "..."', text)
    text = re.sub(r'\(request [0-9a-z-]+\)', "(request ...)", text)
    return json.loads(re.sub(r'"requestId": "[^"]*"', '"requestId": "..."', text))  # type: ignore[no-any-return]


@pytest.mark.parametrize("case", range(len(CASES)), ids=[q.split("{")[0].strip() or q[:24] for q, _, _ in CASES])
def test_post_get_and_websocket_answer_alike(client: tuple[TestClient, dict[str, str]], case: int) -> None:
    c, people = client
    query, variables, who = CASES[case]
    variables = _variables(variables, people)
    token = people.get(who) if who else None
    if query.lstrip().startswith("mutation") or query.count("query ") > 1 or "{ viewer { name " == query:
        answers = [_http(c, "POST", query, variables, token), _ws(c, query, variables, token)]
    else:
        answers = [_http(c, method, query, variables, token) for method in ("POST", "GET")]
        answers.append(_ws(c, query, variables, token))
    for other in answers[1:]:
        assert _comparable(other) == _comparable(answers[0]), (query, answers)


def test_a_masked_error_is_masked_alike_on_every_transport(client: tuple[TestClient, dict[str, str]],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    c, people = client
    from invite_credits.service import Service

    def broken(self: Service, member: Any, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug with a secret in it")

    monkeypatch.setattr(Service, "balance", broken)
    query = "{ viewer { name balance { available } } }"
    answers = [_http(c, "POST", query, {}, people["ann"]), _ws(c, query, {}, people["ann"])]
    for answer in answers:
        assert "secret" not in json.dumps(answer)
        assert [e["extensions"]["code"] for e in answer["errors"]] == ["INTERNAL_SERVER_ERROR"]
        assert answer["data"] == {"viewer": {"name": "Ann", "balance": None}}
        assert answer["errors"][0]["path"] == ["viewer", "balance"]
    assert _comparable(answers[0]) == _comparable(answers[1])
    assert ids.member_id(people["ANN"]) is not None


def test_a_subscription_by_http_is_refused_with_where_to_send_it(client: tuple[TestClient, dict[str, str]]) -> None:
    c, people = client
    response = c.post("/graphql", json={"query": "subscription { balanceChanged { available } }"},
                      headers={"authorization": f"Bearer {people['ann']}"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "WebSocket" in response.json()["errors"][0]["message"]
