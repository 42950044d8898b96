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


def test_client_caches_and_persisted_queries(live_server: LiveServer) -> None:
    from invite_credits import auth

    from .conftest import LIVE_SECRET

    result = subprocess.run([_node(), "--test", "cache.test.mjs"], cwd=JS, capture_output=True, text=True,
                            timeout=120, env={**os.environ, "API_URL": live_server.url + "/graphql",
                                              "ADMIN_TOKEN": auth.admin_token(LIVE_SECRET, 600)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout


def test_live_balance_across_server_processes(live_server: LiveServer) -> None:
    """Subscribed on one `serve` process, changed through another on the same database file."""
    from .conftest import start_server

    other = start_server(live_server.db_path, INVITE_CREDITS_SYNCHRONOUS="FULL")
    try:
        result = subprocess.run([_node(), "--test", "--test-force-exit", "live.test.mjs"], cwd=JS, capture_output=True, text=True,
                                timeout=120, env={**os.environ, "API_URL": live_server.url + "/graphql",
                                                  "OTHER_URL": other.url + "/graphql"})
    finally:
        other.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout


def test_codegen_types_compile_and_its_manifest_serves_as_trusted_documents(tmp_path: Path) -> None:
    """docs/api.md's codegen config: typed documents (DateTime as string) that tsc accepts, and the persisted
    documents manifest it writes, served as the only documents a locked-down server runs."""
    import httpx

    from .conftest import start_server

    node = _node()
    codegen = JS / "codegen"
    shutil.rmtree(codegen / "src" / "gql", ignore_errors=True)
    for command in ([node, str(JS / "node_modules" / ".bin" / "graphql-codegen"), "--config", "codegen.ts"],
                    [node, str(JS / "node_modules" / ".bin" / "tsc"), "-p", "tsconfig.json"]):
        result = subprocess.run(command, cwd=codegen, capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, result.stdout + result.stderr
    manifest = codegen / "src" / "gql" / "persisted-documents.json"
    document_id = next(iter(__import__("json").loads(manifest.read_text())))
    server = start_server(tmp_path / "trusted.db", INVITE_CREDITS_TRUSTED_DOCUMENTS=str(manifest))
    try:
        ran = httpx.post(server.url + "/graphql", json={"documentId": document_id}).json()
        assert ran == {"data": {"viewer": None}}
        refused = httpx.post(server.url + "/graphql", json={"query": "{ policy { balanceCap } }"})
        assert refused.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    finally:
        server.stop()


def test_graphiql_in_a_browser_offline(live_server: LiveServer) -> None:
    from invite_credits.http import graphiql

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists() or not (graphiql.assets_dir() / "graphiql").exists():
        if os.environ.get("CI"):
            pytest.fail("CI must install chromium and web/graphiql (see .ci/run)")
        pytest.skip("chromium or web/graphiql missing")
    artifacts = Path(os.environ.get("ARTIFACTS_DIR", Path(__file__).resolve().parents[1] / "artifacts"))
    artifacts.mkdir(parents=True, exist_ok=True)
    shot = artifacts / "graphiql.png"
    result = subprocess.run([_node(), "--test", "--test-force-exit", "graphiql.test.mjs"], cwd=JS, capture_output=True, text=True,
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


def test_browsers_on_other_origins_need_a_listed_origin(tmp_path: Path) -> None:
    """INVITE_CREDITS_CORS_ORIGINS in Chromium: a page served from another port calls the API with fetch and gets
    data when its origin is listed, a CORS failure when it is not."""
    import threading
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from .conftest import start_server

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        if os.environ.get("CI"):
            pytest.fail("CI must install chromium (see .ci/run)")
        pytest.skip("chromium missing")
    node = _node()
    (tmp_path / "index.html").write_text("<!doctype html><title>app</title><p>an app on another origin</p>")

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    pages = [ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(tmp_path))) for _ in range(2)]
    for page in pages:
        threading.Thread(target=page.serve_forever, daemon=True).start()
    listed, other = (f"http://127.0.0.1:{page.server_address[1]}" for page in pages)
    server = start_server(tmp_path / "cors.db", INVITE_CREDITS_CORS_ORIGINS=f"https://app.example.com,{listed}")
    try:
        result = subprocess.run([node, "--test", "--test-force-exit", "cors.test.mjs"], cwd=JS, capture_output=True,
                                text=True, timeout=180, env={**os.environ, "API_URL": server.url + "/graphql",
                                                             "PAGE_URL": listed + "/", "OTHER_PAGE_URL": other + "/",
                                                             "CHROMIUM": chromium})
    finally:
        server.stop()
        for page in pages:
            page.shutdown()
            page.server_close()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout
