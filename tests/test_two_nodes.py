"""Two server processes on one PostgreSQL database, as two nodes behind a load balancer: every SPEC invariant
holds across them, and `check` finds nothing after each test."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from invite_credits import auth

from . import pg
from .conftest import LIVE_SECRET, LiveServer, start_server, violations
from .test_concurrency import SEND, VIEW, gql, sign_up

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
ACCEPT = "mutation($i: InvitationActionInput!) { acceptInvitation(input: $i) { userErrors { code } } }"
WITHDRAW = "mutation($i: InvitationActionInput!) { withdrawInvitation(input: $i) { userErrors { code } } }"


@pytest.fixture
def nodes() -> Iterator[tuple[str, list[LiveServer]]]:
    with pg.fresh_database() as url:
        servers = [start_server(url, INVITE_CREDITS_TEST_CLOCK="1") for _ in range(2)]
        try:
            yield url, servers
        finally:
            for server in servers:
                server.stop()


def clients(servers: list[LiveServer]) -> list[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=32)
    return [httpx.AsyncClient(base_url=s.url, timeout=60, limits=limits) for s in servers]


async def test_sends_from_one_member_split_over_two_nodes_never_overspend(
        nodes: tuple[str, list[LiveServer]]) -> None:
    url, servers = nodes
    a, b = clients(servers)
    async with a, b:
        _, token = await sign_up(a, "sender@example.com")
        invitees = await asyncio.gather(*(sign_up((a, b)[i % 2], f"to{i}@example.com") for i in range(40)))
        results = await asyncio.gather(*(gql((a, b)[i % 2], SEND, {"i": {"inviteeId": member}}, token)
                                         for i, (member, _) in enumerate(invitees)))
        codes = sorted(str(r["sendInvitation"]["userErrors"][:1]) for r in results)
        assert codes.count("[]") == 15 and codes.count("[{'code': 'INSUFFICIENT_CREDITS'}]") == 25
        for client in (a, b):
            assert (await gql(client, VIEW, token=token))["viewer"]["balance"]["available"] == 0
    assert violations(url) == []


async def test_one_idempotency_key_raced_on_both_nodes_has_one_effect(nodes: tuple[str, list[LiveServer]]) -> None:
    url, servers = nodes
    a, b = clients(servers)
    async with a, b:
        _, token = await sign_up(a, "sender@example.com")
        bob, _ = await sign_up(b, "bob@example.com")
        send = {"i": {"inviteeId": bob, "idempotencyKey": "once"}}
        results = await asyncio.gather(*(gql((a, b)[i % 2], SEND, send, token) for i in range(20)))
        assert len({str(r["sendInvitation"]) for r in results}) == 1, results
        assert results[0]["sendInvitation"]["balance"]["available"] == 14
    assert violations(url) == []


async def test_accept_on_one_node_while_the_inviter_withdraws_on_the_other(
        nodes: tuple[str, list[LiveServer]]) -> None:
    url, servers = nodes
    a, b = clients(servers)
    async with a, b:
        _, ann = await sign_up(a, "ann@example.com")
        for i in range(8):
            bob, bob_token = await sign_up(b, f"bob{i}@example.com")
            sent = (await gql(a, SEND, {"i": {"inviteeId": bob}}, ann))["sendInvitation"]["invitation"]["id"]
            accept, withdraw = await asyncio.gather(gql(a, ACCEPT, {"i": {"invitationId": sent}}, bob_token),
                                                    gql(b, WITHDRAW, {"i": {"invitationId": sent}}, ann))
            outcomes = sorted([str(accept["acceptInvitation"]["userErrors"]),
                               str(withdraw["withdrawInvitation"]["userErrors"])])
            assert outcomes == ["[]", "[{'code': 'INVITATION_NOT_PENDING'}]"]
    assert violations(url) == []


async def test_the_test_clock_moved_on_one_node_is_the_time_of_the_other(
        nodes: tuple[str, list[LiveServer]]) -> None:
    url, servers = nodes
    a, b = clients(servers)
    admin = auth.admin_token(LIVE_SECRET, 600)
    async with a, b:
        _, token = await sign_up(a, "ann@example.com")
        moved = await gql(a, 'mutation { advanceTestClock(input: {to: "2031-01-01T00:00:00Z"}) { now } }', token=admin)
        assert moved["advanceTestClock"]["now"] == "2031-01-01T00:00:00Z"
        viewer = (await gql(b, "{ viewer { balance { available asOf } } }", token=token))["viewer"]
        assert viewer["balance"] == {"available": 0, "asOf": "2031-01-01T00:00:00Z"}  # expired everywhere
    assert violations(url) == []


async def test_two_admins_on_two_nodes_reversing_one_entry_make_one_reversal(
        nodes: tuple[str, list[LiveServer]]) -> None:
    url, servers = nodes
    a, b = clients(servers)
    admin = auth.admin_token(LIVE_SECRET, 600)
    reverse = ("mutation($i: ReverseLedgerEntryInput!) { reverseLedgerEntry(input: $i) { ledgerEntry { id } "
               "userErrors { code } } }")
    async with a, b:
        _, token = await sign_up(a, "ann@example.com")
        bob, _ = await sign_up(b, "bob@example.com")
        sent = (await gql(a, SEND, {"i": {"inviteeId": bob}}, token))["sendInvitation"]
        entry = sent["ledgerEntry"]["id"]
        results = await asyncio.gather(*(gql((a, b)[i % 2], reverse, {"i": {"entryId": entry, "reason": f"r{i}"}},
                                             admin) for i in range(12)))
        outcomes = sorted(str(r["reverseLedgerEntry"]["userErrors"]) for r in results)
        assert outcomes.count("[]") == 1 and outcomes.count("[{'code': 'ALREADY_REVERSED'}]") == 11, outcomes
        assert (await gql(b, VIEW, token=token))["viewer"]["balance"]["available"] == 15
    assert violations(url) == []


async def test_a_consumer_paging_the_feed_during_writes_on_two_nodes_sees_every_event_once(
        nodes: tuple[str, list[LiveServer]]) -> None:
    url, servers = nodes
    a, b = clients(servers)
    admin = auth.admin_token(LIVE_SECRET, 600)
    feed = ("query($after: String) { events(first: 100, after: $after) { edges { node { id } } "
            "pageInfo { endCursor } } }")
    seen: list[str] = []
    cursor: list[str | None] = [None]
    done = asyncio.Event()

    async def drain() -> None:
        """Page from where the consumer stopped until a page comes back empty."""
        while True:
            page = (await gql(a, feed, {"after": cursor[0]}, admin))["events"]
            seen.extend(e["node"]["id"] for e in page["edges"])
            cursor[0] = page["pageInfo"]["endCursor"] or cursor[0]
            if not page["edges"]:
                return

    async def consume() -> None:
        while not done.is_set():
            await drain()
            await asyncio.sleep(0.02)

    async def write(node: int) -> None:
        client = (a, b)[node]
        members = [await sign_up(client, f"n{node}m{i}@example.com") for i in range(12)]
        await asyncio.gather(*(gql(client, SEND, {"i": {"inviteeId": members[(i + k) % 12][0]}}, token)
                               for i, (_, token) in enumerate(members) for k in (1, 2, 3)))

    async with a, b:
        consumer = asyncio.create_task(consume())
        await asyncio.gather(write(0), write(1))
        done.set()
        await asyncio.wait_for(consumer, timeout=60)
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT count(*) FROM events").fetchone()
        assert row is not None
        # The writers are done: what the feed still held back (transactions then running) comes in now.
        deadline = asyncio.get_running_loop().time() + 30
        while len(seen) < row[0] and asyncio.get_running_loop().time() < deadline:
            await drain()
            await asyncio.sleep(0.05)
    assert len(seen) == len(set(seen)) == row[0] > 12 * 2 * 5
    assert violations(url) == []


async def test_two_nodes_deliver_each_event_once() -> None:
    from .receiver import receiver

    create = "mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret } }"
    admin = auth.admin_token(LIVE_SECRET, 600)
    with pg.fresh_database() as url, receiver() as hook:
        servers = [start_server(url, INVITE_CREDITS_WEBHOOK_ALLOW_PRIVATE="1") for _ in range(2)]
        try:
            a, b = clients(servers)
            async with a, b:
                await gql(a, create, {"i": {"url": hook.url, "eventTypes": ["MEMBER_SIGNED_UP", "LEDGER_ENTRY_ADDED"]}},
                          admin)
                await asyncio.gather(*(sign_up((a, b)[i % 2], f"m{i}@example.com") for i in range(30)))
                got = await asyncio.to_thread(hook.wait_for, 60, 30)
                await asyncio.sleep(1)  # time for a repeat, if there were one
        finally:
            for server in servers:
                server.stop()
    ids = [r.headers["webhook-id"] for r in hook.got]
    assert len(got) >= 60 and len(ids) == len(set(ids)) == 60  # a sign-up and its entry each, once


async def test_a_delivery_cut_short_by_sigkill_is_made_again_with_the_same_webhook_id() -> None:
    from .receiver import receiver

    create = ("mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { endpoint { id } "
              "secret } }")
    admin = auth.admin_token(LIVE_SECRET, 600)
    with pg.fresh_database() as url, receiver() as hook:
        first = start_server(url, INVITE_CREDITS_WEBHOOK_ALLOW_PRIVATE="1")
        try:
            async with httpx.AsyncClient(base_url=first.url, timeout=30) as a:
                made = (await gql(a, create, {"i": {"url": hook.url, "eventTypes": ["MEMBER_SIGNED_UP"]}},
                                  admin))["createWebhookEndpoint"]
                hook.delay = 30  # the receiver takes its time: the process is killed mid-delivery
                await sign_up(a, "ann@example.com")
                await asyncio.to_thread(hook.wait_for, 1)
        finally:
            first.process.send_signal(signal.SIGKILL)
            first.process.wait()
        hook.delay = 0
        second = start_server(url, INVITE_CREDITS_WEBHOOK_ALLOW_PRIVATE="1")  # another process, after the lease
        try:
            got = await asyncio.to_thread(hook.wait_for, 2, 60)
            assert got[0].headers["webhook-id"] == got[1].headers["webhook-id"]
            from standardwebhooks.webhooks import Webhook

            Webhook(made["secret"]).verify(got[1].body, got[1].headers)
            async with httpx.AsyncClient(base_url=second.url, timeout=30) as b:
                deadline = asyncio.get_running_loop().time() + 10
                while True:
                    node = (await gql(b, "query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { deliveries { "
                                         "edges { node { status attempts } } } } } }",
                                      {"id": made["endpoint"]["id"]}, admin))["node"]
                    delivery = node["deliveries"]["edges"][0]["node"]
                    if delivery["status"] == "SUCCEEDED" or asyncio.get_running_loop().time() > deadline:
                        break
                    await asyncio.sleep(0.2)
            assert delivery == {"status": "SUCCEEDED", "attempts": 1}  # the killed attempt was never recorded
        finally:
            second.stop()


async def test_a_node_killed_under_load_loses_nothing_it_acknowledged(nodes: tuple[str, list[LiveServer]]) -> None:
    url, servers = nodes
    a, b = clients(servers)
    acknowledged: list[str] = []
    async with a, b:
        senders = [await sign_up((a, b)[i % 2], f"s{i}@example.com") for i in range(8)]
        invitees = [(await sign_up(b, f"t{i}@example.com"))[0] for i in range(12)]

        async def send(client: httpx.AsyncClient, token: str, invitee: str) -> None:
            try:
                body: dict[str, Any] = (await client.post("/graphql", json={"query": SEND, "variables": {
                    "i": {"inviteeId": invitee}}}, headers={"authorization": f"Bearer {token}"})).json()
            except httpx.HTTPError:
                unanswered.append(invitee)
                return  # the killed node: no answer, so nothing was promised
            payload = body["data"]["sendInvitation"]
            if payload and not payload["userErrors"]:
                acknowledged.append(payload["invitation"]["id"])
                if client is a:
                    acknowledged_by_a.append(payload["invitation"]["id"])

        unanswered: list[str] = []
        acknowledged_by_a: list[str] = []
        work = [send((a, b)[(i + j) % 2], token, invitee) for i, (_, token) in enumerate(senders)
                for j, invitee in enumerate(invitees)]
        tasks = [asyncio.create_task(w) for w in work]
        deadline = asyncio.get_running_loop().time() + 30
        while len(acknowledged_by_a) < 5 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.005)  # the kill comes once the node is answering sends, not at a guessed moment
        os.kill(servers[0].process.pid, signal.SIGKILL)
        await asyncio.gather(*tasks)
        assert len(acknowledged_by_a) >= 5 and unanswered, "the kill did not land under load"
        query = "query($id: ID!) { node(id: $id) { ... on Invitation { id } } }"
        admin = auth.admin_token(LIVE_SECRET, 600)
        for invitation in acknowledged:
            assert (await gql(b, query, {"id": invitation}, admin))["node"] == {"id": invitation}
    assert violations(url) == []
