"""Audit records: every admin action writes one, in its own transaction, naming who, what, whom and why."""

from __future__ import annotations

import json
from typing import Any

from ..domain.access import REQUEST_ID, Actor
from ..domain.policy import AuditAction
from ..store import audit
from ..store.protocol import Tx


class Auditor:
    """Who acts and in which request, taken when the use case starts (the write may run on another thread)."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor.name
        self.request_id = REQUEST_ID.get()

    def record(self, tx: Tx, action: AuditAction, member_id: int | None, reason: str | None,
               details: dict[str, Any]) -> int:
        """Write the record of `action` in the action's transaction. `details`: the values before and after."""
        return audit.insert(tx, at=tx.now, actor=self.actor, action=action.value, member_id=member_id, reason=reason,
                            request_id=self.request_id,
                            details=json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
