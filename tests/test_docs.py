"""Docs that cannot drift: every setting, command and error code is documented, and the examples run as written."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from invite_credits.cli import COMMANDS, build_parser
from invite_credits.domain.errors import Code
from invite_credits.settings import ENVIRONMENT

from .conftest import LIVE_SECRET, start_server

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
API = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
OPERATIONS = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
SOURCES = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "src" / "invite_credits").rglob("*.py"))
# The modules that answer with an error code: every code they can send must be documented.
_ERROR_MODULES = ["http/responses.py", "http/endpoint.py", "http/websocket.py", "http/middleware.py", "api/errors.py",
                  "api/limits.py", "api/query.py", "pipeline/persisted.py", "pipeline/pipeline.py", "domain/errors.py",
                  "events/live.py"]


def _request_codes() -> set[str]:
    """The codes a GraphQL error's extensions.code may carry besides UserErrorCode (which userErrors carry), read
    from the code itself: the all-caps code literals of the modules that answer errors, and every error class's
    `code = "..."`."""
    text = "\n".join((ROOT / "src" / "invite_credits" / name).read_text(encoding="utf-8") for name in _ERROR_MODULES)
    found = set(re.findall(r'"([A-Z]+(?:_[A-Z]+)+)"', text)) | set(re.findall(r'\bcode = "([A-Z_]+)"', SOURCES))
    return found - {str(code) for code in Code}


REQUEST_CODES = sorted(_request_codes())


def test_every_environment_variable_the_code_reads_is_known_and_documented() -> None:
    read = set(re.findall(r'"(INVITE_CREDITS_[A-Z_]+)"', SOURCES)) - {"INVITE_CREDITS_"}
    assert read <= set(ENVIRONMENT), f"read but not in settings.ENVIRONMENT: {read - set(ENVIRONMENT)}"
    for name in ENVIRONMENT:
        assert name in OPERATIONS or name.removeprefix("INVITE_CREDITS") in OPERATIONS, f"{name} is not in operations.md"


def test_every_command_is_in_the_readme_and_every_option_has_help() -> None:
    for name in COMMANDS:
        assert f"invite-credits {name}" in README, f"README does not show `invite-credits {name}`"
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.choices and isinstance(a.choices, dict))
    assert isinstance(subparsers.choices, dict)
    for name, sub in subparsers.choices.items():
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings or action.dest} has no help"


def test_every_error_code_is_documented() -> None:
    for code in [*Code, *REQUEST_CODES]:
        assert f"`{code}`" in API or f"`{code}`" in (ROOT / "docs" / "rules.md").read_text(encoding="utf-8"), code
    assert {"UNAUTHENTICATED", "QUERY_TOO_COMPLEX", "RATE_LIMITED", "PERSISTED_QUERY_NOT_IN_LIST"} <= set(REQUEST_CODES)
    documented = set(re.findall(r"^ *\| `([A-Z]+(?:_[A-Z]+)*)`(?:, `([A-Z_]+)`)? \|", API, flags=re.M))
    for names in documented:
        for code in filter(None, names):
            assert code in REQUEST_CODES or code in {str(c) for c in Code}, f"{code} is documented but never sent"


# -- the examples, run as written ----------------------------------------------------------------------------
def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def _post(url: str, query: str, token: str | None) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.post(url + "/graphql", json={"query": query}, headers=headers, timeout=30).json()


def _assert_clean(body: object, where: str) -> None:
    assert isinstance(body, dict) and "errors" not in body and body.get("data"), f"{where}: {body}"
    for payload in body["data"].values():
        if isinstance(payload, dict) and "userErrors" in payload:
            assert payload["userErrors"] == [], f"{where}: {payload}"


@pytest.mark.slow
def test_readme_and_api_examples_run_after_the_demo(tmp_path: Path) -> None:
    if not (shutil.which("curl") and shutil.which("jq")):
        if os.environ.get("CI"):
            pytest.fail("curl and jq are needed for the docs examples in CI")
        pytest.skip("curl or jq missing: the shell examples of docs/api.md are not run")
    db = tmp_path / "invite-credits.db"
    env = {**os.environ, "INVITE_CREDITS_JWT_SECRET": LIVE_SECRET, "INVITE_CREDITS_DB": str(db)}
    script = str(Path(sys.executable).with_name("invite-credits"))
    demo = subprocess.run([script, "demo"], env=env, capture_output=True, text=True, check=True).stdout
    ann = re.search(r"# Ann Example.*\n\{\"Authorization\": \"Bearer ([^\"]+)\"\}", demo)
    admin = re.search(r"# Admin\n\{\"Authorization\": \"Bearer ([^\"]+)\"\}", demo)
    assert ann and admin, demo
    server = start_server(db, INVITE_CREDITS_TEST_CLOCK="1")
    try:
        for attempt in (1, 2):  # twice in a row, as a person trying them would
            for i, query in enumerate(_blocks(README, "graphql")):
                if "signUp" in query and attempt == 2:
                    query = query.replace("you@example.com", "you-again@example.com")  # the README says to pick yours
                token = admin.group(1) if "advanceTestClock" in query else None if "signUp" in query else ann.group(1)
                _assert_clean(_post(server.url, query, token), f"README example {i + 1} (run {attempt})")
            # docs/api.md's shell examples, in order, in one shell, with its own `gql` helper pointed at this server.
            shell = "\n".join(_blocks(API, "sh")).replace("http://127.0.0.1:8000", server.url)
            lines = [line for line in shell.splitlines() if line.strip()]
            program = ["set -euo pipefail"]
            for line in lines:
                program.append(line if not line.startswith("gql ") else f"{line}; echo")
            # The shell a reader runs them in: the server's database and secret (`invite-credits token --admin`).
            shell_env = {**env, "PATH": f"{Path(script).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
            result = subprocess.run(["bash", "-c", "\n".join(program)], capture_output=True, text=True, timeout=60,
                                    env=shell_env)
            assert result.returncode == 0, result.stderr
            answers = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
            assert "\nid,occurred_at,reason,amount," in "\n" + result.stdout  # the CSV export's header row
            assert len(answers) == sum(line.startswith("gql ") for line in lines)
            for i, answer in enumerate(answers):
                _assert_clean(answer, f"docs/api.md example {i + 1} (run {attempt})")
        _run_the_js_snippet(server.url, ann.group(1))
        _the_json_example_is_what_the_api_answers(server.url, ann.group(1))
    finally:
        server.stop()


def _run_the_js_snippet(url: str, token: str) -> None:
    """docs/api.md's graphql-ws snippet, as written, then a subscription through the client it makes."""
    node = shutil.which("node")
    js = ROOT / "tests" / "js"
    if node is None or not (js / "node_modules" / "graphql-ws").is_dir():
        if os.environ.get("CI"):
            pytest.fail("CI must install the Node tests: npm ci --prefix tests/js")
        return
    (snippet,) = _blocks(API, "js")
    program = (f"const token = {json.dumps(token)};\n" + snippet.replace("ws://127.0.0.1:8000", url.replace("http", "ws"))
               + "\nconst first = await new Promise((resolve, reject) => client.subscribe("
               "{ query: 'subscription { balanceChanged { available } }' }, "
               "{ next: resolve, error: reject, complete: () => {} }));\n"
               "console.log(JSON.stringify(first)); await client.dispose();\n")
    path = js / "docs-snippet.mjs"
    path.write_text(program, encoding="utf-8")
    try:
        result = subprocess.run([node, str(path)], cwd=js, capture_output=True, text=True, timeout=60)
    finally:
        path.unlink()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["data"]["balanceChanged"]["available"] >= 0


