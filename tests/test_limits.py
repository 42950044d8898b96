"""Hostile input: query limits, body size, GraphQL-over-HTTP media types."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from graphql import parse
from starlette.testclient import TestClient

from invite_credits.api.limits import document_cost
from invite_credits.http.app import create_app
from invite_credits.settings import Settings

from .http import Api, codes


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = Settings(db_path=tmp_path / "limits.db", jwt_secret="limits-secret-long-enough-for-hs256!!",
                        max_body_bytes=20_000, synchronous="NORMAL")
    with TestClient(create_app(settings)) as client:
        yield Api(client)


@pytest.mark.parametrize(
    ("document", "variables", "cost"),
    [
        ("{ policy { balanceCap } }", {}, 0),
        ("{ viewer { ledger { edges { node { id } } } } }", {}, 20),  # default page size
        ("{ viewer { ledger(first: 100) { edges { node { id } } } } }", {}, 100),
        ("query($n: Int) { viewer { ledger(first: $n) { edges { node { id } } } } }", {"n": 7}, 7),
        ("{ viewer { a: ledger(first: 10) { edges { node { id } } } b: creditLots(first: 5) { edges { node { id } } } } }", {}, 15),
        ("{ viewer { connections(first: 50) { edges { node { connections(first: 50) { edges { node { id } } } } } } } }", {}, 2550),
        ("{ viewer { ...F } } fragment F on Member { connections(first: 10) { edges { node { id } } } }", {}, 10),
    ],
)
def test_document_cost(document: str, variables: dict[str, int], cost: int) -> None:
    assert document_cost(parse(document), variables) == cost


def test_costly_queries_are_refused_before_running(api: Api) -> None:
    query = ("{ viewer { connections(first: 100) { edges { node { connections(first: 100) { edges { node { id } } } } } } } }")
    body = api.gql(query)
    assert codes(body) == ["QUERY_TOO_COMPLEX"]
    assert body.get("data") is None  # refused before any resolver ran


@pytest.mark.parametrize(
    ("document", "code"),
    [
        ("{ " * 40 + "policy { balanceCap }" + " }" * 40, "GRAPHQL_PARSE_FAILED"),
        ("{ " + " ".join(f"a{i}: policy {{ balanceCap }}" for i in range(40)) + " }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ viewer " + "{ connections(first: 1) { edges { node " * 8 + "{ id }" + " } } }" * 8 + " }",
         "GRAPHQL_VALIDATION_FAILED"),
        ("{ policy { balanceCap } " + "x " * 6000 + "}", "GRAPHQL_PARSE_FAILED"),
    ],
    ids=["syntax", "aliases", "depth", "tokens"],
)
def test_query_limits(api: Api, document: str, code: str) -> None:
    body = api.gql(document)
    assert codes(body) and codes(body)[0] == code


def test_bodies_over_the_limit_get_413(api: Api) -> None:
    response = api.client.post("/graphql", content=b'{"query": "' + b" " * 30_000 + b'{ policy { balanceCap } }"}',
                               headers={"content-type": "application/json"})
    assert response.status_code == 413 and codes(response.json()) == ["PAYLOAD_TOO_LARGE"]


def test_graphql_response_media_type(api: Api) -> None:
    accept = {"accept": "application/graphql-response+json"}
    ok = api.client.post("/graphql", json={"query": "{ policy { balanceCap } }"}, headers=accept)
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("application/graphql-response+json")
    for document, code in (("{ policy ", "GRAPHQL_PARSE_FAILED"), ("{ nope }", "GRAPHQL_VALIDATION_FAILED")):
        bad = api.client.post("/graphql", json={"query": document}, headers=accept)
        assert bad.status_code == 400 and "data" not in bad.json() and codes(bad.json()) == [code]
    coerced = api.client.post("/graphql", json={"query": "query($n: Int) { viewer { ledger(first: $n) { edges { cursor } } } }",
                                                "variables": {"n": "many"}}, headers=accept)
    assert coerced.status_code == 400 and codes(coerced.json()) == ["BAD_USER_INPUT"]
    legacy = api.client.post("/graphql", json={"query": "{ nope }"})
    assert legacy.status_code == 200 and legacy.headers["content-type"].startswith("application/json")


def test_mutations_are_refused_over_get(api: Api) -> None:
    response = api.client.get("/graphql", params={"query": "mutation { signUp(input: {email: \"a@b.co\", name: \"A\"}) { token } }"})
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert codes(response.json()) == ["METHOD_NOT_ALLOWED"]


def test_the_memo_by_identity_keeps_its_nodes_and_its_bound() -> None:
    from invite_credits.api.limits import ByIdentity

    calls: list[object] = []

    def count(node: object, extra: str) -> int:
        calls.append(node)
        return len(calls)

    memo: ByIdentity[object, int] = ByIdentity(count, 2)
    a, b, c = object(), object(), object()
    assert memo(a, "x") == 1 and memo(a, "x") == 1  # the second answer is the memo's
    assert memo(b, "x") == 2 and memo(c, "x") == 3  # a third node pushes the oldest (a) out
    assert memo(a, "x") == 4 and memo.misses == 4
    assert len(memo._memo) == 2 and all(id(kept) == key for key, (kept, _) in memo._memo.items())
