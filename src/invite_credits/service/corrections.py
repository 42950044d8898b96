"""Corrections an admin makes without editing a row: reversing an entry, extending a lot. Each is one new
ledger entry, linked to what it corrects, and one audit record, in one transaction."""

from __future__ import annotations

from ..domain import ids, rules
from ..domain.access import Actor
from ..domain.errors import (
    AlreadyReversed,
    ExpiryNotLater,
    FieldChecks,
    InvalidInput,
    LotExpired,
    NotFound,
    NotReversible,
)
from ..domain.policy import AuditAction, Reason
from ..store import ledger as entries
from ..store import lots, members
from ..store.protocol import Tx
from ..store.rows import Draw, Entry
from . import ledger
from .audit import Auditor
from .commands import ExtendLot, ReverseEntry
from .expiry import ExpiryUseCases
from .snapshots import outcome
from .views import Outcome

_NOT_REVERSIBLE = frozenset({Reason.EXPIRED, Reason.REVERSAL, Reason.LOT_EXTENDED})


def is_spend(entry: Entry) -> bool:
    """A spend took credits from lots (an invitation, a negative adjustment); anything else that is reversible
    granted them."""
    return entry.reason is Reason.INVITATION_SENT or (entry.reason is Reason.ADMIN_ADJUSTMENT and entry.requested < 0)


