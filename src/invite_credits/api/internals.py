"""Every private or semi-private Strawberry and graphql-core API the service leans on, in one place: what, and why.

Nothing else imports from a library's private module; tests/test_internals.py checks each name below still
exists and still behaves as used, and fails naming it when an upgrade changes it (pyproject.toml bounds both
libraries, so such an upgrade is deliberate).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLSchema

# graphql-core: the coerced variables of an operation, as execution will see them (defaults filled). Cost is
# priced with them (api/limits.py). Not exported at the package's top level.
from graphql.execution.values import get_argument_values, get_variable_values

# graphql-core: the error validation ends with when it stops early (too many errors, its work budget spent);
# api/limits.py rewords it to name the limit.
from graphql.validation.validate import ValidationAbortedError

# Strawberry: the isawaitable its own executor uses (cheaper than inspect's for its resolvers' results).
from strawberry.execution import optimized_is_awaitable

# Strawberry: the keyword arguments graphql-core's `execute` and `subscribe` need to run Strawberry's execution
# context class, so the pipeline runs the schema exactly as Strawberry's own executor would.
from strawberry.schema._graphql_core import execution_context_class_kwargs
from strawberry.schema.base import BaseSchema

# Strawberry: the graphql-transport-ws handler, subclassed to check each message and to run every operation on
# the pipeline (http/websocket.py). Used: handle_message, handle_invalid_message, `view`, and `schema`, replaced
# by an object whose `stream(query, variable_values, context_value, root_value, operation_name)` the handler
# calls from the operation's task (a task handle_subscribe creates while handle_message runs); the stream's
# first result may be a PreExecutionError (sent as the operation's `error` message), later ones ExecutionResults
# of Strawberry's type (sent as `next`).
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.types.execution import ExecutionResult as StrawberryResult
from strawberry.types.execution import PreExecutionError


def graphql_schema(schema: BaseSchema) -> GraphQLSchema:
    """The graphql-core schema Strawberry built (its `_schema`): validation, execution and plans run on it."""
    built: GraphQLSchema = schema._schema  # type: ignore[attr-defined]
    return built


def is_default_resolver(resolve: Any) -> bool:
    """Whether a field resolves by reading an attribute (Strawberry marks its default resolver `_is_default`):
    compiled plans read such a field directly."""
    return bool(getattr(resolve, "_is_default", False))


__all__ = ["BaseGraphQLTransportWSHandler", "PreExecutionError", "StrawberryResult", "ValidationAbortedError", "execution_context_class_kwargs",
           "get_argument_values", "get_variable_values", "graphql_schema", "is_default_resolver",
           "optimized_is_awaitable"]
