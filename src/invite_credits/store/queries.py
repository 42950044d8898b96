"""Named SQL queries read once from sql/queries/*.sql (`-- name: x` blocks), shipped inside the package."""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


def sql_dir() -> Traversable:
    """The package's `sql` folder: the repository's top-level sql/ (linked in the source tree, copied into the wheel)."""
    return files("invite_credits") / "sql"


def _sql_files(folder: str) -> list[Traversable]:
    return sorted((p for p in (sql_dir() / folder).iterdir() if p.name.endswith(".sql")), key=lambda p: p.name)


def parse_queries(text: str, source: str) -> dict[str, str]:
    """Split one file into its named blocks; a block's leading comment lines are its doc, not its SQL."""
    queries: dict[str, str] = {}
    matches = list(_NAME.finditer(text))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        body = text[match.end() : end]
        sql = "\n".join(line for line in body.splitlines() if not line.lstrip().startswith("--")).strip()
        name = match.group(1)
        if name in queries:
            raise ValueError(f"{source}: query {name!r} is defined twice")
        if not sql:
            raise ValueError(f"{source}: query {name!r} is empty")
        queries[name] = sql
    return queries


_SLOW = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*\n(?:--.*\n)*?--\s*slow:", re.MULTILINE)


@cache
def slow_queries() -> frozenset[str]:
    """Queries marked `-- slow: why` in their doc: unbounded work, never run on the event loop."""
    return frozenset(name for path in _sql_files("queries") for name in _SLOW.findall(path.read_text(encoding="utf-8")))


@cache
def load_queries() -> dict[str, str]:
    queries: dict[str, str] = {}
    for path in _sql_files("queries"):
        for name, sql in parse_queries(path.read_text(encoding="utf-8"), path.name).items():
            if name in queries:
                raise ValueError(f"{path.name}: query {name!r} is defined in another file too")
            queries[name] = sql
    return queries
