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

# Strawberry: the keyword arguments graphql-core's `execute` needs to run Strawberry's execution context class,
# so the thin path runs the schema exactly as Strawberry's view would.
from strawberry.schema._graphql_core import execution_context_class_kwargs
from strawberry.schema.base import BaseSchema

# Strawberry: the graphql-transport-ws handler, subclassed to check each message and apply the document policy
# (graphql_view.TransportWS). Used: handle_message, handle_invalid_message, send_message,
# connection_acknowledged, context.
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler


def graphql_schema(schema: BaseSchema) -> GraphQLSchema:
    """The graphql-core schema Strawberry built (its `_schema`): validation, execution and plans run on it."""
    built: GraphQLSchema = schema._schema  # type: ignore[attr-defined]
    return built


def is_default_resolver(resolve: Any) -> bool:
    """Whether a field resolves by reading an attribute (Strawberry marks its default resolver `_is_default`):
    compiled plans read such a field directly."""
    return bool(getattr(resolve, "_is_default", False))


__all__ = ["BaseGraphQLTransportWSHandler", "ValidationAbortedError", "execution_context_class_kwargs",
           "get_argument_values", "get_variable_values", "graphql_schema", "is_default_resolver",
           "optimized_is_awaitable"]
