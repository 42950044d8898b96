"""Writing expiry: the sweep over everyone's due lots, in bounded transactions."""

from __future__ import annotations

from dataclasses import dataclass

from ..store import clock, idempotency, lots, members
from ..store.protocol import Tx
from . import ledger
from .events import write_notices_and_prune
from .idempotency import UseCases


@dataclass(frozen=True)
class SweepReport:
    lots: int = 0
    members: int = 0
    credits: int = 0
    keys_pruned: int = 0
    notices: int = 0
    events_pruned: int = 0


class ExpiryUseCases(UseCases):
    async def sweep(self, batch_lots: int = 2000) -> SweepReport:
        """Write every due expiry, in bounded transactions, and prune old idempotency keys."""
        written = credits = keys = 0
        swept: set[int] = set()

        def expire_batch(tx: Tx) -> tuple[int, int, int, set[int]]:
            clock.sweep_turn(tx)  # one sweeper at a time, in whichever process
            due = lots.due(tx, now=tx.now, limit=batch_lots)
            owners = {lot.member_id for lot in due}
            fresh = due
            if members.lock(tx, *owners):
                # Locked now: what the members' own writes expired meanwhile is gone from the second look.
                fresh = [lot for lot in lots.due(tx, now=tx.now, limit=batch_lots) if lot.member_id in owners]
            moved, touched = ledger.expire(tx, fresh)
            return len(due), len(fresh), moved, touched

        while True:
            seen, n, c, touched = await self.db.write(expire_batch)
            written += n
            credits += c
            swept |= touched
            if seen < batch_lots:
                break

        def prune(tx: Tx) -> int:
            return idempotency.prune(tx, before=tx.now - self.policy.idempotency_retention_seconds, limit=5000)

        while (pruned := await self.db.write(prune)) > 0:
            keys += pruned

        def events_out(tx: Tx) -> tuple[int, int]:
            clock.sweep_turn(tx)
            return write_notices_and_prune(tx, self.policy.expiry_notice_days, self.policy.event_retention_days)

        notices, events_pruned = await self.db.write(events_out)
        return SweepReport(lots=written, members=len(swept), credits=credits, keys_pruned=keys, notices=notices,
                           events_pruned=events_pruned)

    def expiry_lag(self) -> int:
        """Seconds since the oldest expiry that is due but not yet written; 0 when none is."""
        now = self.now()
        oldest = lots.due(self.db.reader, now=now, limit=1)
        return now - oldest[0].expires_at if oldest else 0
