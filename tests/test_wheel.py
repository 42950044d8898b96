"""The wheel as a new user gets it: built from the checkout, installed in a fresh venv far from it, serving."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import httpx
import pytest

from .conftest import free_port, wait_until_ready
from .http import SIGN_UP

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def clone(tmp_path: Path, *, graphiql: bool) -> Path:
    """The checkout as a clone has it (no venv, no build leftovers), with or without GraphiQL's npm install: the
    build runs there, so it never writes into the checkout."""
    skipped = {".venv", ".git", "build", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache", "artifacts"}
    copy = tmp_path / "clone"
    shutil.copytree(ROOT, copy, symlinks=True, ignore=lambda _, names: [n for n in names if n in skipped])
    installed = ROOT / "web" / "graphiql" / "node_modules"
    if graphiql and installed.is_dir():
        shutil.copytree(installed, copy / "web" / "graphiql" / "node_modules", symlinks=True)
    return copy


def build(source: Path, dist: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(source)],
                          capture_output=True, text=True, cwd=dist.parent, timeout=300, env={**os.environ, **env})


def test_a_wheel_without_graphiql_files_is_refused_unless_asked_for(tmp_path: Path) -> None:
    source = clone(tmp_path, graphiql=False)
    refused = build(source, tmp_path / "dist")
    assert refused.returncode != 0 and "npm ci --prefix web/graphiql" in refused.stdout + refused.stderr
    assert not list((tmp_path / "dist").glob("*.whl"))
    allowed = build(source, tmp_path / "dist", INVITE_CREDITS_BUILD_WITHOUT_GRAPHIQL="1")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    wheel = next((tmp_path / "dist").glob("invite_credits-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        assert not [n for n in archive.namelist() if "graphiql_assets" in n]


def test_the_page_says_it_needs_the_cdn_without_its_files() -> None:
    from invite_credits.http import graphiql

    html = '<body><div id="graphiql" class="graphiql-container">Loading...</div></body>'
    assert "needs internet access" in graphiql.needs_cdn(html) and "Loading..." not in graphiql.needs_cdn(html)


def test_the_wheel_carries_everything_and_serves_away_from_the_checkout(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    graphiql_installed = (ROOT / "web" / "graphiql" / "node_modules" / "graphiql").is_dir()
    built = build(clone(tmp_path, graphiql=True), dist,
                  **({} if graphiql_installed else {"INVITE_CREDITS_BUILD_WITHOUT_GRAPHIQL": "1"}))
    assert built.returncode == 0, built.stdout + built.stderr
    wheel = next(dist.glob("invite_credits-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    sql = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "sql").rglob("*.sql"))
    assert sorted(n.removeprefix("invite_credits/") for n in names if n.endswith(".sql")) == sql
    if graphiql_installed:
        assert "invite_credits/graphiql_assets/graphiql/graphiql.min.js" in names

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True, timeout=600)
    home = tmp_path / "elsewhere"
    home.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INVITE_CREDITS_", "PYTHON", "VIRTUAL_ENV"))}
    log = tmp_path / "server.log"
    with log.open("wb") as log_file:
        server = subprocess.Popen([str(env_dir / "bin" / "invite-credits"), "serve", "--port", str(port)], cwd=home,
                                  env=env, stdout=subprocess.DEVNULL, stderr=log_file)
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until_ready(url, server, "/readyz")
        except RuntimeError:
            raise AssertionError(log.read_text()) from None
        signed = httpx.post(url + "/graphql", json={"query": SIGN_UP, "variables": {"input": {
            "email": "new@example.com", "name": "New"}}}).json()["data"]["signUp"]
        assert signed["userErrors"] == [] and signed["member"]["balance"]["available"] == 15
        balance = httpx.post(url + "/graphql", headers={"authorization": f"Bearer {signed['token']}"},
                             json={"query": "{ viewer { balance { available } } }"}).json()
        assert balance == {"data": {"viewer": {"balance": {"available": 15}}}}
        assert (home / "invite-credits.db").exists()
        page = httpx.get(url + "/graphql", headers={"accept": "text/html"}).text
        if graphiql_installed:
            assert "unpkg.com" not in page
            for asset in ("/graphiql-assets/graphiql/graphiql.min.js", "/graphiql-assets/react/umd/react.production.min.js"):
                assert asset in page
                assert httpx.get(url + asset).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    lines = log.read_text().splitlines()
    assert lines and all(line.startswith("{") for line in lines), lines  # every line JSON, banner and shutdown
    assert '"msg":"stopped"' in lines[-1]