class CorrectionUseCases(ExpiryUseCases):
    def _reason(self, text: str, checks: FieldChecks) -> str | None:
        return checks(lambda: rules.require_text(text, ["reason"], self.policy.correction_reason_max_length))

    async def reverse_ledger_entry(self, actor: Actor, cmd: ReverseEntry, key: str | None = None) -> Outcome:
        """One REVERSAL entry linked to the entry it reverses: a grant's lot loses what is left of it; a spend's
        credits come back as a new lot per lot they came from, expiring with it (nothing for a lot expired)."""
        actor.require_admin()
        checks = FieldChecks()
        reason = self._reason(cmd.reason, checks)
        checks.done()
        assert reason is not None
        auditor = Auditor(actor)
        entry_id = cmd.entry_id
        found = await self.offload(lambda: entries.by_id(self.db.reader, id=entry_id)) if entry_id is not None else None

        def run(tx: Tx) -> Outcome:
            entry = entries.by_id(tx, id=cmd.entry_id) if cmd.entry_id is not None else None
            if entry is None:
                raise NotFound("No such ledger entry.", ["entryId"])
            members.lock(tx, entry.member_id)
            if entry.reason in _NOT_REVERSIBLE:
                raise NotReversible(f"A {entry.reason.value} entry cannot be reversed.", ["entryId"])
            if entries.reversed_by(tx, id=entry.id) is not None:
                raise AlreadyReversed("This entry was already reversed.", ["entryId"])
            ledger.expire_member(tx, entry.member_id)
            head = ledger.Head(tx, entry.member_id)
            before = head.balance
            refs = ledger.Refs(note=reason, reverses_id=entry.id)
            if is_spend(entry):
                reversal_id = self._give_back(tx, head, entry, refs)
            else:
                reversal_id = self._write_off(tx, head, entry, refs)
            auditor.record(tx, AuditAction.ENTRY_REVERSED, entry.member_id, reason, {
                "entry": ids.encode("LedgerEntry", entry.id), "reversal": ids.encode("LedgerEntry", reversal_id),
                "before": {"available": before}, "after": {"available": head.balance},
            })
            return outcome(tx, self.policy, entry.member_id, entry_id=reversal_id, reversed_id=entry.id)

        return await self._mutate(actor, "reverse_ledger_entry", key, {"entry": cmd.entry_id, "reason": reason}, run,
                                  [found.member_id if found else None])

    @staticmethod
    def _write_off(tx: Tx, head: ledger.Head, entry: Entry, refs: ledger.Refs) -> int:
        """Reverse a grant: what is left of its lot is written off (0 when spent or expired, still recorded)."""
        lot = lots.by_id(tx, id=entry.lot_id) if entry.lot_id is not None else None
        left = lot.remaining if lot is not None and lot.expires_at > tx.now else 0
        if lot is not None and left:
            lots.draw(tx, id=lot.id, amount=left)
        tx.moved["reversed"] += left
        reversal_id = head.append(tx, Reason.REVERSAL, -left, -entry.amount, entry.lot_id, refs)
        if lot is not None and left:
            entries.insert_draws(tx, entry_id=reversal_id, at=head.at, draws=[Draw(lot.id, left)])
        return reversal_id

    @staticmethod
    def _give_back(tx: Tx, head: ledger.Head, entry: Entry, refs: ledger.Refs) -> int:
        """Reverse a spend: a new lot per lot it drew from, expiring when that lot expires (the cap does not apply:
        this corrects, it does not grant)."""
        made = []
        for draw in entries.draws_of(tx, entry_id=entry.id):
            lot = lots.by_id(tx, id=draw.lot_id)
            if lot is None or lot.expires_at <= head.at:
                continue  # that part expired: it comes back as nothing
            made.append((lots.insert(tx, member_id=entry.member_id, reason=Reason.REVERSAL, amount=draw.amount,
                                     granted_at=head.at, expires_at=lot.expires_at), draw.amount))
        given = sum(amount for _, amount in made)
        tx.moved["reversed"] += given
        return head.append(tx, Reason.REVERSAL, given, -entry.amount, made[0][0] if len(made) == 1 else None, refs)

    async def extend_credit_lot(self, actor: Actor, cmd: ExtendLot, key: str | None = None) -> Outcome:
        """A later expiry for a lot that still holds credits, at most `lot_extension_max_months` after its grant,
        with a LOT_EXTENDED entry of amount 0 whose note is the reason."""
        actor.require_admin()
        p = self.policy
        checks = FieldChecks()
        reason = self._reason(cmd.reason, checks)
        checks.done()
        assert reason is not None
        auditor = Auditor(actor)
        lot_id = cmd.lot_id
        found = await self.offload(lambda: lots.by_id(self.db.reader, id=lot_id)) if lot_id is not None else None

        def run(tx: Tx) -> Outcome:
            lot = lots.by_id(tx, id=cmd.lot_id) if cmd.lot_id is not None else None
            if lot is None:
                raise NotFound("No such credit lot.", ["lotId"])
            members.lock(tx, lot.member_id)
            ledger.expire_member(tx, lot.member_id)
            lot = lots.by_id(tx, id=lot.id)
            assert lot is not None
            if lot.expires_at <= tx.now or lot.remaining == 0:
                raise LotExpired("This lot has expired or has no credits left.", ["lotId"])
            if cmd.expires_at <= lot.expires_at:
                raise ExpiryNotLater("The new expiry must be later than the lot's current expiry.", ["expiresAt"])
            latest = rules.to_timestamp(rules.add_months(rules.to_datetime(lot.granted_at), p.lot_extension_max_months))
            if cmd.expires_at > latest:
                raise InvalidInput(f"A lot expires at most {p.lot_extension_max_months} months after its grant "
                                   f"({rules.iso(latest)}).", ["expiresAt"])
            head = ledger.Head(tx, lot.member_id)
            entry_id = head.append(tx, Reason.LOT_EXTENDED, 0, 0, lot.id, ledger.Refs(note=reason))
            lots.insert_extension(tx, entry_id=entry_id, lot_id=lot.id, at=head.at, old_expires_at=lot.expires_at,
                                  new_expires_at=cmd.expires_at)
            if not lots.extend(tx, id=lot.id, expires_at=cmd.expires_at):
                raise RuntimeError(f"lot {lot.id} changed under a write")
            auditor.record(tx, AuditAction.LOT_EXTENDED, lot.member_id, reason, {
                "lot": ids.encode("CreditLot", lot.id), "entry": ids.encode("LedgerEntry", entry_id),
                "before": {"expiresAt": rules.iso(lot.expires_at)}, "after": {"expiresAt": rules.iso(cmd.expires_at)},
            })
            return outcome(tx, p, lot.member_id, entry_id=entry_id)

        return await self._mutate(actor, "extend_credit_lot", key,
                                  {"lot": cmd.lot_id, "expires_at": cmd.expires_at, "reason": reason}, run,
                                  [found.member_id if found else None])
