"""Idempotency keys and their first answers."""

from __future__ import annotations

from .protocol import Reader, Tx
from .rows import StoredAnswer


def get(r: Reader, *, scope: str, key: str) -> StoredAnswer | None:
    row = r.one("idempotency_get", scope=scope, key=key)
    return StoredAnswer(row["operation"], row["request_hash"], row["response"]) if row else None


def claim(tx: Tx, *, scope: str, key: str, operation: str, request_hash: str, created_at: int) -> bool:
    """Claim the key before the work it guards; False when it was claimed before (by a committed write: a
    claim another transaction holds makes this wait for that transaction's end)."""
    return tx.run("idempotency_claim", scope=scope, key=key, operation=operation, request_hash=request_hash,
                  created_at=created_at) == 1


def answer(tx: Tx, *, scope: str, key: str, response: str) -> None:
    """Store the first answer of a key this transaction claimed (the claim's row: it is there, and held)."""
    tx.run_later("idempotency_answer", scope=scope, key=key, response=response)


def prune(tx: Tx, *, before: int, limit: int) -> int:
    """Forget up to `limit` keys created before `before`; returns how many."""
    return tx.run("idempotency_prune", before=before, limit=limit)
