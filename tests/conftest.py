from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import settings as hypothesis_settings
from starlette.testclient import TestClient

from invite_credits import auth
from invite_credits.domain.access import Actor
from invite_credits.domain.policy import Policy
from invite_credits.http.app import create_app
from invite_credits.service import Service, SignUp
from invite_credits.service.check import find_violations
from invite_credits.settings import Settings
from invite_credits.store import postgres
from invite_credits.store.databases import backend
from invite_credits.store.sqlite.database import Database

from . import pg
from .http import Api

# CI explores a fixed sequence of examples, so a red run is reproducible; locally each run explores anew.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

T0 = int(datetime(2026, 1, 15, 12, 0, tzinfo=UTC).timestamp())
ADMIN = Actor(is_admin=True)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


STORES = ["sqlite", "postgres"]


@pytest.fixture(params=STORES)
def store_kind(request: pytest.FixtureRequest) -> str:
    """Each test that takes it runs on SQLite and on PostgreSQL."""
    kind: str = request.param
    if kind == "postgres":
        pg.require_server()
    return kind


@pytest.fixture
def database(store_kind: str, tmp_path: Path) -> Iterator[str]:
    """A new database of the kind: a file path, or the URL of a fresh PostgreSQL database."""
    if store_kind == "postgres":
        with pg.fresh_database() as url:
            yield url
    else:
        yield str(tmp_path / "test.db")


APP_SECRET = "test-secret-that-is-long-enough-for-hs256"


@pytest.fixture
def settings(database: str) -> Settings:
    """The app on each store with the test clock, as the API tests drive it (webhooks may reach 127.0.0.1). A
    test module may define its own `settings`, `api` and `admin` instead."""
    return settings_on(database, jwt_secret=APP_SECRET, test_clock=True, synchronous="NORMAL",
                       sweep_interval_seconds=3600, webhook_allow_private=True)


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    with TestClient(create_app(settings)) as client:
        yield Api(client)
        # On PostgreSQL a read on the event loop would hold every request up for its round trip: none may run
        # there, whatever the test asked (tests/test_stall.py counts them for chosen requests too).
        db = client.app.state.app_state.service.db  # type: ignore[attr-defined]
        assert getattr(db, "loop_reads", 0) == 0, f"{db.loop_reads} reads ran on the event loop"


@pytest.fixture
def admin() -> str:
    return auth.admin_token(APP_SECRET, 3600)


def settings_on(database: str, **values: Any) -> Settings:
    """Settings for an app on the database fixture's path or URL."""
    if database.startswith("postgresql://"):
        return Settings(db_url=database, **values)
    return Settings(db_path=Path(database), **values)


def open_database(where: str | Path, **options: object) -> Database | postgres.Database:
    """A store on the path or URL (test clock options as keywords); not yet open."""
    if str(where).startswith("postgresql://"):
        return postgres.Database(str(where), **options)  # type: ignore[arg-type]
    return Database(where, synchronous="NORMAL", readers=2, **options)  # type: ignore[arg-type]


def location(db: object) -> str:
    """Where a store's data is: its URL or its file (a store of either kind)."""
    assert isinstance(db, Database | postgres.Database)
    return db.url if isinstance(db, postgres.Database) else str(db.path)


@pytest.fixture
async def service(database: str) -> AsyncIterator[Service]:
    db = open_database(database, test_clock=True, test_start=T0)
    await db.open()
    yield Service(db)
    await db.close()


async def join(service: Service, email: str, name: str = "Member", referral_code: str | None = None) -> int:
    outcome = await service.sign_up(Actor(), SignUp(email=email, name=name, referral_code=referral_code))
    assert outcome.member_id is not None
    return outcome.member_id


async def available(service: Service, member_id: int) -> int:
    member = service.member(member_id)
    assert member is not None
    return (service.balance(member)).available


def violations(where: str | Path | Settings) -> list[str]:
    """Every violation `check` finds in the database at a path or URL, or of a server's settings."""
    if isinstance(where, Settings):
        settings = where
    elif str(where).startswith("postgresql://"):
        settings = Settings(db_url=str(where), jwt_secret=LIVE_SECRET)
    else:
        settings = Settings(db_path=Path(where))
    database = backend(settings)
    with database.reader() as r:
        return database.integrity_problems(r) + find_violations(r, Policy())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if pg.SKIPPED:
        terminalreporter.write_sep("!", f"PostgreSQL tests SKIPPED ({len(pg.SKIPPED)}): {pg.SKIPPED[0]}", red=True,
                                   bold=True)


def pytest_sessionfinish() -> None:
    pg.drop_templates()


def raw(path: str | Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


# -- a real server process -------------------------------------------------------------------------------
LIVE_SECRET = "live-server-secret-long-enough-for-hs256-tokens"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    db_path: Path | str  # a SQLite file, or a postgresql:// URL
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# Suites are the scripts rate limits slow down: live servers run without them unless a test sets one.
NO_RATE_LIMITS = {"INVITE_CREDITS_MEMBER_MUTATIONS_PER_MINUTE": "0", "INVITE_CREDITS_SIGNUPS_PER_HOUR": "0",
                  "INVITE_CREDITS_ANONYMOUS_REQUESTS_PER_MINUTE": "0"}


def start_server(db_path: Path | str, **env: str) -> LiveServer:
    """Start `invite-credits serve` as users do (rate limits off unless `env` sets them), and wait until /healthz
    answers."""
    port = free_port()
    script = Path(sys.executable).with_name("invite-credits")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "invite_credits.cli"]
    process = subprocess.Popen(
        [*command, "serve", "--db", str(db_path), "--port", str(port)],
        env={**os.environ, "INVITE_CREDITS_JWT_SECRET": LIVE_SECRET, **NO_RATE_LIMITS, **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_until_ready(url, process)
    return LiveServer(url, db_path, process)


def wait_until_ready(url: str, process: subprocess.Popen[bytes], path: str = "/healthz", seconds: float = 60) -> None:
    """Wait until the server at `url` answers `path` with 200; fail if it exits or takes longer."""
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url + path, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise RuntimeError(f"{url} did not answer {path} in {seconds:g} s")
        time.sleep(0.1)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    server = start_server(tmp_path / "live.db", INVITE_CREDITS_SYNCHRONOUS="FULL")
    yield server
    server.stop()
