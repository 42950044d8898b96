"""Query cost: the nodes a document may return, from the `first` of every connection it asks for.

As GitHub and Shopify do: a connection costs its page size times the page
sizes of the connections around it; the document's cost is the sum. It is
computed once the document is valid, with the request's variables, so an
expensive query is refused before any resolver runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    parse,
    specified_rules,
)
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.schema import validate_document

from .connections import DEFAULT_PAGE_SIZE

CONNECTION_FIELDS = frozenset(
    {"ledger", "creditLots", "invitationsSent", "invitationsReceived", "connections", "companies"}
)


def _page_size(field: FieldNode, variables: Mapping[str, Any]) -> int:
    """The `first` a connection field asks for: its literal or variable, else the default page size."""
    for argument in field.arguments or ():
        if argument.name.value != "first":
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            return given if isinstance(given, int) and not isinstance(given, bool) else DEFAULT_PAGE_SIZE
        return DEFAULT_PAGE_SIZE
    return DEFAULT_PAGE_SIZE


def page_size_error(document: DocumentNode, variables: Mapping[str, Any] | None, page_size_max: int) -> GraphQLError | None:
    """BAD_USER_INPUT for a `first` outside 0..page_size_max anywhere in the document, before its cost is priced
    (a page of a million is a bad argument, not an expensive query)."""
    variables = variables or {}
    stack = [d.selection_set for d in document.definitions
             if isinstance(d, OperationDefinitionNode | FragmentDefinitionNode)]
    while stack:
        selection_set = stack.pop()
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                stack.append(selection.selection_set)
            if isinstance(selection, FieldNode) and selection.name.value in CONNECTION_FIELDS:
                first = _page_size(selection, variables)
                if not 0 <= first <= page_size_max:
                    return GraphQLError(f"first must be between 0 and {page_size_max}.", nodes=[selection],
                                        extensions={"code": "BAD_USER_INPUT"})
    return None


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
                nodes = multiplier * max(_page_size(field, variables), 0)
                total += nodes
                total += cost(field.selection_set, max(nodes, 1), inner_seen)
            else:
                total += cost(field.selection_set, multiplier, inner_seen)
        return total

    return max((cost(op.selection_set, 1, frozenset()) for op in operations), default=0)


class DocumentPolicy:
    """One schema's document handling: bounded caches of parsed and validated documents, and the limits.

    The limit rules (depth, aliases) are built once, so a cached validation stays valid; parsing honours
    the token limit; a valid document is then priced, and refused over `max_cost`.
    """

    def __init__(self, *, max_tokens: int, max_depth: int, max_aliases: int, max_cost: int, cache_size: int,
                 page_size_max: int = 100) -> None:
        self.max_tokens = max_tokens
        self.max_cost = max_cost
        self.page_size_max = page_size_max
        self.rules = (depth_rule(max_depth, None), alias_rule(max_aliases))
        self.parse = lru_cache(maxsize=cache_size)(self._parse)
        self.validate = lru_cache(maxsize=cache_size)(self._validate)
        self.pinned: dict[str, DocumentNode] = {}

    def pin(self, schema: GraphQLSchema, query: str) -> None:
        """Parse and validate a trusted document now, once; requests for it skip both. Raises ValueError when it
        does not fit the schema or the limits."""
        try:
            document = self._parse(query)
        except GraphQLError as exc:
            raise ValueError(f"a trusted document does not parse: {exc.message}") from None
        errors = self._validate(schema, document, tuple(specified_rules))
        if errors:
            raise ValueError(f"a trusted document is not valid against the schema: {errors[0].message}")
        self.pinned[query] = document

    def _parse(self, query: str) -> DocumentNode:
        return parse(query, max_tokens=self.max_tokens)

    def _validate(self, schema: GraphQLSchema, document: DocumentNode, rules: tuple[Any, ...]) -> list[GraphQLError]:
        return list(validate_document(schema, document, (*rules, *self.rules)))

    def cost_error(self, document: DocumentNode, variables: Mapping[str, Any] | None,
                   operation_name: str | None) -> GraphQLError | None:
        bad_page = page_size_error(document, variables, self.page_size_max)
        if bad_page is not None:
            return bad_page
        cost = document_cost(document, variables, operation_name)
        if cost <= self.max_cost:
            return None
        return GraphQLError(
            f"Query cost {cost} is over the limit of {self.max_cost} nodes: ask for smaller pages.",
            extensions={"code": "QUERY_TOO_COMPLEX", "cost": cost, "maxCost": self.max_cost},
        )


class Documents(SchemaExtension):
    """Parse and validate through the policy's caches; refuse a document over the cost limit."""

    def __init__(self, policy: DocumentPolicy) -> None:
        self.policy = policy

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        ctx.parse_options["max_tokens"] = self.policy.max_tokens
        pinned = self.policy.pinned.get(ctx.query) if ctx.query is not None else None
        if pinned is not None:
            ctx.graphql_document = pinned
            yield
            return
        try:
            ctx.graphql_document = self.policy.parse(ctx.query)
        except GraphQLError:
            # Left to Strawberry's own parse (same limit), so the error is reported as the request's
            # (400 under application/graphql-response+json) instead of escaping the operation.
            pass
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.graphql_document is not None:
            pinned = ctx.query is not None and self.policy.pinned.get(ctx.query) is ctx.graphql_document
            errors = [] if pinned else self.policy.validate(ctx.schema._schema, ctx.graphql_document,
                                                             tuple(ctx.validation_rules))
            if not errors:
                too_costly = self.policy.cost_error(ctx.graphql_document, ctx.variables, ctx.operation_name)
                errors = [too_costly] if too_costly else []
            ctx.pre_execution_errors = errors
        yield