def _the_json_example_is_what_the_api_answers(url: str, ann: str) -> None:
    """The INSUFFICIENT_CREDITS example of docs/api.md, byte for byte, from a member with no credit left."""
    from invite_credits import auth

    from .conftest import LIVE_SECRET

    (example,) = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", API.replace("\n   ", "\n"), re.S)]
    joined = _post(url, 'mutation { signUp(input: {email: "poor@example.com", name: "Poor"}) '
                        "{ member { id } token } }", None)["data"]["signUp"]
    admin = auth.admin_token(LIVE_SECRET, 60)
    took = _post(url, 'mutation { adjustCredits(input: {memberId: "%s", amount: -1000, note: "docs"}) '  # noqa: UP031
                      "{ userErrors { code } } }" % joined["member"]["id"], admin)
    _assert_clean(took, "taking the credits")
    ann_id = _post(url, "{ viewer { id } }", ann)["data"]["viewer"]["id"]
    answer = _post(url, 'mutation { sendInvitation(input: {inviteeId: "%s"}) { invitation { id } '  # noqa: UP031
                        "userErrors { code message field } } }" % ann_id, joined["token"])
    assert answer == example, answer


def test_the_codegen_config_in_api_md_is_the_one_the_suite_runs() -> None:
    config = (ROOT / "tests" / "js" / "codegen" / "codegen.ts").read_text(encoding="utf-8")
    assert config in _blocks(API, "ts")


