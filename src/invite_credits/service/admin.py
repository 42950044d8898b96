"""What only an admin does: tiers, credit adjustments, companies, and the test clock. Each writes its audit
record in its own transaction."""

from __future__ import annotations

import re

from ..domain import ids, rules
from ..domain.access import Actor
from ..domain.errors import FieldChecks, InvalidInput, TestClockBackwards, TestClockDisabled
from ..domain.policy import AuditAction, Reason
from ..store import clock, companies, members
from ..store.protocol import Tx
from . import ledger
from .audit import Auditor
from .commands import AdjustCredits, CreateCompany, SetMemberTier
from .expiry import ExpiryUseCases
from .members import require_member
from .snapshots import outcome
from .views import Outcome

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class AdminUseCases(ExpiryUseCases):
    async def set_member_tier(self, actor: Actor, cmd: SetMemberTier, key: str | None = None) -> Outcome:
        actor.require_admin()
        auditor = Auditor(actor)

        def run(tx: Tx) -> Outcome:
            members.lock(tx, cmd.member_id)
            member = require_member(tx, cmd.member_id, ["memberId"])
            members.set_tier(tx, id=member.id, tier=cmd.tier)
            auditor.record(tx, AuditAction.TIER_CHANGED, member.id, None,
                           {"before": {"tier": member.tier.value}, "after": {"tier": cmd.tier.value}})
            return outcome(tx, self.policy, member.id)

        return await self._mutate(actor, "set_member_tier", key, {"member": cmd.member_id, "tier": cmd.tier.value},
                                  run, [cmd.member_id])

    async def adjust_credits(self, actor: Actor, cmd: AdjustCredits, key: str | None = None) -> Outcome:
        actor.require_admin()
        p = self.policy
        checks = FieldChecks()
        if cmd.amount == 0 or abs(cmd.amount) > p.adjustment_max_abs:
            checks.refusals.append(InvalidInput(f"amount must be non-zero and at most {p.adjustment_max_abs} either "
                                                "way.", ["amount"]))
        note = checks(lambda: rules.require_text(cmd.note, ["note"], p.note_max_length))
        checks.done()
        auditor = Auditor(actor)

        def run(tx: Tx) -> Outcome:
            members.lock(tx, cmd.member_id)
            member = require_member(tx, cmd.member_id, ["memberId"])
            before = ledger.balance_at(tx, p, member.id, member.tier, tx.now).available
            refs = ledger.Refs(note=note)
            if cmd.amount > 0:
                entry_id = ledger.grant(tx, p, member.id, Reason.ADMIN_ADJUSTMENT, cmd.amount, refs, limited=False)
            else:
                entry_id = ledger.take(tx, member.id, -cmd.amount, Reason.ADMIN_ADJUSTMENT, refs, partial=True)
            done = outcome(tx, p, member.id, entry_id=entry_id)
            assert done.balance is not None
            auditor.record(tx, AuditAction.CREDITS_ADJUSTED, member.id, note,
                           {"amount": cmd.amount, "entry": ids.encode("LedgerEntry", entry_id) if entry_id else None,
                            "before": {"available": before}, "after": {"available": done.balance.available}})
            return done

        return await self._mutate(actor, "adjust_credits", key,
                                  {"member": cmd.member_id, "amount": cmd.amount, "note": note}, run, [cmd.member_id])

    async def create_company(self, actor: Actor, cmd: CreateCompany, key: str | None = None) -> Outcome:
        actor.require_admin()
        checks = FieldChecks()
        name = checks(lambda: rules.require_text(cmd.name, ["name"], self.policy.name_max_length))
        slug = cmd.slug.strip().lower()
        if not _SLUG.match(slug) or len(slug) > 64:
            checks.refusals.append(InvalidInput("A slug is 1 to 64 lowercase letters, digits and single hyphens.",
                                                ["slug"]))
        checks.done()
        assert name is not None
        auditor = Auditor(actor)

        def run(tx: Tx) -> Outcome:
            if companies.by_slug(tx, slug=slug) is not None:
                raise InvalidInput("Another company has this slug.", ["slug"])
            company_id = companies.insert(tx, name=name, slug=slug, created_at=tx.now)
            auditor.record(tx, AuditAction.COMPANY_CREATED, None, None,
                           {"company": ids.encode("Company", company_id), "before": None,
                            "after": {"name": name, "slug": slug}})
            return outcome(tx, self.policy, company_id=company_id)

        return await self._mutate(actor, "create_company", key, {"name": name, "slug": slug}, run)

    async def advance_test_clock(self, actor: Actor, to: int) -> Outcome:
        """Move the test clock forward; returns once every expiry up to the new time is written."""
        actor.require_admin()
        if not self.db.test_clock:
            raise TestClockDisabled("The test clock is switched off.", ["to"])
        auditor = Auditor(actor)

        def run(tx: Tx) -> Outcome:
            if to < tx.now:
                raise TestClockBackwards("The test clock only moves forward.", ["to"])
            before = tx.now
            clock.set_test_time(tx, now=to)
            auditor.record(tx, AuditAction.TEST_CLOCK_ADVANCED, None, None,
                           {"before": {"now": rules.iso(before)}, "after": {"now": rules.iso(to)}})
            return Outcome(now=to)

        moved = await self.db.write(run)
        await self.sweep()
        return moved
