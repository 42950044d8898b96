"""The schema: Query, Mutation and Subscription, and its document policy (limits, parse and validation caches).

Strawberry builds the schema; the request pipeline (pipeline/) runs it, so the schema carries no extensions."""

from __future__ import annotations

from collections.abc import Iterable

import strawberry
from strawberry.schema.config import StrawberryConfig

from .descriptions import describe
from .internals import graphql_schema
from .limits import DocumentPolicy
from .mutation import Mutation
from .query import Query
from .scalars import DATETIME_SCALAR, Timestamp
from .subscription import Subscription
from .types import Company, CreditLot, DiscussionPost, Invitation, LedgerEntry, Member


def create_schema(
    *, max_depth: int = 12, max_tokens: int = 5000, max_aliases: int = 30, max_cost: int = 5000,
    max_fields: int = 2000, cache_size: int = 256, trusted: Iterable[str] = (), introspection: bool = True,
) -> strawberry.Schema:
    """The schema with its limits: tokens, fields, depth, aliases and cost, and bounded parse/validation caches."""
    documents = DocumentPolicy(max_tokens=max_tokens, max_depth=max_depth, max_aliases=max_aliases,
                               max_cost=max_cost, max_fields=max_fields, cache_size=cache_size,
                               introspection=introspection)
    schema = strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Member, LedgerEntry, CreditLot, Invitation, Company, DiscussionPost],
        config=StrawberryConfig(auto_camel_case=True, scalar_map={Timestamp: DATETIME_SCALAR}),
    )
    schema.document_policy = documents  # type: ignore[attr-defined]
    describe(graphql_schema(schema))
    for document in trusted:  # parsed and validated once, here: requests for them skip both
        documents.pin(graphql_schema(schema), document)
    return schema
