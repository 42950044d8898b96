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


# -- floors and circles ------------------------------------------------------------------------------------------
# What each floor (a package, or a top-level module) may import of ours: docs/architecture.md has the same table.
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "settings": set(),
    "observability": set(),
    "store": {"domain", "settings"},
    "service": {"domain", "store"},
    "auth": {"domain", "service", "settings"},
    "events": {"domain", "observability", "service", "store"},
    "api": {"auth", "domain", "events", "observability", "service", "store"},
    "pipeline": {"api", "domain", "observability", "settings"},
    "http": {"api", "auth", "domain", "events", "observability", "pipeline", "service", "settings", "store"},
    "server": {"http", "observability", "settings"},
    "demo": {"auth", "domain", "service", "settings", "store"},
    "cli": {"api", "auth", "demo", "domain", "http", "observability", "pipeline", "server", "service", "settings",
            "store"},
}
TOP_LEVEL_MODULES = 6


def _module(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(("invite_credits", *(parts[:-1] if parts[-1] == "__init__" else parts)))


MODULE_NAMES: set[str] = set()


def _our_imports(path: Path, *, at_run_time: bool = True) -> set[str]:
    """The modules of ours `path` imports (with `at_run_time`, not those only a type checker reads)."""
    package = _module(path).split(".") if path.name == "__init__.py" else _module(path).split(".")[:-1]
    tree = ast.parse(path.read_text())
    skipped: set[int] = set()
    if at_run_time:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
                skipped |= {id(n) for child in node.body for n in ast.walk(child)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - (node.level - 1)]
            module = [*base, *(node.module.split(".") if node.module else [])]
            for alias in node.names:
                candidate = ".".join([*module, alias.name])
                found.add(candidate if candidate in MODULE_NAMES else ".".join(module))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("invite_credits"):
            found.add(str(node.module))
    return found


MODULE_NAMES.update(_module(p) for p in MODULES)


def _floor(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def test_each_floor_imports_only_what_its_row_allows() -> None:
    wrong = sorted(f"{_module(p)} imports {target}" for p in MODULES for target in _our_imports(p, at_run_time=False)
                   if _floor(_module(p)) != _floor(target) and _floor(target) not in ALLOWED.get(_floor(_module(p)), set()))
    assert wrong == [], "\n".join(wrong)
    assert set(ALLOWED) == {_floor(_module(p)) for p in MODULES if _module(p) != "invite_credits"}, "a floor has no row"


def test_no_import_circles() -> None:
    graph = {_module(p): _our_imports(p) for p in MODULES}

    def circle_from(start: str) -> list[str] | None:
        path: list[str] = []
        on_path: set[str] = set()
        done: set[str] = set()

        def visit(node: str) -> list[str] | None:
            if node in on_path:
                return [*path[path.index(node):], node]
            if node in done:
                return None
            path.append(node)
            on_path.add(node)
            for target in sorted(graph.get(node, ())):
                if node.startswith(target + "."):
                    continue  # a module importing its own package: the package is already being imported
                found = visit(target)
                if found:
                    return found
            path.pop()
            on_path.discard(node)
            done.add(node)
            return None

        return visit(start)

    for module in sorted(graph):
        circle = circle_from(module)
        assert circle is None, "import circle: " + " -> ".join(circle)


def test_the_top_level_holds_few_modules() -> None:
    loose = sorted(p.name for p in SRC.glob("*.py") if p.name != "__init__.py")
    assert len(loose) <= TOP_LEVEL_MODULES, f"{len(loose)} modules at the top level: {loose}; put them in packages"
