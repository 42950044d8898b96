"""Concurrency through real HTTP: a uvicorn process, many clients at once."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from invite_credits import auth

from .conftest import LIVE_SECRET, LiveServer, violations

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SIGN_UP = "mutation($i: SignUpInput!) { signUp(input: $i) { member { id } token userErrors { code } } }"
SEND = """mutation($i: SendInvitationInput!) {
  sendInvitation(input: $i) { invitation { id } ledgerEntry { id } balance { available } userErrors { code } } }"""
VIEW = "{ viewer { balance { available } ledger(first: 100) { edges { node { reason amount } } } } }"


async def gql(client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None,
              token: str | None = None) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def sign_up(client: httpx.AsyncClient, email: str) -> tuple[str, str]:
    payload = (await gql(client, SIGN_UP, {"i": {"email": email, "name": "M"}}))["signUp"]
    return payload["member"]["id"], payload["token"]


async def test_fifty_concurrent_sends_with_fifteen_credits(live_server: LiveServer) -> None:
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60, limits=limits) as client:
        _, token = await sign_up(client, "sender@example.com")
        invitees = await asyncio.gather(*(sign_up(client, f"to{i}@example.com") for i in range(50)))
        results = await asyncio.gather(
            *(gql(client, SEND, {"i": {"inviteeId": member_id}}, token) for member_id, _ in invitees))
        payloads = [r["sendInvitation"] for r in results]
        sent = [p for p in payloads if not p["userErrors"]]
        refused = [p["userErrors"][0]["code"] for p in payloads if p["userErrors"]]
        assert len(sent) == 15
        assert refused == ["INSUFFICIENT_CREDITS"] * 35
        assert all(p["invitation"] is None and p["ledgerEntry"] is None for p in payloads if p["userErrors"])
        viewer = (await gql(client, VIEW, token=token))["viewer"]
        assert viewer["balance"]["available"] == 0
        amounts = [e["node"]["amount"] for e in viewer["ledger"]["edges"]]
        assert sorted(amounts) == [-1] * 15 + [15]
    assert violations(live_server.db_path) == []


async def test_same_key_twenty_times_concurrently(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        _, token = await sign_up(client, "sender@example.com")
        invitee, _ = await sign_up(client, "invitee@example.com")
        variables = {"i": {"inviteeId": invitee, "message": "hi", "idempotencyKey": "same-key"}}
        results = await asyncio.gather(*(gql(client, SEND, variables, token) for _ in range(20)))
        payloads = [r["sendInvitation"] for r in results]
        assert all(p == payloads[0] for p in payloads) and payloads[0]["userErrors"] == []
        viewer = (await gql(client, VIEW, token=token))["viewer"]
        assert viewer["balance"]["available"] == 14
        assert [e["node"]["reason"] for e in viewer["ledger"]["edges"]] == ["INVITATION_SENT", "SIGNUP"]
    assert violations(live_server.db_path) == []


async def test_admin_token_from_the_cli_secret(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as client:
        data = await gql(client, "mutation { createCompany(input: {name: \"Acme\", slug: \"acme\"}) { company { slug } } }",
                         token=auth.admin_token(LIVE_SECRET, 60))
        assert data["createCompany"]["company"] == {"slug": "acme"}
