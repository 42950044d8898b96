"""The service against a real SQLite file: sign-up, expiry, invitations, earning, admin, idempotency."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from invite_credits.domain import rules
from invite_credits.domain.access import Actor
from invite_credits.domain.errors import Code, Denied, Refusal
from invite_credits.domain.policy import DiscussionKind, InvitationStatus, Policy, Reason, Tier
from invite_credits.service import (
    AdjustCredits,
    AnswerInvitation,
    Contact,
    CreateCompany,
    FollowUpInvitation,
    ImportContacts,
    Position,
    PostDiscussion,
    ProfileUpdate,
    SendInvitation,
    Service,
    SetMemberTier,
    SignUp,
)
from invite_credits.service import Education as School
from invite_credits.store import contacts as contact_rows
from invite_credits.store import members
from invite_credits.store.protocol import StoreError

from .conftest import ADMIN, T0, available, join, location, open_database, violations

pytestmark = pytest.mark.anyio
YEAR_LATER = rules.expires_at(T0, Policy())


async def entries(service: Service, member_id: int) -> list[Any]:
    return (service.ledger(member_id, 100, None, None)).items


async def test_sign_up_grants_one_lot_and_one_entry(service: Service) -> None:
    ann = await join(service, " Ann@Example.com ")
    assert await available(service, ann) == 15
    [entry] = await entries(service, ann)
    assert (entry.reason, entry.amount, entry.requested, entry.balance_after, entry.occurred_at) == (
        Reason.SIGNUP, 15, 15, 15, T0)
    [lot] = (service.lots(ann, 10, None, False)).items
    assert (lot.amount, lot.remaining, lot.expires_at) == (15, 15, YEAR_LATER)
    member = service.member(ann)
    assert member is not None and member.email == "ann@example.com"


async def test_academic_email_gets_thirty(service: Service) -> None:
    assert await available(service, await join(service, "a@cs.stanford.edu")) == 30


@pytest.mark.parametrize(
    ("email", "name", "code", "field"),
    [
        ("not-an-email", "A", Code.INVALID_INPUT, ["email"]),
        ("a@example.com", "   ", Code.INVALID_INPUT, ["name"]),
        ("a@example.com", "x" * 101, Code.INVALID_INPUT, ["name"]),
        ("TAKEN@example.com", "A", Code.EMAIL_TAKEN, ["email"]),
    ],
)
async def test_sign_up_refusals(service: Service, email: str, name: str, code: Code, field: list[str]) -> None:
    await join(service, "taken@example.com")
    with pytest.raises(Refusal) as refused:
        await service.sign_up(Actor(), SignUp(email=email, name=name))
    assert (refused.value.code, refused.value.field) == (code, field)
    assert members.by_email(service.db.reader, email="a@example.com") is None


async def test_referral_credits_the_referrer_three(service: Service) -> None:
    ann = await join(service, "ann@example.com")
    member = service.member(ann)
    assert member is not None
    bob = await join(service, "bob@example.com", referral_code=member.referral_code.lower())
    assert await available(service, ann) == 18
    latest = (await entries(service, ann))[0]
    assert (latest.reason, latest.amount, latest.referred_member_id) == (Reason.REFERRAL, 3, bob)
    with pytest.raises(Refusal) as refused:
        await service.sign_up(Actor(), SignUp(email="c@example.com", name="C", referral_code="NOPE1234"))
    assert refused.value.code is Code.INVALID_REFERRAL_CODE


async def test_balance_is_exact_before_the_sweep_and_expiry_is_written_at_expires_at(service: Service) -> None:
    ann = await join(service, "ann@example.com")
    await service.db.set_test_time(YEAR_LATER - 1)
    assert await available(service, ann) == 15
    member = service.member(ann)
    assert member is not None
    balance = service.balance(member)
    assert (balance.expiring_soon, balance.next_expiry_at) == (15, YEAR_LATER)
    await service.db.set_test_time(YEAR_LATER)
    assert await available(service, ann) == 0  # gone at expires_at, sweep or not
    assert len(await entries(service, ann)) == 1
    report = await service.sweep()
    assert (report.lots, report.credits) == (1, 15)
    newest = (await entries(service, ann))[0]
    assert (newest.reason, newest.amount, newest.balance_after, newest.occurred_at) == (Reason.EXPIRED, -15, 0, YEAR_LATER)
    assert (await service.sweep()).lots == 0
    assert violations(location(service.db)) == []


async def test_a_write_to_a_member_writes_their_expiry_first(service: Service) -> None:
    ann = await join(service, "ann@example.com")
    bob = await join(service, "bob@example.com")
    await service.db.set_test_time(YEAR_LATER + 3600)
    await service.post_discussion(Actor(ann), PostDiscussion(DiscussionKind("POST"), "hello"))
    reasons = [(e.reason, e.amount, e.balance_after) for e in reversed(await entries(service, ann))]
    assert reasons == [(Reason.SIGNUP, 15, 15), (Reason.EXPIRED, -15, 0), (Reason.DISCUSSION, 1, 1)]
    assert len(await entries(service, bob)) == 1  # untouched until the sweep
    assert violations(location(service.db)) == []


async def test_spending_takes_the_lot_that_expires_first(service: Service) -> None:
    ann = await join(service, "ann@example.com")
    bob = await join(service, "bob@example.com")
    await service.db.set_test_time(T0 + 86400)
    await service.adjust_credits(ADMIN, AdjustCredits(ann, 5, "goodwill"))
    await service.send_invitation(Actor(ann), SendInvitation(bob, None))
    lots = {lot.reason: lot.remaining for lot in (service.lots(ann, 10, None, True)).items}
    assert lots == {Reason.SIGNUP: 14, Reason.ADMIN_ADJUSTMENT: 5}


# -- invitations ---------------------------------------------------------------------------------------------
async def _people(service: Service) -> dict[str, int]:
    names = ["free", "other", "premium", "recruiter", "friend", "stranger"]
    people = {name: await join(service, f"{name}@example.com", name.title()) for name in names}
    await service.set_member_tier(ADMIN, SetMemberTier(people["premium"], Tier.PREMIUM))
    await service.set_member_tier(ADMIN, SetMemberTier(people["recruiter"], Tier.RECRUITER))
    return people


async def _state(service: Service, member_id: int) -> tuple[int, int, int]:
    sent = service.invitations(member_id, True, None, 100, None)
    return await available(service, member_id), len(await entries(service, member_id)), len(sent.items)


async def _connect(service: Service, a: int, b: int) -> None:
    outcome = await service.send_invitation(Actor(a), SendInvitation(b, None))
    await service.answer_invitation(Actor(b), AnswerInvitation(outcome.invitation_id, InvitationStatus("ACCEPTED")))


Setup = Callable[[Service, dict[str, int]], Awaitable[None]]


async def _nothing(service: Service, p: dict[str, int]) -> None:
    return None


async def _connected(service: Service, p: dict[str, int]) -> None:
    await _connect(service, p["free"], p["other"])


async def _pending_from_them(service: Service, p: dict[str, int]) -> None:
    await service.send_invitation(Actor(p["other"]), SendInvitation(p["free"], None))


async def _pending_from_me(service: Service, p: dict[str, int]) -> None:
    await service.send_invitation(Actor(p["free"]), SendInvitation(p["other"], None))


async def _broke(service: Service, p: dict[str, int]) -> None:
    await service.adjust_credits(ADMIN, AdjustCredits(p["free"], -1000, "spent elsewhere"))


@pytest.mark.parametrize(
    ("setup", "invitee", "message", "code"),
    [
        (_nothing, "nobody", None, Code.NOT_FOUND),
        (_nothing, "nobody", "x" * 301, Code.NOT_FOUND),  # NOT_FOUND comes before all
        (_nothing, "other", "x" * 301, Code.MESSAGE_TOO_LONG),
        (_nothing, "free", "x" * 301, Code.MESSAGE_TOO_LONG),  # before CANNOT_INVITE_SELF
        (_nothing, "free", None, Code.CANNOT_INVITE_SELF),
        (_connected, "other", None, Code.ALREADY_CONNECTED),
        (_pending_from_them, "other", None, Code.INVITATION_ALREADY_PENDING),
        (_pending_from_me, "other", None, Code.INVITATION_ALREADY_PENDING),
        (_nothing, "premium", None, Code.PREMIUM_MEMBER_NOT_REACHABLE),
        (_nothing, "recruiter", None, Code.PREMIUM_MEMBER_NOT_REACHABLE),
        (_broke, "premium", None, Code.PREMIUM_MEMBER_NOT_REACHABLE),  # before INSUFFICIENT_CREDITS
        (_broke, "other", None, Code.INSUFFICIENT_CREDITS),
    ],
)
async def test_send_refusals_spend_nothing(
    service: Service, setup: Setup, invitee: str, message: str | None, code: Code
) -> None:
    p = await _people(service)
    await setup(service, p)
    before = (await _state(service, p["free"]), await _state(service, p.get(invitee, p["other"])))
    with pytest.raises(Refusal) as refused:
        await service.send_invitation(Actor(p["free"]), SendInvitation(p.get(invitee, 10_000), message))
    assert refused.value.code is code
    assert (await _state(service, p["free"]), await _state(service, p.get(invitee, p["other"]))) == before
    assert violations(location(service.db)) == []


async def test_free_member_reaches_premium_members_they_know(service: Service) -> None:
    p = await _people(service)
    premium = service.member(p["premium"])
    assert premium is not None
    await service.import_contacts(Actor(p["free"]), ImportContacts(tuple([Contact(premium.email.upper())])))
    assert (await service.send_invitation(Actor(p["free"]), SendInvitation(p["premium"], "hi"))).invitation_id
    # A shared connection also counts: free and recruiter both know "friend".
    await _connect(service, p["free"], p["friend"])
    await _connect(service, p["recruiter"], p["friend"])
    assert (await service.send_invitation(Actor(p["free"]), SendInvitation(p["recruiter"], None))).invitation_id
    # Premium members may invite anyone.
    assert (await service.send_invitation(Actor(p["premium"]), SendInvitation(p["recruiter"], None))).invitation_id


async def test_recruiters_send_free_and_are_never_refused_for_credit(service: Service) -> None:
    p = await _people(service)
    await service.adjust_credits(ADMIN, AdjustCredits(p["recruiter"], -15, "empty"))
    outcome = await service.send_invitation(Actor(p["recruiter"]), SendInvitation(p["stranger"], None))
    assert outcome.entry_id is None and outcome.balance is not None and outcome.balance.unlimited
    invitation = service.invitation(outcome.invitation_id)
    assert invitation is not None and invitation.credits_spent == 0


async def test_invitation_life(service: Service) -> None:
    p = await _people(service)
    sent = await service.send_invitation(Actor(p["free"]), SendInvitation(p["other"], "Let's connect"))
    assert await available(service, p["free"]) == 14
    inv = sent.invitation_id
    # Out of role, or not a party.
    for actor, status, code in [
        (p["free"], "ACCEPTED", Code.FORBIDDEN),
        (p["other"], "WITHDRAWN", Code.FORBIDDEN),
        (p["stranger"], "DECLINED", Code.NOT_FOUND),
    ]:
        with pytest.raises(Refusal) as refused:
            await service.answer_invitation(Actor(actor), AnswerInvitation(inv, InvitationStatus(status)))
        assert refused.value.code is code
    with pytest.raises(Refusal) as refused:
        await service.follow_up_invitation(Actor(p["free"]), FollowUpInvitation(inv, "x" * 301))
    assert refused.value.code is Code.MESSAGE_TOO_LONG
    await service.follow_up_invitation(Actor(p["free"]), FollowUpInvitation(inv, "Ping"))
    with pytest.raises(Refusal) as refused:
        await service.follow_up_invitation(Actor(p["free"]), FollowUpInvitation(inv, "Ping again"))
    assert refused.value.code is Code.FOLLOW_UP_ALREADY_SENT
    accepted = await service.answer_invitation(Actor(p["other"]), AnswerInvitation(inv, InvitationStatus("ACCEPTED")))
    assert await available(service, p["other"]) == 16
    entry = service.entry(accepted.entry_id)
    assert entry is not None and (entry.reason, entry.invitation_id) == (Reason.INVITATION_ACCEPTED, inv)
    for status in ("DECLINED", "ACCEPTED"):
        with pytest.raises(Refusal) as refused:
            await service.answer_invitation(Actor(p["other"]), AnswerInvitation(inv, InvitationStatus(status)))
        assert refused.value.code is Code.INVITATION_NOT_PENDING
    connections = service.connections(p["free"], 10, None)
    assert [m.id for _, m in connections.items] == [p["other"]]
    # Withdraw and decline: no refund.
    w = await service.send_invitation(Actor(p["free"]), SendInvitation(p["stranger"], None))
    await service.answer_invitation(Actor(p["free"]), AnswerInvitation(w.invitation_id, InvitationStatus("WITHDRAWN")))
    d = await service.send_invitation(Actor(p["friend"]), SendInvitation(p["free"], None))
    await service.answer_invitation(Actor(p["free"]), AnswerInvitation(d.invitation_id, InvitationStatus("DECLINED")))
    assert await available(service, p["free"]) == 13
    assert violations(location(service.db)) == []


# -- earning -------------------------------------------------------------------------------------------------
def _contacts(n: int, start: int = 0) -> list[Contact]:
    return [Contact(f"c{i}@example.com") for i in range(start, start + n)]


async def test_contacts_at_balance_15_grant_185_of_190(service: Service) -> None:
    ann = await join(service, "ann@example.com")
    outcome = await service.import_contacts(Actor(ann), ImportContacts(tuple(_contacts(190))))
    entry = service.entry(outcome.entry_id)
    assert entry is not None and (entry.amount, entry.requested, entry.contacts_count) == (185, 190, 190)
    assert outcome.imported == 190 and await available(service, ann) == 200


async def test_contacts_at_the_cap_write_zero_and_keep_the_allowance(service: Service) -> None:
    ann = await join(service, "ann@example.com")
    await service.adjust_credits(ADMIN, AdjustCredits(ann, 185, "fill"))
    outcome = await service.import_contacts(Actor(ann), ImportContacts(tuple(_contacts(3))))
    entry = service.entry(outcome.entry_id)
    assert entry is not None and (entry.amount, entry.requested) == (0, 3)
    member = service.member(ann)
    [rule] = [r for r in await service.earning(member) if r.reason is Reason.CONTACTS_IMPORTED]
    assert (rule.earned, rule.remaining) == (0, 500)


async def test_contacts_last_125_of_500_then_nothing(service: Service) -> None:
    ann = await join(service, "ann@example.com")
    for batch in range(3):  # 375 granted, spending between batches to stay under the cap
        await service.adjust_credits(ADMIN, AdjustCredits(ann, -200, "make room"))
        await service.import_contacts(Actor(ann), ImportContacts(tuple(_contacts(125, batch * 125))))
    await service.adjust_credits(ADMIN, AdjustCredits(ann, -200, "make room"))
    outcome = await service.import_contacts(Actor(ann), ImportContacts(tuple(_contacts(200, 1000))))
    entry = service.entry(outcome.entry_id)
    assert entry is not None and (entry.amount, entry.requested) == (125, 200)
    again = await service.import_contacts(Actor(ann), ImportContacts(tuple(_contacts(5, 5000))))
    assert again.entry_id is None and again.imported == 5


async def test_contacts_dedupe_and_skip_own_email(service: Service) -> None:
    ann = await join(service, "ann@example.com")
    outcome = await service.import_contacts(Actor(ann), ImportContacts(tuple([Contact("A@x.com"), Contact(" a@x.com "), Contact("ANN@example.com"), Contact("b@x.com")])))
    assert outcome.imported == 2
    again = await service.import_contacts(Actor(ann), ImportContacts(tuple([Contact("a@x.com")])))
    assert again.imported == 0 and again.entry_id is None


@pytest.mark.parametrize(
    ("contacts", "field"),
    [
        ([Contact("ok@x.com"), Contact("ok2@x.com"), Contact("bad"), Contact("nope")], ["contacts", "2", "email"]),
        ([Contact("ok@x.com", "n" * 101)], ["contacts", "0", "name"]),
        (_contacts(1001), ["contacts"]),
    ],
)
async def test_contacts_bad_input_refuses_the_whole_call(service: Service, contacts: list[Contact], field: list[str]) -> None:
    ann = await join(service, "ann@example.com")
    with pytest.raises(Refusal) as refused:
        await service.import_contacts(Actor(ann), ImportContacts(tuple(contacts)))
    assert (refused.value.code, refused.value.field) == (Code.INVALID_INPUT, field)
    assert len(await entries(service, ann)) == 1
    assert not contact_rows.known(service.db.reader, member_id=ann, email="ok@x.com")


async def test_company_follows_earn_once_per_company_and_50_for_life(service: Service) -> None:
    ann = await join(service, "ann@example.com")
    made = [(await service.create_company(ADMIN, CreateCompany(f"Company {i}", f"company-{i}"))).company_id
            for i in range(52)]
    companies = [c for c in made if c is not None]
    assert len(companies) == 52
    first = await service.follow_company(Actor(ann), companies[0])
    assert first.entry_id is not None
    await service.unfollow_company(Actor(ann), companies[0])
    assert not service.follows(ann, companies[0])
    again = await service.follow_company(Actor(ann), companies[0])
    assert again.entry_id is None and service.follows(ann, companies[0])
    granted = [(await service.follow_company(Actor(ann), c)).entry_id for c in companies[1:]]
    assert sum(e is not None for e in granted) == 49  # 50 for life, the first included
    assert await available(service, ann) == 65
    with pytest.raises(Refusal) as refused:
        await service.create_company(ADMIN, CreateCompany("Dup", "company-1"))
    assert refused.value.field == ["slug"]
    with pytest.raises(Refusal) as refused:
        await service.follow_company(Actor(ann), 99999)
    assert refused.value.code is Code.NOT_FOUND


async def test_discussion_ten_a_month_across_a_month_boundary(service: Service) -> None:
    ann = await join(service, "ann@example.com")
    granted = [(await service.post_discussion(Actor(ann), PostDiscussion(DiscussionKind("COMMENT"), f"c{i}"))).entry_id for i in range(12)]
    assert sum(e is not None for e in granted) == 10
    next_month = rules.to_timestamp(rules.add_months(rules.to_datetime(T0), 1).replace(day=1, hour=0))
    await service.db.set_test_time(next_month)
    assert (await service.post_discussion(Actor(ann), PostDiscussion(DiscussionKind("ARTICLE"), "new month"))).entry_id is not None
    with pytest.raises(Refusal) as refused:
        await service.post_discussion(Actor(ann), PostDiscussion(DiscussionKind("POST"), "   "))
    assert refused.value.field == ["body"]
    with pytest.raises(Refusal):
        await service.post_discussion(Actor(ann), PostDiscussion(DiscussionKind("POST"), "x" * 3001))


async def test_profile_completion_earns_fifteen_once(service: Service) -> None:
    ann = await join(service, "ann@example.com")
    partial = await service.update_profile(Actor(ann), ProfileUpdate(headline="Engineer", about="About", location="Oslo"))
    assert partial.entry_id is None
    full = ProfileUpdate(experience=[Position("Dev", "Acme")], education=[School("MIT", "BSc")], skills=["a", "b", "c"])
    done = await service.update_profile(Actor(ann), full)
    entry = service.entry(done.entry_id)
    assert entry is not None and (entry.reason, entry.amount) == (Reason.PROFILE_COMPLETED, 15)
    member = service.member(ann)
    assert member is not None and service.completion(member) == 100
    await service.update_profile(Actor(ann), ProfileUpdate(cleared=frozenset({"headline"})))
    again = await service.update_profile(Actor(ann), ProfileUpdate(headline="Back"))
    assert again.entry_id is None
    with pytest.raises(Refusal) as refused:
        await service.update_profile(Actor(ann), ProfileUpdate(headline="h" * 221))
    assert refused.value.field == ["headline"]
    with pytest.raises(Refusal) as refused:
        await service.update_profile(Actor(ann), ProfileUpdate(about="a" * 2601))
    assert refused.value.field == ["about"]


# -- admin and access ----------------------------------------------------------------------------------------
async def test_negative_adjustment_takes_at_most_what_is_available(service: Service) -> None:
    ann = await join(service, "ann@example.com")
    outcome = await service.adjust_credits(ADMIN, AdjustCredits(ann, -20, "correction"))
    entry = service.entry(outcome.entry_id)
    assert entry is not None and (entry.amount, entry.requested, entry.balance_after, entry.note) == (-15, -20, 0, "correction")


async def test_positive_adjustment_stops_at_the_cap(service: Service) -> None:
    ann = await join(service, "ann@example.com")
    outcome = await service.adjust_credits(ADMIN, AdjustCredits(ann, 500, "too generous"))
    entry = service.entry(outcome.entry_id)
    assert entry is not None and (entry.amount, entry.requested) == (185, 500)


async def test_admin_only_operations(service: Service) -> None:
    ann = await join(service, "ann@example.com")
    for call in (
        service.adjust_credits(Actor(ann), AdjustCredits(ann, 5, "self-serve")),
        service.set_member_tier(Actor(ann), SetMemberTier(ann, Tier.RECRUITER)),
        service.create_company(Actor(ann), CreateCompany("Mine", "mine")),
        service.advance_test_clock(Actor(ann), T0 + 10),
    ):
        with pytest.raises(Denied) as denied:
            await call
        assert denied.value.code == "FORBIDDEN"
    with pytest.raises(Denied) as denied:
        await service.import_contacts(Actor(), ImportContacts(tuple([])))
    assert denied.value.code == "UNAUTHENTICATED"


async def test_test_clock_moves_forward_only_and_writes_expiry(service: Service) -> None:
    ann = await join(service, "ann@example.com")
    with pytest.raises(Refusal) as refused:
        await service.advance_test_clock(ADMIN, T0 - 1)
    assert refused.value.code is Code.TEST_CLOCK_BACKWARDS
    await service.advance_test_clock(ADMIN, YEAR_LATER + 10)
    newest = (await entries(service, ann))[0]
    assert (newest.reason, newest.occurred_at) == (Reason.EXPIRED, YEAR_LATER)


async def test_the_test_clock_is_one_for_every_process_on_the_file(service: Service) -> None:
    other = open_database(location(service.db), test_clock=True, test_start=T0 - 60)
    await other.open()
    try:
        assert other.now() == service.now() == T0  # the later of the stored time and its own start
        await service.advance_test_clock(ADMIN, T0 + 3600)
        assert other.now() == T0 + 3600
        assert await other.write(lambda tx: tx.now) == T0 + 3600
    finally:
        await other.close()


async def test_a_test_clock_database_refuses_the_real_clock_while_ahead_of_it(service: Service) -> None:
    await service.advance_test_clock(ADMIN, 4_000_000_000)  # 2096
    real = open_database(location(service.db))
    with pytest.raises(StoreError, match="INVITE_CREDITS_TEST_CLOCK=1"):
        await real.open()
    await real.close()


def _sql(tx: object, statement: str) -> None:
    """A statement behind the service's back, on either store's transaction (both keep their connection in `conn`)."""
    tx.conn.execute(statement)  # type: ignore[attr-defined]


async def test_a_write_is_never_before_the_members_last_entry(service: Service, store_kind: str) -> None:
    """Another process's clock ahead, or a wall clock stepped back: the entry takes the member's last time."""
    ann = await join(service, "ann@example.com")
    await service.db.write(lambda tx: _sql(tx, "UPDATE test_clock SET now = now + 100"))
    await service.post_discussion(Actor(ann), PostDiscussion(DiscussionKind("POST"), "ahead"))  # written at T0 + 100
    on_table = " ON test_clock" if store_kind == "postgres" else ""
    await service.db.write(lambda tx: _sql(tx, "DROP TRIGGER test_clock_forward_only" + on_table))
    await service.db.write(lambda tx: _sql(tx, "UPDATE test_clock SET now = now - 100"))  # back to T0
    await service.post_discussion(Actor(ann), PostDiscussion(DiscussionKind("POST"), "behind"))
    newest = (await entries(service, ann))[0]
    assert newest.occurred_at == T0 + 100
    assert violations(location(service.db)) == []


# -- idempotency ---------------------------------------------------------------------------------------------
async def test_same_key_same_input_answers_again_and_does_nothing(service: Service) -> None:
    ann = await join(service, "ann@example.com")
    bob = await join(service, "bob@example.com")
    first = await service.send_invitation(Actor(ann), SendInvitation(bob, "hi"), key="k1")
    again = await service.send_invitation(Actor(ann), SendInvitation(bob, "hi"), key="k1")
    assert again == first and again.replayed and not first.replayed
    assert await available(service, ann) == 14
    with pytest.raises(Refusal) as refused:
        await service.send_invitation(Actor(ann), SendInvitation(bob, "different"), key="k1")
    assert refused.value.code is Code.IDEMPOTENCY_KEY_REUSED
    with pytest.raises(Refusal) as refused:
        await service.post_discussion(Actor(ann), PostDiscussion(DiscussionKind("POST"), "hi"), key="k1")
    assert refused.value.code is Code.IDEMPOTENCY_KEY_REUSED
    # Keys are scoped to the caller: bob's k1 is his own.
    assert (await service.post_discussion(Actor(bob), PostDiscussion(DiscussionKind("POST"), "hi"), key="k1")).post_id is not None


async def test_refusals_are_not_remembered_for_a_key(service: Service) -> None:
    ann = await join(service, "ann@example.com")
    bob = await join(service, "bob@example.com")
    await service.adjust_credits(ADMIN, AdjustCredits(ann, -15, "empty"))
    with pytest.raises(Refusal):
        await service.send_invitation(Actor(ann), SendInvitation(bob, None), key="retry-me")
    await service.adjust_credits(ADMIN, AdjustCredits(ann, 1, "one more"))
    assert (await service.send_invitation(Actor(ann), SendInvitation(bob, None), key="retry-me")).invitation_id is not None


async def test_keys_are_kept_a_day_then_pruned(service: Service) -> None:
    ann = await join(service, "ann@example.com")
    await service.post_discussion(Actor(ann), PostDiscussion(DiscussionKind("POST"), "hi"), key="day")
    await service.db.set_test_time(T0 + 23 * 3600)
    assert (await service.sweep()).keys_pruned == 0
    assert (await service.post_discussion(Actor(ann), PostDiscussion(DiscussionKind("POST"), "hi"), key="day")).replayed
    await service.db.set_test_time(T0 + 25 * 3600)
    assert (await service.sweep()).keys_pruned == 1
