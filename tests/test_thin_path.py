"""The thin request path answers exactly as Strawberry's view does: the same documents through both, on one
database, give byte-identical responses (status, media type, body)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from invite_credits import auth
from invite_credits.app import create_app
from invite_credits.domain import ids
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


@pytest.fixture
def clients(tmp_path: Path) -> Iterator[tuple[TestClient, TestClient, dict[str, str]]]:
    base: dict[str, Any] = dict(db_path=tmp_path / "thin.db", jwt_secret=SECRET, test_clock=True, synchronous="OFF",
                                sweep_interval_seconds=3600)
    with TestClient(create_app(Settings(**base))) as thin, \
            TestClient(create_app(Settings(**base, thin_path=False))) as view:
        people = {}
        for name in ("ann", "bob"):
            signed = thin.post("/graphql", json={"query": SIGN_UP, "variables": {"i": {
                "email": f"{name}@example.com", "name": name.title()}}}).json()["data"]["signUp"]
            people[name.upper()] = signed["member"]["id"]
            people[name] = signed["token"]
        people["admin"] = auth.admin_token(SECRET, 600)
        yield thin, view, people


def _call(client: TestClient, method: str, query: str, variables: dict[str, Any], token: str | None,
          accept: str, request_id: str) -> tuple[int, str, bytes]:
    headers = {"accept": accept, "x-request-id": request_id, **({"authorization": f"Bearer {token}"} if token else {})}
    if method == "GET":
        params = {"query": query, **({"variables": json.dumps(variables)} if variables else {})}
        response = client.get("/graphql", params=params, headers=headers)
    else:
        response = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    return response.status_code, response.headers["content-type"], response.content


@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_the_thin_path_answers_as_the_view_does(clients: tuple[TestClient, TestClient, dict[str, str]],
                                                method: str, accept: str) -> None:
    thin, view, people = clients
    for i, (query, variables, who) in enumerate(CASES):
        variables = {k: people.get(v, v) if isinstance(v, str) else v for k, v in variables.items()}
        if isinstance(variables.get("i"), dict):
            variables["i"] = {k: people.get(v, v) if isinstance(v, str) else v for k, v in variables["i"].items()}
        token = people.get(who) if who else None
        answers = [_call(client, method, query, variables, token, accept, f"case-{i}") for client in (thin, view)]
        assert answers[0] == answers[1], (method, accept, query, answers)


def test_a_masked_error_is_the_same_on_both_paths(clients: tuple[TestClient, TestClient, dict[str, str]],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    thin, view, people = clients
    from invite_credits.service import Service

    def broken(self: Service, member: Any) -> Any:
        raise RuntimeError("a bug with a secret in it")

    monkeypatch.setattr(Service, "balance", broken)
    answers = [_call(c, "POST", "{ viewer { name balance { available } } }", {}, people["ann"], "application/json",
                     "same-id") for c in (thin, view)]
    assert answers[0] == answers[1] and b"secret" not in answers[0][2] and b"INTERNAL_SERVER_ERROR" in answers[0][2]
    assert ids.member_id(people["ANN"]) is not None
