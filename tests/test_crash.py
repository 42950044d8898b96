"""Crash safety and backup: SIGKILL a busy server again and again; copy a busy database."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import start_server, violations

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SIGN_UP = "mutation($i: SignUpInput!) { signUp(input: $i) { member { id } token userErrors { code } } }"
SEND = "mutation($i: SendInvitationInput!) { sendInvitation(input: $i) { invitation { id } userErrors { code } } }"
IMPORT = "mutation($i: ImportContactsInput!) { importContacts(input: $i) { imported userErrors { code } } }"


class Acknowledged:
    def __init__(self) -> None:
        self.emails: set[str] = set()
        self.invitations: set[str] = set()
        self.counter = 0


class NotAcknowledged(Exception):
    """The server answered that the write did not happen (it is going away)."""


async def _post(client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    response.raise_for_status()
    body = response.json()
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
    if codes and set(codes) <= {"SERVICE_UNAVAILABLE"}:
        raise NotAcknowledged(codes)
    assert not codes and body.get("data"), body  # anything else is a bug, not the kill
    return body["data"]


async def _worker(url: str, ack: Acknowledged, seed: int) -> None:
    """Writes until the server dies; records only what the server acknowledged."""
    rng = random.Random(seed)
    members: list[tuple[str, str]] = []
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            while True:
                ack.counter += 1
                n = ack.counter
                if len(members) < 3 or rng.random() < 0.3:
                    email = f"w{seed}-{n}@example.com"
                    payload = (await _post(client, SIGN_UP, {"i": {"email": email, "name": "W"}}))["signUp"]
                    if not payload["userErrors"]:
                        ack.emails.add(email)
                        members.append((payload["member"]["id"], payload["token"]))
                elif rng.random() < 0.5:
                    (_, token), (invitee, _) = rng.sample(members, 2)
                    payload = (await _post(client, SEND, {"i": {"inviteeId": invitee}}, token))["sendInvitation"]
                    if payload["invitation"]:
                        ack.invitations.add(payload["invitation"]["id"])
                else:
                    _, token = rng.choice(members)
                    contacts = [{"email": f"c{n}-{i}@x.com"} for i in range(rng.randint(1, 30))]
                    await _post(client, IMPORT, {"i": {"contacts": contacts}}, token)
    except (httpx.HTTPError, NotAcknowledged):
        return  # the server was killed mid-request: that request was never acknowledged


async def test_sigkill_under_load_loses_nothing_acknowledged(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    ack = Acknowledged()
    rng = random.Random(7)
    for round_ in range(10):
        server = start_server(db, INVITE_CREDITS_SYNCHRONOUS="FULL")
        workers = [asyncio.create_task(_worker(server.url, ack, round_ * 100 + w)) for w in range(8)]
        await asyncio.sleep(rng.uniform(0.3, 1.2))
        server.process.kill()  # SIGKILL: no shutdown, no final commit
        server.process.wait()
        await asyncio.gather(*workers)
    assert len(ack.emails) > 50 and ack.invitations  # the load was real
    assert violations(db) == []
    conn = sqlite3.connect(db)
    stored = {row[0] for row in conn.execute("SELECT email FROM members")}
    from invite_credits.domain import ids

    invitations = {ids.encode("Invitation", row[0]) for row in conn.execute("SELECT id FROM invitations")}
    conn.close()
    assert ack.emails <= stored
    assert ack.invitations <= invitations
    result = subprocess.run([sys.executable, "-m", "invite_credits.cli", "check", "--db", str(db)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


async def test_online_backup_while_writing_passes_check(tmp_path: Path) -> None:
    server = start_server(tmp_path / "live.db", INVITE_CREDITS_SYNCHRONOUS="NORMAL")
    ack = Acknowledged()
    try:
        workers = [asyncio.create_task(_worker(server.url, ack, w)) for w in range(4)]
        await asyncio.sleep(0.5)
        backup = tmp_path / "backup.db"
        result = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "invite_credits.cli", "backup", str(backup), "--db",
                             str(server.db_path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        await asyncio.sleep(0.3)
    finally:
        server.stop()
        await asyncio.gather(*workers)
    assert violations(backup) == []
    restored = start_server(backup)  # a restore is starting the server on the copy
    try:
        assert httpx.get(restored.url + "/healthz").status_code == 200
    finally:
        restored.stop()
    check = subprocess.run([sys.executable, "-m", "invite_credits.cli", "check", "--db", str(backup)],
                           capture_output=True, text=True)
    assert check.returncode == 0 and "0 violation(s)" in check.stdout
