"""A randomized workload checked against a small reference model after every step (SPEC invariants 1-6)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from invite_credits.domain import rules
from invite_credits.domain.access import Actor
from invite_credits.domain.errors import Code, Refusal
from invite_credits.domain.policy import DiscussionKind, InvitationStatus, Policy, Tier
from invite_credits.service import (
    AdjustCredits,
    AnswerInvitation,
    Contact,
    CreateCompany,
    ImportContacts,
    PostDiscussion,
    SendInvitation,
    Service,
    SetMemberTier,
    SignUp,
)

from . import pg
from .conftest import ADMIN, T0, open_database, violations

P = Policy()


@dataclass
class ModelLot:
    seq: int
    amount: int
    remaining: int
    expires_at: int


@dataclass
class ModelMember:
    id: int
    email: str
    tier: Tier = Tier.FREE
    lots: list[ModelLot] = field(default_factory=list)
    contacts: set[str] = field(default_factory=set)
    contacts_granted: int = 0
    followed_ever: set[int] = field(default_factory=set)
    follows_granted: int = 0
    discussion_granted: dict[str, int] = field(default_factory=dict)

    def available(self, now: int) -> int:
        return sum(lot.remaining for lot in self.lots if lot.expires_at > now)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="model-"))
        self.loop = asyncio.new_event_loop()
        self.where = self.open_database()
        self.db = open_database(self.where, test_clock=True, test_start=T0)
        self.run(self.db.open())
        self.service = Service(self.db)
        self.members: list[ModelMember] = []
        self.connected: set[frozenset[int]] = set()
        self.pending: dict[int, tuple[int, int]] = {}
        self.seq = 0
        self.emails = 0
        self.sends = 0

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def open_database(self) -> str:
        """Where this example's data lives."""
        return str(self.dir / "model.db")

    def teardown(self) -> None:
        self.run(self.db.close())
        self.loop.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def now(self) -> int:
        return self.service.now()

    # -- model arithmetic -----------------------------------------------------------------------------------
    def grant(self, member: ModelMember, requested: int, allowance_left: int | None) -> int:
        plan = rules.plan_grant(requested, allowance_left, member.available(self.now), P.balance_cap)
        granted = plan.granted if plan else 0
        if granted:
            self.seq += 1
            member.lots.append(ModelLot(self.seq, granted, granted, rules.expires_at(self.now, P)))
        return granted

    def spend(self, member: ModelMember, amount: int) -> int:
        taken = 0
        for lot in sorted((lot for lot in member.lots if lot.expires_at > self.now), key=lambda lot: (lot.expires_at, lot.seq)):
            take = min(lot.remaining, amount - taken)
            lot.remaining -= take
            taken += take
        return taken

    def member(self, index: int) -> ModelMember:
        return self.members[index % len(self.members)]

    # -- rules -----------------------------------------------------------------------------------------------
    @initialize()
    def first_members(self) -> None:
        for academic in (False, True):
            self.sign_up(academic)
        self.companies = [self.run(self.service.create_company(ADMIN, CreateCompany(f"C{i}", f"c{i}"))).company_id for i in range(60)]

    @precondition(lambda self: len(self.members) < 6)
    @rule(academic=st.booleans())
    def sign_up(self, academic: bool) -> None:
        self.emails += 1
        email = f"m{self.emails}@{'uni.edu' if academic else 'example.com'}"
        outcome = self.run(self.service.sign_up(Actor(), SignUp(email=email, name="M")))
        member = ModelMember(outcome.member_id, email)
        self.members.append(member)
        self.grant(member, 30 if academic else 15, None)

    @rule(who=st.integers(0, 5))
    def post(self, who: int) -> None:
        member = self.member(who)
        month = rules.to_datetime(self.now).strftime("%Y-%m")
        used = member.discussion_granted.get(month, 0)
        self.run(self.service.post_discussion(Actor(member.id), PostDiscussion(DiscussionKind("POST"), "hello")))
        member.discussion_granted[month] = used + self.grant(member, 1, P.discussion_monthly_credit_limit - used)

    @rule(who=st.integers(0, 5), count=st.integers(0, 300), known=st.integers(0, 5))
    def import_contacts(self, who: int, count: int, known: int) -> None:
        member = self.member(who)
        base = self.emails * 1000
        self.emails += 1
        emails = [f"c{base + i}@x.com" for i in range(count)] + [self.member(known).email]
        self.run(self.service.import_contacts(Actor(member.id), ImportContacts(tuple([Contact(e) for e in emails]))))
        new = [e for e in dict.fromkeys(emails) if e not in member.contacts and e != member.email]
        member.contacts.update(new)
        member.contacts_granted += self.grant(member, len(new), P.contacts_credit_limit - member.contacts_granted)

    @rule(who=st.integers(0, 5), first=st.integers(0, 59), count=st.integers(1, 30), unfollow=st.booleans())
    def follow_companies(self, who: int, first: int, count: int, unfollow: bool) -> None:
        member = self.member(who)
        for company in (self.companies + self.companies)[first:first + count]:
            self.run(self.service.follow_company(Actor(member.id), company))
            if company not in member.followed_ever:
                member.followed_ever.add(company)
                member.follows_granted += self.grant(member, 1, P.company_follow_credit_limit - member.follows_granted)
            if unfollow:
                self.run(self.service.unfollow_company(Actor(member.id), company))

    @rule(who=st.integers(0, 5), amount=st.integers(-250, 250).filter(bool))
    def adjust(self, who: int, amount: int) -> None:
        member = self.member(who)
        self.run(self.service.adjust_credits(ADMIN, AdjustCredits(member.id, amount, "model")))
        if amount > 0:
            self.grant(member, amount, None)
        else:
            self.spend(member, -amount)

    @rule(who=st.integers(0, 5), tier=st.sampled_from(list(Tier)))
    def set_tier(self, who: int, tier: Tier) -> None:
        member = self.member(who)
        self.run(self.service.set_member_tier(ADMIN, SetMemberTier(member.id, tier)))
        member.tier = tier

    def _knows(self, a: ModelMember, b: ModelMember) -> bool:
        mutual = any(frozenset((a.id, c.id)) in self.connected and frozenset((b.id, c.id)) in self.connected
                     for c in self.members)
        return b.email in a.contacts or mutual

    def _expected_refusal(self, a: ModelMember, b: ModelMember) -> Code | None:
        if a.id == b.id:
            return Code.CANNOT_INVITE_SELF
        if frozenset((a.id, b.id)) in self.connected:
            return Code.ALREADY_CONNECTED
        if any({a.id, b.id} == set(pair) for pair in self.pending.values()):
            return Code.INVITATION_ALREADY_PENDING
        if a.tier is Tier.FREE and b.tier is not Tier.FREE and not self._knows(a, b):
            return Code.PREMIUM_MEMBER_NOT_REACHABLE
        if a.tier is not Tier.RECRUITER and a.available(self.now) < P.invitation_cost:
            return Code.INSUFFICIENT_CREDITS
        return None

    @rule(frm=st.integers(0, 5), to=st.integers(0, 5), key=st.sampled_from([None, "k1", "k2"]))
    def send(self, frm: int, to: int, key: str | None) -> None:
        a, b = self.member(frm), self.member(to)
        expected = self._expected_refusal(a, b)
        self.sends += 1
        unique_key = f"{key}-{self.sends}" if key else None
        try:
            outcome = self.run(self.service.send_invitation(Actor(a.id), SendInvitation(b.id, None), key=unique_key))
        except Refusal as refusal:
            assert refusal.code is expected, (refusal, expected)
            return
        assert expected is None, expected
        self.pending[outcome.invitation_id] = (a.id, b.id)
        if a.tier is not Tier.RECRUITER:
            self.spend(a, P.invitation_cost)
        if key:  # the same key again answers again and changes nothing
            again = self.run(self.service.send_invitation(Actor(a.id), SendInvitation(b.id, None), key=unique_key))
            assert again.replayed and again.invitation_id == outcome.invitation_id

    @precondition(lambda self: bool(self.pending))
    @rule(pick=st.integers(0, 100), accept=st.booleans())
    def answer(self, pick: int, accept: bool) -> None:
        invitation_id = sorted(self.pending)[pick % len(self.pending)]
        inviter_id, invitee_id = self.pending.pop(invitation_id)
        status = "ACCEPTED" if accept else "DECLINED"
        self.run(self.service.answer_invitation(Actor(invitee_id), AnswerInvitation(invitation_id, InvitationStatus(status))))
        if accept:
            self.connected.add(frozenset((inviter_id, invitee_id)))
            invitee = next(m for m in self.members if m.id == invitee_id)
            self.grant(invitee, P.invitation_accepted_credits, None)

    @rule(seconds=st.sampled_from([60, 3600, 86400 * 20, 86400 * 200, 86400 * 366]))
    def move_clock(self, seconds: int) -> None:
        self.run(self.db.set_test_time(self.now + seconds))

    @rule()
    def sweep(self) -> None:
        self.run(self.service.sweep())

    # -- after every step ------------------------------------------------------------------------------------
    @invariant()
    def balances_match_the_model(self) -> None:
        for member in self.members:
            view = self.service.member(member.id)
            assert view is not None
            balance = self.service.balance(view)
            assert balance.available == member.available(self.now), member
            assert 0 <= balance.available

    @invariant()
    def database_keeps_every_invariant(self) -> None:
        assert violations(self.where) == []


class PostgresLedgerMachine(LedgerMachine):
    """The same workload and model on a fresh PostgreSQL database per example."""

    def open_database(self) -> str:
        self._database = pg.fresh_database()
        return self._database.__enter__()

    def teardown(self) -> None:
        super().teardown()
        self._database.__exit__(None, None, None)


TestLedgerModel = LedgerMachine.TestCase
TestLedgerModel.settings = settings(
    max_examples=40, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.fixture(autouse=True)
def _postgres_present(request: pytest.FixtureRequest) -> None:
    if request.cls is not None and request.cls.__name__ == "TestLedgerModelOnPostgres":
        pg.require_server()


TestLedgerModelOnPostgres = PostgresLedgerMachine.TestCase
TestLedgerModelOnPostgres.settings = settings(
    max_examples=25, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
