"""Compiled plans answer exactly as graphql-core does: the same requests through an app with plans and one
without, on one database, give byte-identical responses: every query of the thin-path suite and more, as
member, other member, admin and anonymous, on edge data (empty pages, nulls, refusals, bad IDs and cursors),
and selections Hypothesis makes up over the whole schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from invite_credits import auth
from invite_credits.api.internals import graphql_schema
from invite_credits.api.schema import create_schema
from invite_credits.http.app import create_app
from invite_credits.pipeline.plans import Compiler, NotCompilable
from invite_credits.settings import Settings

from .test_pipeline import CASES, LEDGER, SIGN_UP

SECRET = "plans-secret-that-is-long-enough-for-hs256-tokens"
SCHEMA: GraphQLSchema = graphql_schema(create_schema())
MORE: list[tuple[str, dict[str, Any], str]] = [
    (LEDGER, {"n": 3, "with": False}, "bob"),
    (LEDGER, {"n": 0, "with": False}, "ann"),
    (LEDGER, {"n": -1, "with": False}, "ann"),
    ("{ viewer { name } }", {}, ""),  # a null viewer: no token
    ("query($id: ID!) { member(id: $id) { name email balance { available } ledger(first: 1) { edges { cursor } } } }",
     {"id": "ANN"}, "bob"),  # another member's private fields: FORBIDDEN, nulled to the nearest nullable parent
    ("query($id: ID!) { member(id: $id) { __typename name } }", {"id": "TWFtYmVyOjk5OTk="}, "ann"),
    ("query($id: ID!) { node(id: $id) { id } }", {"id": "not an id"}, "ann"),
    ("query($id: ID!) { a: node(id: $id) { ... on Member { a: name, b: name } ... on Node { id } } "
     "b: node(id: $id) { __typename } }", {"id": "ANN"}, "admin"),
    (FRAGMENTS := "{ viewer { ...A ...A } } fragment A on Member { id ...B } fragment B on Node { id ... on Member "
                  "{ tier } }", {}, "ann"),
    (DIRECTIVES := "{ viewer { name @skip(if: true) id @include(if: false) tier @include(if: true) } }", {}, "ann"),
    ("query($n: Int = 2) { viewer { ledger(first: $n) { edges { node { reason } } } } }", {}, "ann"),
    ("query($n: Int = 2) { viewer { ledger(first: $n) { edges { node { reason } } } } }", {"n": None}, "ann"),
    ("{ viewer { ledger(first: 5, reasons: [SIGNUP, EXPIRED]) { edges { node { reason lot { id remaining } } } } } }",
     {}, "ann"),
    ("{ viewer { invitationsSent(first: 3) { edges { node { status invitee { name } inviter { id } } } } "
     "invitationsReceived(first: 3) { pageInfo { hasNextPage } } } }", {}, "ann"),
    ("{ viewer { creditLots(first: 3, includeSpent: true) { edges { cursor node { id reason amount remaining "
     "grantedAt expiresAt expired } } pageInfo { endCursor hasNextPage } } } }", {}, "bob"),
    ("{ __typename viewer { __typename balance { __typename id } } }", {}, "ann"),
    ("{ __schema { queryType { name } } }", {}, "ann"),  # introspection: graphql-core runs it
]


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, TestClient, dict[str, str]]]:
    base: dict[str, Any] = dict(db_path=Path(tmp_path_factory.mktemp("plans")) / "plans.db", jwt_secret=SECRET,
                                test_clock=True, synchronous="OFF", sweep_interval_seconds=3600)
    with TestClient(create_app(Settings(**base))) as planned, \
            TestClient(create_app(Settings(**base, compiled_plans=False))) as plain:
        people = {}
        for name in ("ann", "bob"):
            signed = planned.post("/graphql", json={"query": SIGN_UP, "variables": {"i": {
                "email": f"{name}@example.com", "name": name.title()}}}).json()["data"]["signUp"]
            people[name.upper()] = signed["member"]["id"]
            people[name] = signed["token"]
        people["admin"] = auth.admin_token(SECRET, 3600)
        send = "mutation($i: SendInvitationInput!) { sendInvitation(input: $i) { userErrors { code } } }"
        planned.post("/graphql", json={"query": send, "variables": {"i": {"inviteeId": people["BOB"]}}},
                     headers={"authorization": f"Bearer {people['ann']}"})
        yield planned, plain, people


def _answer(client: TestClient, query: str, variables: dict[str, Any], token: str | None) -> tuple[int, bytes]:
    headers = {"x-request-id": "same", **({"authorization": f"Bearer {token}"} if token else {})}
    response = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    return response.status_code, response.content


def _same(apps: tuple[TestClient, TestClient, dict[str, str]], query: str, variables: dict[str, Any],
          who: str) -> bytes:
    planned, plain, people = apps
    variables = {k: people.get(v, v) if isinstance(v, str) else v for k, v in variables.items()}
    token = people.get(who) if who else None
    answers = [_answer(client, query, variables, token) for client in (planned, plain)]
    assert answers[0] == answers[1], (query, variables, who, answers)
    return answers[0][1]


@pytest.mark.parametrize("who", ["ann", "bob", "admin", ""])
def test_every_case_answers_as_graphql_core_does(apps: tuple[TestClient, TestClient, dict[str, str]],
                                                 who: str) -> None:
    for query, variables, _ in [*CASES, *MORE]:
        _same(apps, query, variables, who)


def test_the_hot_documents_compile_and_what_plans_do_not_cover_does_not() -> None:
    from graphql import parse

    for query in (LEDGER, "{ viewer { balance { available } } }", FRAGMENTS, DIRECTIVES):
        document = parse(query)
        assert Compiler(SCHEMA, document, {"with": False}).operation(document.definitions[0])  # type: ignore[arg-type]
    for query in ("{ __schema { queryType { name } } }", "{ viewer { earning { reason } } }",
                  "mutation { signUp(input: {email: \"a\", name: \"b\"}) { token } }"):
        document = parse(query)
        with pytest.raises(NotCompilable):
            Compiler(SCHEMA, document).operation(document.definitions[0])  # type: ignore[arg-type]


def test_plans_answer_most_requests(apps: tuple[TestClient, TestClient, dict[str, str]]) -> None:
    """The differential tests above compare something: the app with plans answers from them."""
    route = next(r for r in apps[0].app.routes if getattr(r, "path", None) == "/graphql")  # type: ignore[attr-defined]
    plans = route.endpoint.pipeline.plans
    before = plans.planned
    for query, variables, who in MORE[:14]:
        _same(apps, query, variables, who)
    assert plans.planned - before >= 10


def test_a_masked_error_and_null_bubbling_are_the_same(apps: tuple[TestClient, TestClient, dict[str, str]],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from invite_credits.service import Service

    def broken(self: Service, member: Any) -> Any:
        raise RuntimeError("a bug with a secret in it")

    monkeypatch.setattr(Service, "balance", broken)
    body = _same(apps, "{ viewer { name balance { available } ledger(first: 1) { edges { cursor } } } }", {}, "ann")
    assert b"secret" not in body and b"INTERNAL_SERVER_ERROR" in body
    body = _same(apps, "{ viewer { name member: balance { available cap } } }", {}, "ann")
    assert json.loads(body)["errors"][0]["path"] == ["viewer", "member"]


# -- selections Hypothesis makes up over the schema ----------------------------------------------------------
def _argument(draw: st.DrawFn, name: str, arg_type: Any, people: list[str]) -> str | None:
    named = get_named_type(arg_type)
    required = isinstance(arg_type, GraphQLNonNull)
    if not required and draw(st.booleans()):
        return None
    if isinstance(arg_type, GraphQLNonNull):
        arg_type = arg_type.of_type
    if isinstance(arg_type, GraphQLList):
        if isinstance(named, GraphQLEnumType):
            values = draw(st.lists(st.sampled_from(sorted(named.values)), max_size=3))
            return f"{name}: [{', '.join(values)}]"
        return None if not required else f"{name}: []"
    if isinstance(named, GraphQLEnumType):
        return f"{name}: {draw(st.sampled_from(sorted(named.values)))}"
    if named.name == "Int":
        return f"{name}: {draw(st.sampled_from([0, 1, 2, 5, 100, 101, -1]))}"
    if named.name == "Boolean":
        return f"{name}: {str(draw(st.booleans())).lower()}"
    if named.name in ("ID", "String"):
        text = draw(st.sampled_from([*people, "", "not-a-cursor", "TGVkZ2VyRW50cnk6MQ==", "Q29tcGFueTox"]))
        return f"{name}: {json.dumps(text)}"
    return None if not required else "skip"


@st.composite
def selections(draw: st.DrawFn, parent: Any, depth: int, people: list[str]) -> str:
    """A selection set's inside for `parent`: some of its fields (aliased or not, with arguments), and for an
    interface or union, inline fragments on its possible types."""
    parts = ["__typename"] if isinstance(parent, GraphQLUnionType) else _fields(draw, parent, depth, people)
    if isinstance(parent, GraphQLInterfaceType | GraphQLUnionType):
        possible = SCHEMA.get_possible_types(parent)
        for runtime in draw(st.lists(st.sampled_from(possible), max_size=2, unique_by=lambda t: t.name)):
            parts.append(f"... on {runtime.name} {{ {draw(selections(runtime, depth, people))} }}")
    return " ".join(parts) or "__typename"


def _fields(draw: st.DrawFn, parent: Any, depth: int, people: list[str]) -> list[str]:
    parts = []
    for name in draw(st.lists(st.sampled_from(sorted(parent.fields)), min_size=1, max_size=4)):
        field = parent.fields[name]
        arguments = [_argument(draw, arg_name, arg.type, people) for arg_name, arg in field.args.items()]
        if "skip" in arguments:
            continue
        text = draw(st.sampled_from(["", "x: ", "y: "])) + name
        if given_arguments := [a for a in arguments if a]:
            text += f"({', '.join(given_arguments)})"
        named = get_named_type(field.type)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
            if depth == 0:
                continue
            text += f" {{ {draw(selections(named, depth - 1, people))} }}"
        parts.append(text)
    return parts


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_made_up_selections_answer_as_graphql_core_does(apps: tuple[TestClient, TestClient, dict[str, str]],
                                                        data: st.DataObject) -> None:
    people = [apps[2]["ANN"], apps[2]["BOB"]]
    query = "{ " + data.draw(selections(SCHEMA.query_type, 3, people)) + " }"
    who = data.draw(st.sampled_from(["ann", "bob", "admin", ""]))
    _same(apps, query, {}, who)


# -- leaves answered without their coercion call, and type checks without a resolve info ----------------------
import asyncio  # noqa: E402 - the small schema below

import strawberry  # noqa: E402
from graphql import execute as core_execute  # noqa: E402
from graphql import parse  # noqa: E402

from invite_credits.api import internals  # noqa: E402
from invite_credits.pipeline.plans import Plans  # noqa: E402


@strawberry.interface
class Thing:
    name: str


@strawberry.type
class Item(Thing):
    pass


@strawberry.type
class Other:
    name: str


@strawberry.type
class Odd:
    @strawberry.field
    def small(self) -> int:
        return -(2**31)

    @strawberry.field
    def big(self) -> int | None:
        return 2**31  # past 32 bits: an error, not the number

    @strawberry.field
    def flag(self) -> int:
        return True  # a bool as an Int: 1

    @strawberry.field
    def text(self) -> str:
        return 12  # type: ignore[return-value]  # an int as a String: "12"

    @strawberry.field
    def ident(self) -> strawberry.ID:
        return 5  # type: ignore[return-value]  # an int as an ID: "5"

    @strawberry.field
    def yes(self) -> bool:
        return 1  # type: ignore[return-value]  # an int as a Boolean: true


@strawberry.type
class OddQuery:
    @strawberry.field
    def odd(self) -> Odd:
        return Odd()

    @strawberry.field
    def item(self) -> Item:
        return Item(name="kept")

    @strawberry.field
    def wrong(self) -> Item | None:
        return Other(name="not an item")  # type: ignore[return-value]  # is_type_of refuses it


def test_leaves_and_type_checks_of_a_plan_answer_as_graphql_core_does() -> None:
    schema = strawberry.Schema(query=OddQuery, types=[Item])
    built = internals.graphql_schema(schema)
    item = built.get_type("Item")
    assert item is not None and internals.is_type_of_ignores_info(item.is_type_of)  # type: ignore[attr-defined]
    plans = Plans(built, schema.execution_context_class, internals.optimized_is_awaitable,
                  direct=lambda definition: internals.direct_resolver(definition, schema))
    query = "{ odd { small big flag text ident yes } item { name } wrong { name } }"
    document = parse(query)
    got = asyncio.run(plans.execute(query, document, document.definitions[0], None, None, None))  # type: ignore[arg-type]
    expected = core_execute(built, document, **internals.execution_context_class_kwargs(schema.execution_context_class))
    assert plans.planned == 1
    assert not hasattr(expected, "__await__")
    assert got.data == expected.data
    assert [e.formatted for e in got.errors or []] == [e.formatted for e in expected.errors or []]
    assert got.data == {"odd": {"small": -(2**31), "big": None, "flag": 1, "text": "12", "ident": "5", "yes": True},
                        "item": {"name": "kept"}, "wrong": None}
