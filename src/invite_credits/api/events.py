"""The events feed's objects: what happened, oldest first, for systems that act on credits."""

from __future__ import annotations

from typing import cast

import strawberry
from strawberry.scalars import JSON

from ..domain import ids
from ..domain.errors import BadUserInput
from ..domain.policy import EventType
from ..service.events import EventView
from ..store.events import Position
from .connections import PageInfo, connection
from .context import Info
from .scalars import DateTime
from .types import Member, Node, load_member

strawberry.enum(EventType, description="What an event reports.")
_CURSOR = "EventPosition"


def event_cursor(position: Position) -> str:
    return ids.encode(_CURSOR, f"{position[0]}.{position[1]}")


def event_after(value: str | None) -> Position | None:
    """The position a cursor names; BAD_USER_INPUT for one this feed did not issue."""
    if value is None:
        return None
    raw = ids.decode_raw(value)
    tx, _, key = raw[1].partition(".") if raw and raw[0] == _CURSOR else ("", "", "")
    if not (tx.isascii() and tx.isdigit() and key.isascii() and key.isdigit()) or len(tx) > 19 or len(key) > 19:
        raise BadUserInput("`after` is not a cursor of this feed.")
    return int(tx), int(key)


@strawberry.type(description="Something that happened, as other systems hear of it (webhooks, the feed).")
class Event(Node):
    view: strawberry.Private[EventView]
    id: strawberry.ID = strawberry.field(description="Global ID; the webhook-id and Nats-Msg-Id of its deliveries.")
    type: EventType = strawberry.field(description="What happened.")
    occurred_at: DateTime = strawberry.field(description="When it happened.")

    @strawberry.field(description="The member it concerns, if any.")
    def member(self, info: Info) -> Member | None:
        return load_member(info, self.view.member_id)

    @strawberry.field(description="What happened, with the API's IDs and times; its shape per type is in "
                                  "docs/events/<TYPE>.schema.json.")
    def data(self) -> JSON:
        return cast(JSON, self.view.data)

    @classmethod
    def of(cls, view: EventView) -> Event:
        return cls(view=view, id=strawberry.ID(ids.encode("Event", view.id)), type=EventType(view.type),
                   occurred_at=view.occurred_at)  # type: ignore[arg-type]


@strawberry.type(description="An event in a page of the feed.")
class EventEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this event.")
    node: Event = strawberry.field(description="The event.")


@strawberry.type(description="Events, oldest first.")
class EventConnection:
    edges: list[EventEdge] = strawberry.field(description="This page's events.")
    page_info: PageInfo = strawberry.field(description="Where this page stands.")


def event_connection(info: Info, first: int, after: str | None, types: list[EventType] | None) -> EventConnection:
    views, more = info.context.service.events(first, event_after(after), [t.value for t in types] if types else None)
    return connection(EventConnection, EventEdge, views, more, after, cursor_of=lambda v: event_cursor(v.position),
                      node_of=Event.of)
