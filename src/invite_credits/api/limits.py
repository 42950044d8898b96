"""Query cost: the nodes a document may return, from the `first` of every connection it asks for.

As GitHub and Shopify do: a connection costs its page size times the page
sizes of the connections around it; the document's cost is the sum. It is
computed once the document is valid, with the request's variables, so an
expensive query is refused before any resolver runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)
from strawberry.extensions import ParserCache, SchemaExtension

from .pagination import DEFAULT_PAGE_SIZE

CONNECTION_FIELDS = frozenset(
    {"ledger", "creditLots", "invitationsSent", "invitationsReceived", "connections", "companies"}
)


def _page_size(field: FieldNode, variables: Mapping[str, Any]) -> int:
    for argument in field.arguments or ():
        if argument.name.value != "first":
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return max(int(value.value), 0)
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            return max(given, 0) if isinstance(given, int) and not isinstance(given, bool) else DEFAULT_PAGE_SIZE
        return DEFAULT_PAGE_SIZE
    return DEFAULT_PAGE_SIZE


def document_cost(
    document: DocumentNode, variables: Mapping[str, Any] | None = None, operation_name: str | None = None
) -> int:
    variables = variables or {}
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]

    def fields(selection_set: SelectionSetNode | None, seen: frozenset[str]) -> Iterator[tuple[FieldNode, frozenset[str]]]:
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                yield selection, seen
            elif isinstance(selection, InlineFragmentNode):
                yield from fields(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in fragments and name not in seen:  # a cycle is a validation error, not a cost
                    yield from fields(fragments[name].selection_set, seen | {name})

    def cost(selection_set: SelectionSetNode | None, multiplier: int, seen: frozenset[str]) -> int:
        total = 0
        for field, inner_seen in fields(selection_set, seen):
            if field.name.value in CONNECTION_FIELDS:
                nodes = multiplier * _page_size(field, variables)
                total += nodes
                total += cost(field.selection_set, max(nodes, 1), inner_seen)
            else:
                total += cost(field.selection_set, multiplier, inner_seen)
        return total

    return max((cost(op.selection_set, 1, frozenset()) for op in operations), default=0)


class QueryCostLimiter(SchemaExtension):
    """Refuses a valid document whose cost is over `max_cost` nodes, before execution."""

    def __init__(self, max_cost: int) -> None:
        self.max_cost = max_cost

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.graphql_document is not None and not ctx.pre_execution_errors:
            cost = document_cost(ctx.graphql_document, ctx.variables, ctx.operation_name)
            if cost > self.max_cost:
                ctx.pre_execution_errors = [GraphQLError(
                    f"Query cost {cost} is over the limit of {self.max_cost} nodes: ask for smaller pages.",
                    extensions={"code": "QUERY_TOO_COMPLEX", "cost": cost, "maxCost": self.max_cost},
                )]
        yield


class DocumentCache(ParserCache):
    """Strawberry's bounded parse cache, except that a document that fails to parse is left to
    Strawberry's own parse, so the error is reported as the request's (400 under
    application/graphql-response+json) rather than escaping the operation."""

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        try:
            ctx.graphql_document = self.cached_parse_document(ctx.query, **ctx.parse_options)
        except GraphQLError:
            pass
        yield
