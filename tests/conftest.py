from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from invite_credits.check import find_violations
from invite_credits.clock import Clock
from invite_credits.domain.access import Actor
from invite_credits.service import Service, SignUp
from invite_credits.store.database import Database, connect
from invite_credits.store.queries import load_queries

T0 = int(datetime(2026, 1, 15, 12, 0, tzinfo=UTC).timestamp())
ADMIN = Actor(is_admin=True)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    clock = Clock(test_now=T0)
    db = Database(tmp_path / "test.db", clock=clock.now, synchronous="NORMAL", readers=2)
    await db.open()
    yield Service(db, clock, test_clock_enabled=True)
    await db.close()


async def join(service: Service, email: str, name: str = "Member", referral_code: str | None = None) -> int:
    outcome = await service.sign_up(Actor(), SignUp(email=email, name=name, referral_code=referral_code))
    assert outcome.member_id is not None
    return outcome.member_id


async def available(service: Service, member_id: int) -> int:
    member = await service.member(member_id)
    assert member is not None
    return (await service.balance(member)).available


def violations(path: str | Path) -> list[str]:
    conn = connect(path)
    try:
        return find_violations(conn, load_queries(), __import__("invite_credits").domain.policy.Policy())
    finally:
        conn.close()


def raw(path: str | Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn
