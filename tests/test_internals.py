"""The private library APIs the service leans on (src/invite_credits/internals.py) still exist and behave as used.

When an upgrade of Strawberry or graphql-core moves one, this is the test that fails, and its message names it.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from graphql import GraphQLSchema, parse

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
