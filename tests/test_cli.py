"""The command line as an operator meets it: one clear line for every bad setting, nothing half done."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from invite_credits.cli import COMMANDS, main
from invite_credits.domain import ids

from .conftest import LIVE_SECRET, free_port

SCRIPT = str(Path(sys.executable).with_name("invite-credits"))


def run(args: Sequence[str], *, env: dict[str, str] | None = None, user: str | None = None,
        timeout: float = 30) -> subprocess.CompletedProcess[str]:
    command = [SCRIPT, *args]
    if user == "nobody":
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    return subprocess.run(command, env={**os.environ, "INVITE_CREDITS_JWT_SECRET": LIVE_SECRET, **(env or {})},
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def assert_refused_in_one_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # no banner before it, nothing after it
    line = json.loads(lines[0])  # serve logs JSON, like every other line it writes
    assert line["level"] == "error"
    for word in words:
        assert word in line["msg"], line


def sqlite_file(path: Path) -> Path:
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    return path


def test_serve_refuses_a_database_in_a_missing_directory_and_creates_nothing(tmp_path: Path) -> None:
    result = run(["serve", "--db", str(tmp_path / "typo" / "credits.db"), "--port", str(free_port())])
    assert_refused_in_one_line(result, "does not exist", "--db")
    assert not (tmp_path / "typo").exists()


def test_serve_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello, I am not SQLite\n" * 10)
    assert_refused_in_one_line(run(["serve", "--db", str(tmp_path / "notes.txt")]), "not a SQLite database")


def test_serve_refuses_a_directory_as_the_database(tmp_path: Path) -> None:
    assert_refused_in_one_line(run(["serve", "--db", str(tmp_path)]), "is a directory")


@pytest.mark.parametrize(("args", "env", "words"), [
    (["--port", "80999"], {}, ["--port", "65535"]),
    ([], {"INVITE_CREDITS_LOG_LEVEL": "bogus"}, ["INVITE_CREDITS_LOG_LEVEL"]),
    ([], {"INVITE_CREDITS_SWEEP_INTERVAL": "abc"}, ["INVITE_CREDITS_SWEEP_INTERVAL"]),
    ([], {"INVITE_CREDITS_SYNCHRONOUS": "sometimes"}, ["INVITE_CREDITS_SYNCHRONOUS"]),
    ([], {"INVITE_CREDITS_READ_CONNECTIONS": "0"}, ["INVITE_CREDITS_READ_CONNECTIONS"]),
    ([], {"INVITE_CREDITS_MAX_QUERY_COST": "lots"}, ["INVITE_CREDITS_MAX_QUERY_COST"]),
    ([], {"INVITE_CREDITS_TEST_CLOCK": "maybe"}, ["INVITE_CREDITS_TEST_CLOCK"]),
    ([], {"INVITE_CREDITS_JWT_SECRET": "12345"}, ["INVITE_CREDITS_JWT_SECRET", "32 bytes"]),
    (["--workers", "0"], {}, ["--workers"]),
])
def test_serve_refuses_a_bad_setting_in_one_line(tmp_path: Path, args: list[str], env: dict[str, str],
                                                 words: list[str]) -> None:
    result = run(["serve", "--db", str(tmp_path / "c.db"), *args], env=env)
    assert_refused_in_one_line(result, *words)
    assert not (tmp_path / "c.db").exists() or "JWT" in words[0]


def test_serve_refuses_a_port_in_use(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_refused_in_one_line(run(["serve", "--db", str(tmp_path / "c.db"), "--port", str(port)]),
                                   f"127.0.0.1:{port}")


def test_serve_refuses_a_test_clock_database_without_the_test_clock(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    assert main(["migrate", "--db", str(db)]) == 0
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO test_clock (id, now) VALUES (1, 4000000000)")  # 2096, as a test run left it
    conn.commit()
    conn.close()
    assert_refused_in_one_line(run(["serve", "--db", str(db)]), "INVITE_CREDITS_TEST_CLOCK=1")


def _nobody_runs_the_cli() -> bool:
    """Read-only files need another user than root: `nobody`, through setpriv, as root. A checkout under a
    directory `nobody` cannot enter (a 0700 home, `mktemp -d`) leaves it unable to run the CLI at all."""
    if shutil.which("setpriv") is None or os.geteuid() != 0:
        return False
    return run(["--version"], user="nobody").returncode == 0


needs_setpriv = pytest.mark.skipif(not _nobody_runs_the_cli(),
                                   reason="user nobody cannot run this checkout's CLI (not root, no setpriv, or "
                                          "the checkout sits under a directory nobody cannot enter)")


def _shared_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"invite-credits-ro-{os.getpid()}-{tmp_path.name}"
    folder.mkdir(mode=0o755)
    return folder


@needs_setpriv
def test_serve_refuses_a_read_only_database_file(tmp_path: Path) -> None:
    folder = _shared_dir(tmp_path)
    try:
        folder.chmod(0o777)
        db = sqlite_file(folder / "c.db")
        db.chmod(0o444)
        assert_refused_in_one_line(run(["serve", "--db", str(db)], user="nobody"), "read-only")
    finally:
        shutil.rmtree(folder)


@needs_setpriv
def test_serve_refuses_a_read_only_directory(tmp_path: Path) -> None:
    folder = _shared_dir(tmp_path)
    try:
        assert_refused_in_one_line(run(["serve", "--db", str(folder / "c.db")], user="nobody"), "read-only")
        assert list(folder.iterdir()) == []
    finally:
        shutil.rmtree(folder)


def test_backup_of_a_missing_database_fails_and_writes_nothing(tmp_path: Path) -> None:
    result = run(["backup", str(tmp_path / "copy.db"), "--db", str(tmp_path / "missing.db")])
    assert result.returncode == 2 and "does not exist" in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_token_refuses_an_unknown_member(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "c.db"
    assert main(["migrate", "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["token", ids.encode("Member", 42), "--db", str(db)]) == 2
    assert "no member" in capsys.readouterr().err
    assert main(["token", "not-an-id", "--db", str(db)]) == 2
    assert main(["token", "--admin", "--db", str(db)]) == 0
    assert capsys.readouterr().out.startswith("ey")


def test_token_mints_for_the_members_session_and_revoke_ends_it(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from starlette.testclient import TestClient

    from invite_credits.http.app import create_app
    from invite_credits.settings import Settings

    from .http import Api

    db = tmp_path / "c.db"
    settings = Settings(db_path=db, jwt_secret=LIVE_SECRET, synchronous="OFF", sweep_interval_seconds=3600)
    with TestClient(create_app(settings)) as client:
        member_id, signed_up = Api(client).sign_up("cli@example.com", "Cli")
    capsys.readouterr()
    monkeypatch.setenv("INVITE_CREDITS_JWT_SECRET", LIVE_SECRET)
    assert main(["token", member_id, "--db", str(db)]) == 0
    minted = capsys.readouterr().out.strip()
    assert main(["token", "--revoke", member_id, "--db", str(db)]) == 0
    assert "signed out everywhere" in capsys.readouterr().out
    assert main(["token", "--revoke", ids.encode("Member", 99), "--db", str(db)]) == 2
    assert "no member" in capsys.readouterr().err
    with TestClient(create_app(settings)) as client:
        api = Api(client)
        for refused in (signed_up, minted):
            assert api.post("{ viewer { id } }", token=refused).status_code == 401
        assert main(["token", member_id, "--db", str(db)]) == 0
        fresh = capsys.readouterr().out.strip()
        assert api.data("{ viewer { id } }", token=fresh) == {"viewer": {"id": member_id}}


def test_an_admin_token_needs_the_database_whose_secret_it_uses(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "INVITE_CREDITS_JWT_SECRET"}
    result = subprocess.run([SCRIPT, "token", "--admin", "--db", str(tmp_path / "typo" / "c.db")], env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "does not exist" in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # no directory, no secret file created


def test_help_lists_every_command_and_version_prints() -> None:
    result = run(["--help"], env={"COLUMNS": "200"})
    assert result.returncode == 0
    for name, (text, _) in COMMANDS.items():
        assert f"  {name}" in result.stdout and text in result.stdout, name
    version = run(["--version"])
    assert version.returncode == 0 and version.stdout.startswith("invite-credits ")


# -- the traps an operator met (issue 22) ------------------------------------------------------------------------
def test_help_lists_each_command_once_and_serve_names_its_variables() -> None:
    import re

    top = run(["--help"], env={"COLUMNS": "200"}).stdout
    for name in COMMANDS:
        assert len(re.findall(rf"^ +{name}\s", top, flags=re.M)) == 1, (name, top)
    serve = run(["serve", "--help"]).stdout
    for variable in ("INVITE_CREDITS_DB", "INVITE_CREDITS_JWT_SECRET", "INVITE_CREDITS_CORS_ORIGINS",
                     "INVITE_CREDITS_GRAPHIQL", "docs/operations.md"):
        assert variable in serve, variable


def test_token_takes_the_api_id_only_and_says_when_it_expires(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    assert run(["demo", "--db", str(db)]).returncode == 0
    raw = run(["token", "1", "--db", str(db)])
    assert raw.returncode == 2 and "not a member ID" in raw.stderr and "Traceback" not in raw.stderr
    minted = run(["token", ids.encode("Member", 1), "--db", str(db)],
                 env={"INVITE_CREDITS_MEMBER_TOKEN_TTL": "7200"})
    assert minted.returncode == 0 and minted.stdout.count("\n") == 1 and minted.stdout.startswith("ey")
    assert "expires" in minted.stderr and "2 h 0 min" in minted.stderr and "MEMBER_TOKEN_TTL" in minted.stderr
    admin = run(["token", "--admin", "--db", str(db)])
    assert "in 1 day " in admin.stderr and "ADMIN_TOKEN_TTL" in admin.stderr


def test_demo_after_the_test_clock_names_itself_and_fresh_starts_over(tmp_path: Path) -> None:
    db = tmp_path / "clock.db"
    assert run(["migrate", "--db", str(db)]).returncode == 0
    sqlite3.connect(db).execute("INSERT OR REPLACE INTO test_clock (id, now) VALUES (1, 4102444800)").connection.commit()
    refused = run(["demo", "--db", str(db)])
    assert refused.returncode == 2 and refused.stderr.startswith("invite-credits demo:"), refused.stderr
    assert "demo --fresh" in refused.stderr and "Traceback" not in refused.stderr
    fresh = run(["demo", "--fresh", "--db", str(db)])
    assert fresh.returncode == 0 and "Ann" in fresh.stdout and "expires" in fresh.stdout, fresh.stderr
    again = run(["demo", "--fresh", "--db", str(db)])  # twice in a row, as a person would
    assert again.returncode == 0
    not_sqlite = tmp_path / "notes.db"
    not_sqlite.write_text("my notes")
    kept = run(["demo", "--fresh", "--db", str(not_sqlite)])  # --fresh removes a SQLite file, nothing else
    assert kept.returncode == 2 and not_sqlite.read_text() == "my notes"


def test_demo_into_a_closed_pipe_and_schema_into_a_missing_directory(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    piped = subprocess.run(f"{SCRIPT} demo --db {db} | head -1", shell=True, capture_output=True, text=True,
                           timeout=60, env={**os.environ, "INVITE_CREDITS_JWT_SECRET": LIVE_SECRET})
    assert "Traceback" not in piped.stderr and piped.stdout.count("\n") == 1, piped.stderr
    missing = run(["export-schema", str(tmp_path / "nodir" / "s.graphql")])
    assert missing.returncode == 2 and "cannot write" in missing.stderr and "Traceback" not in missing.stderr


def test_copy_names_its_own_flags(tmp_path: Path) -> None:
    for source, words in ((tmp_path / "missing.db", "does not exist"), (Path(__file__), "not a SQLite database")):
        result = run(["copy", "--from", str(source), "--to", "postgresql://nobody@127.0.0.1:1/none"])
        assert result.returncode == 2 and words in result.stderr and "--from" in result.stderr
        assert "--db" not in result.stderr and "Traceback" not in result.stderr


def test_check_never_writes_and_refuses_what_is_not_a_database(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    result = run(["check", "--db", str(empty)])
    assert result.returncode == 2 and "empty" in result.stderr and "Traceback" not in result.stderr
    assert empty.stat().st_size == 0  # nothing was written into it
    blank = tmp_path / "blank.db"
    sqlite_file(blank)
    result = run(["check", "--db", str(blank)])
    assert result.returncode == 2 and "no invite-credits schema" in result.stderr
    good = tmp_path / "good.db"
    assert run(["migrate", "--db", str(good)]).returncode == 0
    before = good.stat().st_mtime_ns
    assert run(["check", "--db", str(good)]).returncode == 0
    assert good.stat().st_mtime_ns == before


def test_a_backup_killed_early_leaves_nothing_at_the_target(tmp_path: Path) -> None:
    import signal
    import time

    db = tmp_path / "big.db"
    assert run(["migrate", "--db", str(db)]).returncode == 0
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE ballast (x BLOB)")
    conn.executemany("INSERT INTO ballast VALUES (randomblob(100000))", [()] * 3000)  # ~300 MB
    conn.commit()
    conn.close()
    target = tmp_path / "copy.db"
    process = subprocess.Popen([SCRIPT, "backup", str(target), "--db", str(db)],
                               env={**os.environ, "INVITE_CREDITS_JWT_SECRET": LIVE_SECRET},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    partial = tmp_path / "copy.db.partial"
    while not partial.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not target.exists()  # a half-written copy never sits where a restore would look
    assert run(["backup", str(target), "--db", str(db)]).returncode == 0  # the next backup writes it whole
    assert target.exists() and not partial.exists()


def test_export_and_events_tail_print_a_members_ledger_and_the_events(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    assert run(["demo", "--db", str(db)], timeout=120).returncode == 0
    csv_out = run(["export", "--member", "TWVtYmVyOjE", "--db", str(db)])
    assert csv_out.returncode == 0 and csv_out.stdout.startswith("id,occurred_at,reason,amount,")
    rows = csv_out.stdout.strip().splitlines()[1:]
    ndjson = [json.loads(line) for line in run(["export", "--member", "TWVtYmVyOjE", "--format", "ndjson",
                                                "--db", str(db)]).stdout.splitlines()]
    assert len(ndjson) == len(rows) and [e["seq"] for e in ndjson] == list(range(1, len(rows) + 1))
    for args, words in [(["--member", "nope"], "--member"), (["--member", "TWVtYmVyOjk5"], "no member"),
                        (["--member", "TWVtYmVyOjE", "--since", "soon"], "--since")]:
        refused = run(["export", *args, "--db", str(db)])
        assert refused.returncode == 2 and words in refused.stderr and "Traceback" not in refused.stderr
    tail = run(["events", "tail", "--from-start", "--once", "--types", "invitation_sent,MEMBER_TIER_CHANGED",
                "--db", str(db)])
    events = [json.loads(line) for line in tail.stdout.splitlines()]
    assert events and {e["type"] for e in events} == {"INVITATION_SENT", "MEMBER_TIER_CHANGED"}
    assert all(e["id"] and e["data"] for e in events)
    assert run(["events", "tail", "--once", "--db", str(db)]).stdout == ""  # from now: nothing new
    refused = run(["events", "tail", "--types", "NOPE", "--db", str(db)])
    assert refused.returncode == 2 and "unknown NOPE" in refused.stderr
