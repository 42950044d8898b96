"""The private library APIs the service leans on (src/invite_credits/internals.py) still exist and behave as used.

When an upgrade of Strawberry or graphql-core moves one, this is the test that fails, and its message names it.
"""

from __future__ import annotations

import enum
import inspect
import re
from pathlib import Path
from types import SimpleNamespace

from graphql import GraphQLObjectType, GraphQLSchema, parse

from invite_credits.api import internals
from invite_credits.api.schema import create_schema

SRC = Path(__file__).resolve().parents[1] / "src" / "invite_credits"


def test_strawberry_still_builds_its_graphql_core_schema_where_we_read_it() -> None:
    schema = create_schema()
    assert isinstance(internals.graphql_schema(schema), GraphQLSchema), "Strawberry's Schema._schema moved"


def test_strawberry_still_marks_its_default_resolver() -> None:
    built = internals.graphql_schema(create_schema())
    name = built.get_type("Policy").fields["balanceCap"]  # type: ignore[union-attr]
    assert internals.is_default_resolver(name.resolve), "Strawberry's default resolver lost `_is_default`"


def test_strawberry_execution_helpers_keep_their_shape() -> None:
    kwargs = internals.execution_context_class_kwargs(create_schema().execution_context_class)
    assert isinstance(kwargs, dict), "strawberry.schema._graphql_core.execution_context_class_kwargs changed"
    assert internals.optimized_is_awaitable(object()) is False, "strawberry.execution.optimized_is_awaitable changed"


def test_the_graphql_transport_ws_handler_keeps_the_members_we_override_and_call() -> None:
    handler = internals.BaseGraphQLTransportWSHandler
    for name in ("handle_message", "handle_invalid_message", "send_message", "handle_subscribe"):
        assert callable(getattr(handler, name, None)), f"BaseGraphQLTransportWSHandler.{name} is gone"
    source = inspect.getsource(handler.__init__)
    for attribute in ("connection_acknowledged", "context", "view"):
        assert f"self.{attribute}" in source, f"BaseGraphQLTransportWSHandler no longer sets `{attribute}`"


def test_graphql_core_variables_and_aborted_validation() -> None:
    built = internals.graphql_schema(create_schema())
    operation = parse("query($n: Int = 7) { policy { balanceCap } }").definitions[0]
    coerced = internals.get_variable_values(built, operation.variable_definitions, {})  # type: ignore[attr-defined]
    assert getattr(coerced, "coerced", None) == {"n": 7}, "graphql-core's get_variable_values changed its answer"
    assert issubclass(internals.ValidationAbortedError, Exception)


def test_no_other_module_imports_a_private_library_module() -> None:
    private = re.compile(r"^\s*(from|import)\s+(strawberry|graphql)\.[\w.]*\._\w*", re.M)
    offenders = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
                 if "graphiql_assets" not in p.parts and p.name != "internals.py" and private.search(p.read_text())]
    assert offenders == [], f"private library modules imported outside internals.py: {offenders}"


import strawberry  # noqa: E402 - the small schema below
from strawberry.types import Info  # noqa: E402


@strawberry.enum
class Tone(enum.Enum):
    PLAIN = "plain"


@strawberry.input
class Who:
    name: str


@strawberry.type
class Greeter:
    greeting: str

    @strawberry.field
    def greet(self, info: Info, first_name: str | None = None, times: int = 1) -> str:
        return f"{self.greeting} {first_name} x{times} via {info.field_name}"

    @strawberry.field
    def echo(self, root: Greeter, tone: Tone) -> str:
        return f"{root.greeting} {tone.value}"

    @strawberry.field
    def tones(self, tones: list[Tone] | None = None) -> list[Tone]:
        (tones or []).append(Tone.PLAIN)  # a resolver that changes its list must not change the caller's
        return tones or []

    @strawberry.field
    def names(self, who: list[Who]) -> str:
        return ",".join(w.name for w in who)

    @strawberry.field
    @staticmethod
    def plain(parent: strawberry.Parent[Greeter], n: int) -> str:
        return f"{parent.greeting}{n}"


@strawberry.type
class GreeterQuery:
    @strawberry.field
    def greeter(self) -> Greeter:
        return Greeter(greeting="hi")


def test_a_direct_resolver_answers_as_strawberrys_wrapper_does() -> None:
    schema = strawberry.Schema(query=GreeterQuery)
    fields = internals.graphql_schema(schema).get_type("Greeter").fields  # type: ignore[union-attr]
    info = SimpleNamespace(field_name="greet")
    source = Greeter(greeting="hello")
    given = [Tone.PLAIN]
    for name, arguments in (("greet", {"firstName": "Ada", "times": 2}), ("greet", {}), ("plain", {"n": 3}),
                            ("echo", {"tone": Tone.PLAIN}), ("tones", {"tones": given}), ("tones", {"tones": None}),
                            ("greeting", {})):
        direct = internals.direct_resolver(fields[name], schema)
        assert direct is not None, f"no direct resolver for Greeter.{name}: Strawberry's field or resolver changed"
        assert direct(source, info, **arguments) == fields[name].resolve(source, info, **arguments), name
    assert given == [Tone.PLAIN], "a list argument reached the resolver uncopied"
    # An input type is converted by Strawberry's wrapper: it stays.
    assert internals.direct_resolver(fields["names"], schema) is None


def test_the_hot_fields_of_our_schema_resolve_directly() -> None:
    schema = create_schema()
    built = internals.graphql_schema(schema)
    for type_name, field in (("Query", "viewer"), ("Member", "balance"), ("Query", "member"), ("Member", "ledger")):
        definition = built.get_type(type_name).fields[field]  # type: ignore[union-attr]
        assert internals.direct_resolver(definition, schema) is not None, f"{type_name}.{field} lost its direct call"


def test_a_plans_resolve_info_is_the_one_strawberrys_executor_builds() -> None:
    """Compiled plans build resolve infos without an executor (internals.resolve_info): field for field what
    Strawberry's execution context gives a resolver, but for the helpers a synchronous plan never hands out."""
    from graphql.execution.values import get_variable_values
    from graphql.pyutils import Path as ResponsePath

    schema = strawberry.Schema(query=GreeterQuery)
    built = internals.graphql_schema(schema)
    document = parse("query Q($n: Int!) { greeter { plain(n: $n) ...F } } fragment F on Greeter { greeting }")
    operation = document.definitions[0]
    context = object()
    executor = schema.execution_context_class.build(built, document, None, context, {"n": 2}, "Q")
    assert not isinstance(executor, list)
    greeter = built.get_type("Greeter")
    assert isinstance(greeter, GraphQLObjectType)
    definition = greeter.fields["plain"]
    nodes = [operation.selection_set.selections[0].selection_set.selections[0]]  # type: ignore[attr-defined]
    path = ResponsePath(ResponsePath(None, "greeter", "Query"), "plain", "Greeter")
    expected = executor.build_resolve_info(definition, nodes, greeter, path)
    variables = get_variable_values(built, operation.variable_definitions, {"n": 2})  # type: ignore[attr-defined]
    assert not isinstance(variables, list)
    fragments = {"F": document.definitions[1]}
    got = internals.resolve_info(definition, nodes, greeter, path, built, fragments, operation,  # type: ignore[arg-type]
                                 variables, context, executor.is_awaitable)
    assert type(got) is type(expected), "Strawberry's resolve info class changed"
    skipped = {"abort_signal", "async_helpers"}
    assert got._fields == expected._fields, "the resolve info's fields changed"
    for name in got._fields:
        if name not in skipped:
            assert getattr(got, name) == getattr(expected, name), name


