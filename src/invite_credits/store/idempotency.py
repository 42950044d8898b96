"""Idempotency keys and their first answers."""

from __future__ import annotations

from .protocol import Reader, Tx
from .rows import StoredAnswer


def get(r: Reader, *, scope: str, key: str) -> StoredAnswer | None:
    row = r.one("idempotency_get", scope=scope, key=key)
    return StoredAnswer(row["operation"], row["request_hash"], row["response"]) if row else None


def put(tx: Tx, *, scope: str, key: str, operation: str, request_hash: str, response: str, created_at: int) -> None:
    tx.run("idempotency_put", scope=scope, key=key, operation=operation, request_hash=request_hash,
           response=response, created_at=created_at)


def prune(tx: Tx, *, before: int, limit: int) -> int:
    """Forget up to `limit` keys created before `before`; returns how many."""
    return tx.run("idempotency_prune", before=before, limit=limit)
