"""The demo seeds every state a newcomer should see, and keeps every invariant."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from invite_credits.cli import main
from invite_credits.demo import seed
from invite_credits.settings import Settings

from .conftest import violations

pytestmark = pytest.mark.anyio


async def test_demo_covers_every_state(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "demo.db", jwt_secret="demo-secret-long-enough-for-hs256-ok")
    members = await seed(settings)
    assert {m.tier.value for m in members} == {"FREE", "PREMIUM", "RECRUITER"}
    assert [m.id for m in await seed(settings)] == [m.id for m in members]  # seeding twice changes nothing
    conn = sqlite3.connect(settings.db_path)
    statuses = {row[0] for row in conn.execute("SELECT DISTINCT status FROM invitations")}
    soon = conn.execute("SELECT count(*) FROM credit_lots WHERE expires_at < strftime('%s','now') + 30 * 86400 "
                        "AND expires_at > strftime('%s','now') AND remaining > 0").fetchone()[0]
    conn.close()
    assert statuses == {"PENDING", "ACCEPTED", "DECLINED", "WITHDRAWN"}
    assert soon > 0
    assert violations(settings.db_path) == []


def test_demo_command_prints_tokens(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVITE_CREDITS_JWT_SECRET", "demo-secret-long-enough-for-hs256-ok")
    assert main(["demo", "--db", str(tmp_path / "d.db")]) == 0
    out = capsys.readouterr().out
    assert out.count("Bearer ey") == 7 and "Rita Recruiter" in out
