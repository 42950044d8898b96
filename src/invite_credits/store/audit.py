"""Audit records: one per admin action, written in the action's transaction, never changed."""

from __future__ import annotations

from .protocol import Reader, Row, Tx
from .rows import AuditRecord


def _record(row: Row) -> AuditRecord:
    return AuditRecord(id=row["id"], at=row["at"], actor=row["actor"], action=row["action"],
                       member_id=row["member_id"], reason=row["reason"], request_id=row["request_id"],
                       details=row["details"])


def insert(tx: Tx, *, at: int, actor: str, action: str, member_id: int | None, reason: str | None,
           request_id: str | None, details: str) -> int:
    return tx.insert("audit_insert", at=at, actor=actor, action=action, member_id=member_id, reason=reason,
                     request_id=request_id, details=details)


def page(r: Reader, *, member_id: int | None, before_id: int, limit: int) -> list[AuditRecord]:
    return [_record(row) for row in r.all("audit_page", member_id=member_id, before_id=before_id, limit=limit)]


def by_id(r: Reader, *, id: int) -> AuditRecord | None:
    row = r.one("audit_by_id", id=id)
    return _record(row) if row else None
