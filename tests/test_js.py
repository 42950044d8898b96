"""The API checked from Node against a live server: the GraphQL-over-HTTP audit and a frontend client."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import LiveServer

JS = Path(__file__).resolve().parent / "js"
pytestmark = pytest.mark.slow


def _node() -> str:
    node = shutil.which("node")
    if node is None or not (JS / "node_modules").exists():
        if os.environ.get("CI"):
            pytest.fail("CI must install the Node tests: npm ci --prefix tests/js")
        pytest.skip("node or tests/js/node_modules missing: run `npm ci --prefix tests/js`")
    return node


def test_graphql_over_http_audit_is_all_ok(live_server: LiveServer) -> None:
    result = subprocess.run([_node(), "audit.mjs", live_server.url + "/graphql"], cwd=JS, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ", 0 not ok of" in result.stdout


def test_frontend_client(live_server: LiveServer) -> None:
    result = subprocess.run([_node(), "--test", "client.test.mjs"], cwd=JS, capture_output=True, text=True,
                            timeout=120, env={**os.environ, "API_URL": live_server.url + "/graphql"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout


def test_graphiql_in_a_browser_offline(live_server: LiveServer) -> None:
    from invite_credits import graphiql

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists() or not (graphiql.assets_dir() / "graphiql").exists():
        if os.environ.get("CI"):
            pytest.fail("CI must install chromium and web/graphiql (see .ci/run)")
        pytest.skip("chromium or web/graphiql missing")
    artifacts = Path(os.environ.get("ARTIFACTS_DIR", Path(__file__).resolve().parents[1] / "artifacts"))
    artifacts.mkdir(parents=True, exist_ok=True)
    shot = artifacts / "graphiql.png"
    result = subprocess.run([_node(), "--test", "graphiql.test.mjs"], cwd=JS, capture_output=True, text=True,
                            timeout=180, env={**os.environ, "API_URL": live_server.url, "SCREENSHOT": str(shot),
                                              "CHROMIUM": chromium})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout and shot.stat().st_size > 10_000


def test_schema_lint() -> None:
    _node()
    linter = JS / "node_modules" / ".bin" / "graphql-schema-linter"
    root = JS.parents[1]
    result = subprocess.run([str(linter), "-c", str(root), str(root / "schema.graphql")], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
