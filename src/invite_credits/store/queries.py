"""Named SQL queries, read once from sql/<dialect>/queries/*.sql into records, as aiosql does.

A file holds blocks that start `-- name: x`; the comment lines after it are the query's doc. Two doc lines are
directives:
- `-- slow: why` marks a query whose work is unbounded (it never runs on the event loop);
- `-- answers: q` (or `-- answers: q for each id in :ids`) says each row the statement gives back is the whole row
  the read `q` (`SELECT * ... WHERE id = :id`) gives for that row's id, so a write transaction on a networked
  store answers `q` from it (a lock that returns the rows it locks, an insert that returns what it wrote). With
  `for each id in :ids` (a JSON array of ids), the ids it returns no row for have none, and a transaction need not
  send `q` ahead for any of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)
_PARAM = re.compile(r"(?<!:):([a-z_][a-z0-9_]*)")
_READS = re.compile(r"\b(?:FROM|JOIN)\s+([a-z_][a-z0-9_]*)\b(?!\s*\()", re.IGNORECASE)
_WRITES = re.compile(r"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+([a-z_][a-z0-9_]*)", re.IGNORECASE)
_VOLATILE = re.compile(r"\b(?:nextval|setval|clock_timestamp|statement_timestamp|timeofday|random|gen_random_uuid|"
                       r"gen_random_bytes|txid_current|pg_current_xact_id|pg_sleep)\s*\(", re.IGNORECASE)
_ANSWERS = re.compile(r"^answers:\s*([a-z_][a-z0-9_]*)(?:\s+for each id in :([a-z_][a-z0-9_]*))?\s*$")
_KINDS = {"select": "select", "with": "select", "insert": "insert", "update": "update", "delete": "delete"}


DIALECTS = ("sqlite", "postgres")
PARAMSTYLES = {"sqlite": "named", "postgres": "pyformat"}


@dataclass(frozen=True)
class Query:
    name: str
    sql: str  # in the driver's parameter style
    kind: str  # select, insert, update or delete
    slow: bool
    doc: str
    params: frozenset[str]
    source: str
    reads: frozenset[str] = frozenset()  # the tables it reads (FROM, JOIN)
    writes: frozenset[str] = frozenset()  # the tables it writes itself (INSERT INTO, UPDATE, DELETE FROM)
    # Whether asking again may answer otherwise with nothing written between: a sequence drawn, a clock read.
    volatile: bool = False
    answers: str | None = None  # the by-id read each of its rows answers (`-- answers:`)
    answers_ids: str | None = None  # the parameter that lists every id it answers, found or not

    @property
    def repeatable(self) -> bool:
        """A read a transaction may answer again from its first answer (until it writes a table it reads)."""
        return not self.writes and not self.volatile


def sql_dir(dialect: str = "sqlite") -> Traversable:
    """The package's sql/<dialect> folder: the repository's top-level sql/ (linked in the source tree, copied
    into the wheel)."""
    return files("invite_credits") / "sql" / dialect


def sql_files(folder: Traversable) -> list[Traversable]:
    return sorted((p for p in folder.iterdir() if p.name.endswith(".sql")), key=lambda p: p.name)


def _pyformat(sql: str) -> str:
    """`:name` parameters as psycopg's `%(name)s` (a literal % doubled; `::type` casts left alone)."""
    return _PARAM.sub(r"%(\1)s", sql.replace("%", "%%"))


def parse_queries(text: str, source: str, paramstyle: str = "named") -> dict[str, Query]:
    """Split one file into its named blocks; `paramstyle` is the driver's ("named" :x or "pyformat" %(x)s)."""
    queries: dict[str, Query] = {}
    matches = list(_NAME.finditer(text))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        lines = text[match.end():end].strip("\n").splitlines()
        doc_lines = []
        while lines and lines[0].lstrip().startswith("--"):
            doc_lines.append(lines.pop(0).lstrip()[2:].strip())
        sql = "\n".join(line for line in lines if not line.lstrip().startswith("--")).strip()
        name = match.group(1)
        if name in queries:
            raise ValueError(f"{source}: query {name!r} is defined twice")
        if not sql:
            raise ValueError(f"{source}: query {name!r} is empty")
        kind = _KINDS.get(sql.split(None, 1)[0].lower())
        if kind is None:
            raise ValueError(f"{source}: query {name!r} is not a SELECT, INSERT, UPDATE or DELETE")
        answers = next((m for line in doc_lines if (m := _ANSWERS.match(line))), None)
        if answers and answers.group(2) and answers.group(2) not in _PARAM.findall(sql):
            raise ValueError(f"{source}: query {name!r} answers for each id in :{answers.group(2)}, not a parameter")
        directive = ("slow:", "answers:")
        queries[name] = Query(
            name=name, sql=sql if paramstyle == "named" else _pyformat(sql), kind=kind,
            slow=any(line.startswith("slow:") for line in doc_lines),
            doc=" ".join(line for line in doc_lines if not line.startswith(directive)),
            params=frozenset(_PARAM.findall(sql)), source=source,
            reads=frozenset(t.lower() for t in _READS.findall(sql)),
            writes=frozenset(t.lower() for t in _WRITES.findall(sql)),
            volatile=bool(_VOLATILE.search(sql)),
            answers=answers.group(1) if answers else None, answers_ids=answers.group(2) if answers else None,
        )
    return queries


@cache
def load_queries(dialect: str = "sqlite") -> dict[str, Query]:
    """Every named query of the dialect, by name; a name defined twice anywhere is an error."""
    queries: dict[str, Query] = {}
    for path in sql_files(sql_dir(dialect) / "queries"):
        text = path.read_text(encoding="utf-8")
        for name, query in parse_queries(text, path.name, PARAMSTYLES[dialect]).items():
            if name in queries:
                raise ValueError(f"{path.name}: query {name!r} is defined in {queries[name].source} too")
            queries[name] = query
    check_answers(queries)
    return queries


def check_answers(queries: dict[str, Query]) -> None:
    """Each `-- answers:` names a read of one row by :id, which a transaction may answer again."""
    for query in queries.values():
        answered = queries.get(query.answers or "")
        if query.answers and (answered is None or answered.params != {"id"} or not answered.repeatable):
            raise ValueError(f"{query.source}: query {query.name!r} answers {query.answers!r}, which is not a read "
                             "of one row by :id")
