"""Relay connections: `first` within bounds, opaque keyset cursors, and one builder for every connection."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import strawberry

from ..domain import ids
from ..domain.errors import BadUserInput
from ..service import Service


@strawberry.type(description="Where a page stands in its connection.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    has_previous_page: bool = strawberry.field(description="This page started after a cursor.")
    start_cursor: str | None = strawberry.field(description="The first edge's cursor.")
    end_cursor: str | None = strawberry.field(description="The last edge's cursor.")


def page_info(cursors: list[str], has_next: bool, after: str | None) -> PageInfo:
    return PageInfo(
        has_next_page=has_next,
        has_previous_page=after is not None,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )


DEFAULT_PAGE_SIZE = 20


def check_first(first: int | None, service: Service) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    limit = service.policy.page_size_max
    if not 0 <= first <= limit:
        raise BadUserInput(f"first must be between 0 and {limit}.")
    return first


def cursor(kind: str, key: int) -> str:
    return ids.encode(f"{kind}Cursor", key)


def after_key(kind: str, after: str | None) -> int | None:
    if after is None:
        return None
    key = ids.decode(f"{kind}Cursor", after)
    if key is None:
        raise BadUserInput("after is not a cursor of this connection.")
    return key


def company_cursor(name: str, key: int) -> str:
    return ids.encode_pair("CompanyCursor", name, key)


def company_after(after: str | None) -> tuple[str, int] | None:
    if after is None:
        return None
    pair = ids.decode_pair("CompanyCursor", after)
    if pair is None:
        raise BadUserInput("after is not a cursor of this connection.")
    return pair


N = TypeVar("N")
C = TypeVar("C")


def connection(connection_type: Callable[..., C], edge_type: Callable[..., Any], items: Sequence[N],
               has_next: bool, after: str | None, *, cursor_of: Callable[[N], str], node_of: Callable[[N], Any]) -> C:
    """A page of a connection: an edge per item (its cursor and node) and the page's info."""
    edges = [edge_type(cursor=cursor_of(item), node=node_of(item)) for item in items]
    return connection_type(edges=edges, page_info=page_info([e.cursor for e in edges], has_next, after))
