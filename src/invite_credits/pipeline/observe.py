"""One operation's latency observation, outcome count and structured log line, whatever its transport."""

from __future__ import annotations

import logging
from typing import Any

from ..domain import ids
from ..observability import logs
from ..observability.metrics import Metrics

_LOG = logging.getLogger("invite_credits.request")


def outcome_of(errors: list[Any] | None, request_error: bool) -> str:
    if request_error:
        return "rejected"
    if not errors:
        return "ok"
    codes = {(e.extensions or {}).get("code") for e in errors}
    if "INTERNAL_SERVER_ERROR" in codes:
        return "error"
    if codes & {"UNAUTHENTICATED", "FORBIDDEN"}:
        return "denied"
    return "ok"


def observe(context: Any, schema: Any, document: Any, operation_name: str | None, errors: list[Any] | None,
            elapsed: float) -> None:
    """One operation's latency observation, outcome count and log line."""
    metrics: Metrics | None = getattr(context, "metrics", None)
    outcome = outcome_of(errors, getattr(context, "request_error", False))
    # The label is the document's first root field: a field of the schema once the document is valid, so
    # the set of series is bounded whatever operation names clients make up (those go to the log only).
    field = _root_field(document) if outcome != "rejected" else None
    label = field if field is not None and field in _schema_fields(schema) else "other"
    if metrics is not None:
        metrics.operation(label, outcome, elapsed)
    actor = getattr(context, "actor", None)
    member_id = getattr(actor, "member_id", None)
    logs.line(_LOG, "graphql", {
        "request_id": getattr(context, "request_id", None), "operation": label,
        "operation_name": (operation_name or "")[:64] or None, "outcome": outcome,
        "ms": round(elapsed * 1000, 2),
        "member_id": ids.encode("Member", member_id) if member_id is not None else None,
        "admin": getattr(actor, "is_admin", False)})


def _schema_fields(schema: Any) -> frozenset[str]:
    cached: frozenset[str] | None = getattr(schema, "_invite_credits_root_fields", None)
    if cached is None:
        roots = (schema.query_type, schema.mutation_type, schema.subscription_type)
        cached = frozenset(name for root in roots if root is not None for name in root.fields)
        schema._invite_credits_root_fields = cached
    return cached


def _root_field(document: Any) -> str | None:
    try:
        operation = document.definitions[0] if document else None
        selection = operation.selection_set.selections[0]  # type: ignore[union-attr]
        name: str = selection.name.value
        return name
    except (AttributeError, IndexError):
        return None
