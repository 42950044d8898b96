"""Every mutation runs once per (caller, idempotency key): a repeat with the same input gets the first answer."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from ..domain.access import Actor
from ..domain.errors import IdempotencyKeyReused, InvalidInput
from ..domain.policy import Policy
from ..store import idempotency
from ..store.protocol import Store, Tx
from .views import Outcome

T = TypeVar("T")


def request_hash(operation: str, request: Any) -> str:
    payload = json.dumps({"op": operation, "request": request}, sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(payload.encode()).hexdigest()


def _plain(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return {k: getattr(value, k) for k in value.__dataclass_fields__}
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(type(value).__name__)


class UseCases:
    """What every area of the service shares: the store, the policy, and the write path."""

    def __init__(self, store: Store, policy: Policy | None = None) -> None:
        self.db = store
        self.policy = policy or Policy()

    def now(self) -> int:
        """The service's time for reads (the store owns the clock; writes take the transaction's time)."""
        return self.db.now()

    def offload(self, fn: Callable[[], T], kind: str = "read") -> Awaitable[T]:
        """Run `fn` (this service's reads) where it cannot hold the event loop up: see Store.offload."""
        return self.db.offload(fn, kind)

    async def _mutate(self, actor: Actor, operation: str, key: str | None, request: Any,
                      fn: Callable[[Tx], Outcome], members: Iterable[int | None] | None = None,
                      ahead: Callable[[Tx], object] | None = None) -> Outcome:
        """Run `fn` in one write transaction, once per (caller, key): a repeat with the same operation and input
        gets the first answer (stored with the effect, in the same transaction); other input is refused.
        `members`: those the write is known to lock (by default the caller), for the store's per-member queue.
        `ahead`: the reads `fn` starts with (Tx.ahead), sent with the key's claim."""
        touched = list(members) if members is not None else [actor.member_id]

        def declared(tx: Tx) -> None:
            if ahead is not None:
                tx.ahead(ahead)

        if key is None:
            def plain(tx: Tx) -> Outcome:
                declared(tx)
                return fn(tx)

            return await self.db.write(plain, touched)
        if not key.strip() or len(key) > self.policy.idempotency_key_max_length:
            raise InvalidInput(f"idempotencyKey must be 1 to {self.policy.idempotency_key_max_length} characters.",
                               ["idempotencyKey"])
        scope = actor.idempotency_scope
        digest = request_hash(operation, request)

        def run(tx: Tx) -> Outcome:
            declared(tx)
            # Claimed before the work: a key raced from two processes has one effect (the loser waits for the
            # winner's commit, then replays its answer).
            if not idempotency.claim(tx, scope=scope, key=key, operation=operation, request_hash=digest,
                                     created_at=tx.now):
                seen = idempotency.get(tx, scope=scope, key=key)
                assert seen is not None
                if seen.operation == operation and seen.request_hash == digest:
                    return Outcome.from_json(seen.response)
                raise IdempotencyKeyReused("This idempotency key was used for a different request.", ["idempotencyKey"])
            outcome = fn(tx)
            idempotency.answer(tx, scope=scope, key=key, response=outcome.to_json())
            return outcome

        return await self.db.write(run, touched)
