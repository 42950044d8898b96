"""Persisted documents: automatic persisted queries, and a trusted-documents mode from either manifest format."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from invite_credits.http.app import create_app
from invite_credits.settings import Settings

from .http import Api, codes

SECRET = "persisted-secret-that-is-long-enough-for-hs256"
POLICY = "query Cap { policy { balanceCap } }"
SIGN_UP = 'mutation Join { signUp(input: {email: "p@example.com", name: "P"}) { userErrors { code } } }'


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(hash_: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": hash_}}


def settings(tmp_path: Path, **changes: Any) -> Settings:
    return Settings(db_path=tmp_path / "p.db", jwt_secret=SECRET, synchronous="OFF", sweep_interval_seconds=3600,
                    **changes)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with TestClient(create_app(settings(tmp_path, apq_cache_size=2))) as client:
        yield Api(client)


def test_apq_not_found_then_registered_then_by_hash_alone(api: Api) -> None:
    first = api.client.post("/graphql", json={"extensions": persisted(sha(POLICY))})
    assert first.status_code == 200 and codes(first.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert first.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    strict = api.client.post("/graphql", json={"extensions": persisted(sha(POLICY))},
                             headers={"accept": "application/graphql-response+json"})
    assert strict.status_code == 404 and codes(strict.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
    registered = api.client.post("/graphql", json={"query": POLICY, "extensions": persisted(sha(POLICY))})
    assert registered.json() == {"data": {"policy": {"balanceCap": 200}}}
    by_hash = api.client.post("/graphql", json={"extensions": persisted(sha(POLICY))})
    assert by_hash.json() == {"data": {"policy": {"balanceCap": 200}}}
    by_get = api.client.get("/graphql", params={"extensions": json.dumps(persisted(sha(POLICY)))},
                            headers={"accept": "application/json"})
    assert by_get.json() == {"data": {"policy": {"balanceCap": 200}}}


def test_apq_checks_the_hash_and_keeps_a_bounded_cache(api: Api) -> None:
    wrong = api.client.post("/graphql", json={"query": POLICY, "extensions": persisted("0" * 64)})
    assert wrong.status_code == 400 and codes(wrong.json()) == ["BAD_REQUEST"]
    for bad in ({"persistedQuery": {"version": 2, "sha256Hash": sha(POLICY)}}, {"persistedQuery": "x"},
                persisted("not-a-hash")):
        assert api.client.post("/graphql", json={"extensions": bad}).status_code == 400
    documents = [f"query Q{i} {{ policy {{ balanceCap }} }}" for i in range(3)]
    for document in documents:  # the cache holds 2: the first is forgotten
        api.client.post("/graphql", json={"query": document, "extensions": persisted(sha(document))})
    assert codes(api.client.post("/graphql", json={"extensions": persisted(sha(documents[0]))}).json()) == [
        "PERSISTED_QUERY_NOT_FOUND"]
    assert "data" in api.client.post("/graphql", json={"extensions": persisted(sha(documents[2]))}).json()


@pytest.mark.parametrize("manifest_format", ["apollo", "codegen"])
def test_trusted_documents_only(tmp_path: Path, manifest_format: str) -> None:
    manifest = tmp_path / "manifest.json"
    if manifest_format == "apollo":
        manifest.write_text(json.dumps({"format": "apollo-persisted-query-manifest", "version": 1, "operations": [
            {"id": sha(POLICY), "name": "Cap", "type": "query", "body": POLICY},
            {"id": sha(SIGN_UP), "name": "Join", "type": "mutation", "body": SIGN_UP}]}))
    else:
        manifest.write_text(json.dumps({sha(POLICY): POLICY, "join-1": SIGN_UP}))
    join_id = sha(SIGN_UP) if manifest_format == "apollo" else "join-1"
    with TestClient(create_app(settings(tmp_path, trusted_documents=manifest))) as client:
        ok = {"data": {"policy": {"balanceCap": 200}}}
        assert client.post("/graphql", json={"extensions": persisted(sha(POLICY))}).json() == ok
        assert client.post("/graphql", json={"query": POLICY}).json() == ok  # the exact text of a trusted document
        assert client.post("/graphql", json={"documentId": join_id}).json() == {"data": {"signUp": {"userErrors": []}}}
        refused = client.post("/graphql", json={"query": "{ policy { balanceCap } }"},
                              headers={"accept": "application/graphql-response+json"})
        assert refused.status_code == 403 and codes(refused.json()) == ["PERSISTED_QUERY_NOT_IN_LIST"]
        unknown = client.post("/graphql", json={"documentId": "nope"})
        assert unknown.status_code == 403 and codes(unknown.json()) == ["PERSISTED_QUERY_NOT_IN_LIST"]
        unlisted = "query Other { policy { balanceCap } }"
        for extensions, query in ((persisted("f" * 64), None), (persisted(sha(unlisted)), unlisted)):
            by_hash = client.post("/graphql", json={"query": query, "extensions": extensions})
            assert by_hash.status_code == 403 and codes(by_hash.json()) == ["PERSISTED_QUERY_NOT_IN_LIST"]
        other = client.post("/graphql", json={"documentId": join_id, "query": POLICY})
        assert other.status_code == 400


def test_trusted_documents_are_parsed_and_validated_once(tmp_path: Path) -> None:
    node = 'query N { node(id: "not-an-id") { id } }'
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"node": node}))
    with TestClient(create_app(Settings(db_path=tmp_path / "t.db", jwt_secret=SECRET, synchronous="OFF",
                                        sweep_interval_seconds=3600, trusted_documents=manifest))) as client:
        route = next(r for r in client.app.routes if getattr(r, "path", None) == "/graphql")  # type: ignore[attr-defined]
        policy = route.endpoint.pipeline.policy
        for _ in range(3):
            assert client.post("/graphql", json={"documentId": "node"}).json() == {"data": {"node": None}}
        assert policy.parse.cache_info().misses == policy.validate.misses == 0


def test_a_manifest_document_that_does_not_fit_the_schema_stops_serve(tmp_path: Path) -> None:
    from .test_cli import assert_refused_in_one_line, run

    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"x": "{ nope }"}))
    result = run(["serve", "--db", str(tmp_path / "p.db")], env={"INVITE_CREDITS_TRUSTED_DOCUMENTS": str(manifest)})
    assert_refused_in_one_line(result, "INVITE_CREDITS_TRUSTED_DOCUMENTS", "not valid")
