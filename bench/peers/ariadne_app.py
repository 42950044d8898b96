"""A reference server for the bench: the balance query in Ariadne, on the same SQLite database and SQL as the
product, with the same HS256 tokens verified per request, parse and validation cached as Ariadne allows.

    uvicorn ariadne_app:app --http httptools --loop asyncio     (BENCH_DB and BENCH_SECRET in the environment)

Not part of the product: bench/run.py --peers installs Ariadne in a venv of its own and runs this beside the
app, so "ahead of the peers" is a number from one run.
"""

from __future__ import annotations

import base64
import os
import sqlite3
import time
from functools import lru_cache
from typing import Any

import jwt
from ariadne import ObjectType, QueryType, make_executable_schema
from ariadne.asgi import GraphQL
from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, validate

SDL = """
type Query { viewer: Member }
type Member { id: ID! balance: Balance! }
type Balance { available: Int! }
"""
BALANCE = """SELECT coalesce(sum(remaining), 0) AS available FROM credit_lots
 WHERE member_id = ? AND remaining > 0 AND written_off = 0 AND expires_at > ?"""
SECRET = os.environ.get("BENCH_SECRET", "")
DB = os.environ.get("BENCH_DB", "bench.db")
_conn = sqlite3.connect(DB, check_same_thread=False, isolation_level=None)
_conn.execute("PRAGMA query_only = ON")

query = QueryType()
member = ObjectType("Member")
balance = ObjectType("Balance")


@query.field("viewer")
def resolve_viewer(_: Any, info: Any) -> dict[str, Any] | None:
    header = info.context["request"].headers.get("authorization", "")
    if not header.startswith("Bearer "):
        return None
    claims = jwt.decode(header[7:], SECRET, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    kind, _, key = base64.urlsafe_b64decode(claims["sub"] + "==").decode().partition(":")
    if kind != "Member":
        raise GraphQLError("not a member")
    return {"id": claims["sub"], "key": int(key)}


@member.field("balance")
def resolve_balance(viewer: dict[str, Any], _info: Any) -> dict[str, int]:
    row = _conn.execute(BALANCE, (viewer["key"], int(time.time()))).fetchone()
    return {"available": row[0]}


schema = make_executable_schema(SDL, query, member, balance)


@lru_cache(maxsize=256)
def _parse(text: str) -> DocumentNode:
    return parse(text)


def cached_parse(_context: Any, data: dict[str, Any]) -> DocumentNode:
    return _parse(data["query"])


_valid: dict[int, list[GraphQLError]] = {}


def cached_validate(schema: GraphQLSchema, document: DocumentNode, rules: Any = None, max_errors: Any = None,
                    **_: Any) -> list[GraphQLError]:
    key = id(document)  # documents come from the parse cache: one object per query text
    if key not in _valid:
        _valid[key] = validate(schema, document, rules, max_errors=max_errors)
    return _valid[key]


app = GraphQL(schema, query_parser=cached_parse, query_validator=cached_validate, introspection=False)
