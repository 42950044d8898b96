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


def test_the_wheel_carries_everything_and_serves_away_from_the_checkout(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    shutil.rmtree(ROOT / "build", ignore_errors=True)  # setuptools' own leftovers would go into the wheel
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w",
                    str(dist), str(ROOT)], check=True, cwd=tmp_path, timeout=300)
    wheel = next(dist.glob("invite_credits-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    sql = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "sql").rglob("*.sql"))
    assert sorted(n.removeprefix("invite_credits/") for n in names if n.endswith(".sql")) == sql
    graphiql_installed = (ROOT / "web" / "graphiql" / "node_modules" / "graphiql").is_dir()
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