def test_the_type_check_of_our_ledger_entries_needs_no_resolve_info() -> None:
    """Strawberry's `is_type_of` for a type with interfaces reads the value only, so plans skip building an
    info for each entry of a page; when Strawberry changes it, this names it."""
    built = internals.graphql_schema(create_schema())
    entry = built.get_type("LedgerEntry")
    assert isinstance(entry, GraphQLObjectType) and entry.is_type_of is not None
    assert internals.is_type_of_ignores_info(entry.is_type_of), "Strawberry's is_type_of changed its name"
    assert "_info" in entry.is_type_of.__code__.co_varnames[:2], "Strawberry's is_type_of may read the info now"
    assert not internals.is_type_of_ignores_info(lambda value, info: True)


def test_graphql_core_still_completes_a_value_and_collects_errors_as_overridden() -> None:
    from graphql import Executor
    from graphql.execution.executor import CollectedErrors

    assert list(inspect.signature(Executor.complete_value).parameters) == [
        "self", "return_type", "field_details_list", "info", "path", "result", "position_context"], \
        "graphql-core's Executor.complete_value changed its parameters (api/internals.py's completing_elsewhere)"
    assert list(inspect.signature(CollectedErrors.add).parameters) == ["self", "error", "path"], \
        "graphql-core's CollectedErrors.add changed (api/internals.py's _RecordedErrors)"
    schema = internals.graphql_schema(create_schema())
    executor = Executor.build(schema, parse("{ policy { balanceCap } }"))
    assert isinstance(getattr(executor, "collected_errors", None), CollectedErrors), \
        "graphql-core's Executor.collected_errors moved (api/internals.py's completing_elsewhere)"


def test_a_payload_is_completed_on_the_loop_unless_a_field_reads_then_once_elsewhere() -> None:
    """A mutation's payload: completed in place when no field reads; when one does, the try is dropped whole and
    the payload completed elsewhere, once. Either way the answer is graphql-core's own, errors included, each
    once (a field that fails, a non-null field that fails and nulls its parent, fields after a read)."""
    import asyncio
    from typing import Any

    from graphql import Executor, GraphQLField, GraphQLNonNull, GraphQLString, execute

    from invite_credits.store.protocol import loop_reads_refused, refuse_loop_read

    def fails(_source: Any, _info: Any) -> str:
        raise ValueError("no")

    def reads(_source: Any, _info: Any) -> str:
        refuse_loop_read()  # as a store does before a read on the event loop
        return "read"

    async def act(_source: Any, _info: Any) -> dict[str, str]:
        return {}

    payload = GraphQLObjectType("Payload", {
        "plain": GraphQLField(GraphQLString, resolve=lambda _s, _i: "p"),
        "fails": GraphQLField(GraphQLString, resolve=fails),
        "reads": GraphQLField(GraphQLString, resolve=reads),
        "strict": GraphQLField(GraphQLNonNull(GraphQLString), resolve=fails)})
    schema = GraphQLSchema(query=GraphQLObjectType("Query", {"x": GraphQLField(GraphQLString)}),
                           mutation=GraphQLObjectType("Mutation", {"act": GraphQLField(payload, resolve=act)}))
    elsewhere: list[object] = []

    async def complete_elsewhere(context: object, completion: Any) -> Any:
        elsewhere.append(context)
        return await completion()

    completing = internals.completing_elsewhere(Executor, lambda _context: loop_reads_refused(), complete_elsewhere)

    def answer(query: str, executor_class: Any) -> Any:
        async def run() -> Any:
            result = execute(schema, parse(query), context_value="ctx", executor_class=executor_class)
            return await result if inspect.isawaitable(result) else result
        result = asyncio.run(run())
        return result.data, sorted((e.message, tuple(e.path or ())) for e in result.errors or ())

    for query, moved in [("mutation { act { plain fails } }", 0),
                         ("mutation { act { strict } }", 0),
                         ("mutation { act { plain fails reads } }", 1),
                         ("mutation { act { reads strict } }", 1),
                         ("mutation { a: act { reads fails } b: act { plain fails } c: act { reads } }", 2)]:
        elsewhere.clear()
        assert answer(query, completing) == answer(query, Executor), query
        assert elsewhere == ["ctx"] * moved, query