@pytest.mark.slow
def test_the_readme_commands_run_as_written_twice(tmp_path: Path) -> None:
    """README's shell lines that a person types after setup, in one directory, twice in a row: `demo` then
    `serve`, the test clock on its own database, and PostgreSQL's serve and copy (on a database of the suite's).
    `scripts/setup` and the suite itself are what CI runs; a server runs until it answers /healthz."""
    from . import pg
    from .conftest import free_port, wait_until_ready

    bin_dir = str(Path(sys.executable).parent)
    lines = [line for block in _blocks(README, "sh") for line in block.splitlines()
             if line.strip() and "scripts/setup" not in line]
    assert len(lines) == 4, lines  # demo + serve, the test clock, PostgreSQL's serve, copy
    has_postgres = bool(os.environ.get("CI")) or pg.server_available()
    work = tmp_path / "work"
    work.mkdir()
    for _attempt in (1, 2):  # in the same directory, as a person would; `copy` each time into an empty database
        with pg.fresh_database() if has_postgres else _no_database() as url:
            for line in lines:
                if "postgresql://" in line and url is None:
                    continue  # no PostgreSQL here (CI always has one)
                command = line.split("  #")[0].replace(".venv/bin/", bin_dir + "/")
                command = command.replace("postgresql://app@db:5432/credits", url or "")
                port = free_port()
                command = command.replace(" serve", f" serve --port {port}")
                env = {**os.environ, "INVITE_CREDITS_JWT_SECRET": LIVE_SECRET}
                if " serve" in command:
                    before, _, serve = command.rpartition("&& ")
                    if before:
                        done = subprocess.run(["bash", "-c", before], cwd=work, env=env, capture_output=True,
                                              text=True, timeout=120)
                        assert done.returncode == 0, done.stderr
                    server = subprocess.Popen(["bash", "-c", serve], cwd=work, env=env, start_new_session=True,
                                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                    try:
                        wait_until_ready(f"http://127.0.0.1:{port}", server)  # type: ignore[arg-type]
                    finally:
                        os.killpg(server.pid, signal.SIGTERM)  # the shell and the server it started
                        server.communicate(timeout=30)
                else:
                    done = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True, text=True,
                                          timeout=300)
                    assert done.returncode == 0, (command, done.stdout, done.stderr)


@contextlib.contextmanager
def _no_database() -> Iterator[str | None]:
    yield None


def test_the_hash_chain_example_in_rules_md_recomputes_with_hashlib_alone() -> None:
    """docs/rules.md's worked example, byte for byte: each canonical line, then the hash it yields, checked with
    hashlib only (no code of ours), so the documented encoding is one anyone can follow."""
    import hashlib

    rules = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    (example,) = _blocks(rules.split("## The hash chain", 1)[1], "text")[:1]
    lines = example.strip().splitlines()
    assert len(lines) == 6
    previous = "0" * 64
    for canonical, expected in zip(lines[::2], lines[1::2], strict=True):
        previous = hashlib.sha256(previous.encode("ascii") + canonical.encode("utf-8")).hexdigest()
        assert previous == expected
        assert json.dumps(json.loads(canonical), sort_keys=True, separators=(",", ":"), ensure_ascii=False) == canonical
    # And the service's own encoder writes exactly these bytes for the same entries.
    from invite_credits.domain import chain

    fields = [chain.Fields(1, 1768469400, "SIGNUP", 15, 15, 15, 1, None, None, None, None, None, None, None),
              chain.Fields(1, 1770138312, "INVITATION_SENT", -1, -1, 14, None, 7, None, None, None, None, None, None),
              chain.Fields(1, 1770138372, "REVERSAL", 1, 1, 15, 2, None, None, None, None, None,
                           "Ticket #12: sent by mistake – refunded", 2)]
    assert [chain.canonical(f).decode("utf-8") for f in fields] == lines[::2]
