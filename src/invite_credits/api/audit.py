"""The audit log's objects: one record per admin action, in pages newest first."""

from __future__ import annotations

import json
from typing import cast

import strawberry
from strawberry.scalars import JSON

from ..domain import ids
from ..domain.policy import AuditAction
from ..store import rows
from .connections import PageInfo
from .context import Info
from .scalars import DateTime
from .types import Member, Node, load_member


@strawberry.type(description="One admin action: who, what, to whom, why, and the values before and after.")
class AuditRecord(Node):
    view: strawberry.Private[rows.AuditRecord]
    id: strawberry.ID = strawberry.field(description="Global ID.")
    at: DateTime = strawberry.field(description="When the action took effect.")
    actor: str = strawberry.field(description="Who acted: `admin` (the service's admin token), an identity "
                                              "provider's `issuer#subject`, or `member:<ID>`.")
    action: AuditAction = strawberry.field(description="What was done.")
    reason: str | None = strawberry.field(description="Why, as the admin gave it (reversals, extensions, "
                                                      "adjustments' notes).")
    request_id: str | None = strawberry.field(description="The id of the request that did it (x-request-id).")

    @strawberry.field(description="The member it was done to, if any.")
    def member(self, info: Info) -> Member | None:
        return load_member(info, self.view.member_id)

    @strawberry.field(description="The values before and after, and the objects involved, by their IDs.")
    def details(self) -> JSON:
        return cast(JSON, json.loads(self.view.details))

    @classmethod
    def of(cls, view: rows.AuditRecord) -> AuditRecord:
        return cls(view=view, id=strawberry.ID(ids.encode("AuditRecord", view.id)), at=view.at,  # type: ignore[arg-type]
                   actor=view.actor, action=AuditAction(view.action), reason=view.reason, request_id=view.request_id)


@strawberry.type(description="An audit record in a page of the audit log.")
class AuditRecordEdge:
    cursor: str = strawberry.field(description="Pass as `after` to continue after this record.")
    node: AuditRecord = strawberry.field(description="The record.")


@strawberry.type(description="Audit records, newest first.")
class AuditRecordConnection:
    edges: list[AuditRecordEdge] = strawberry.field(description="This page's records.")
    page_info: PageInfo = strawberry.field(description="Where this page stands.")
