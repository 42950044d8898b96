"""The layout keeps its floors: only store/ talks to a database, domain/ imports nothing of ours, settings is
a leaf, GraphQL words stay in api/, and no module grows past 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "invite_credits"
MODULES = sorted(p for p in SRC.rglob("*.py") if "graphiql_assets" not in p.parts)
DRIVERS = {"sqlite3", "aiosqlite", "psycopg", "psycopg_pool", "asyncpg"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_module_is_small_and_on_its_floor(path: Path) -> None:
    relative = path.relative_to(SRC)
    assert len(path.read_text().splitlines()) <= 400, f"{relative} is over 400 lines"
    imports = _imports(path)
    if relative.parts[0] != "store":
        assert not {name.split(".")[0] for name in imports} & DRIVERS, f"{relative} imports a database driver"
    if relative.parts[0] == "domain":
        assert all(not name.startswith("..") and not name.startswith("invite_credits") for name in imports), relative
    if relative.parts[0] in ("domain", "store", "service"):
        assert not any("strawberry" in name or "graphql" in name or ".api" in name for name in imports), relative
        assert '"input"' not in path.read_text(), f"{relative} names a GraphQL input path"
    if relative == Path("settings.py"):
        assert all(not name.startswith(".") for name in imports), "settings.py imports something of ours"
