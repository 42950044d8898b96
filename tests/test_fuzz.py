"""Schemathesis in GraphQL mode against a live server, for a bounded time: no 5xx, no unmasked error,
every invariant clean afterwards."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from invite_credits import auth

from .conftest import LIVE_SECRET, LiveServer, violations

schemathesis = pytest.importorskip("schemathesis")
pytestmark = pytest.mark.slow

EXAMPLES_PER_OPERATION = 40
BUDGET_SECONDS = 120
KNOWN_CODES = {
    "UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT", "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED",
    "QUERY_TOO_COMPLEX",
}
LEAKS = ("Traceback", "sqlite", ".py", "File \"", "Internal server error")


def _assert_clean(response: Any) -> None:
    assert response.status_code < 500, response.text
    body = response.json()
    for error in body.get("errors", []):
        code = error.get("extensions", {}).get("code")
        assert code in KNOWN_CODES, error
        assert not any(leak in error["message"] for leak in LEAKS), error


def test_fuzz_graphql(live_server: LiveServer) -> None:
    url = live_server.url + "/graphql"
    import httpx

    signup = httpx.post(url, json={"query": 'mutation { signUp(input: {email: "fuzz@example.com", name: "Fuzz"}) { token } }'})
    member = signup.json()["data"]["signUp"]["token"]
    admin = auth.admin_token(LIVE_SECRET, 3600)
    schema = schemathesis.graphql.from_url(url)
    deadline = time.monotonic() + BUDGET_SECONDS
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        for token in (member, admin):
            if time.monotonic() > deadline:
                break

            @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy())
            def run(case: Any) -> None:
                nonlocal calls
                calls += 1
                # run() is called within this iteration, so `token` is the one it was built for.
                _assert_clean(case.call(headers={"authorization": f"Bearer {token}"}))  # noqa: B023

            try:
                run()
            except Unsatisfiable:
                pass
    assert calls > 200
    assert violations(live_server.db_path) == []


def test_the_long_fuzz_target_runs_and_finds_nothing() -> None:
    """bench/fuzz.py, briefly: the ten-minute run recorded in bench/RESULTS.md is the same program."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "bench" / "fuzz.py"
    result = subprocess.run([sys.executable, str(script), "--seconds", "15", "--examples", "5"],
                            capture_output=True, text=True, timeout=300)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert result.returncode == 0, report
    assert report["cases"] > 50 and report["server_errors"] == report["internal_errors"] == 0
    assert report["check"] == "0 violation(s)"
