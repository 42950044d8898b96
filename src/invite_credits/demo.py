"""A realistic demo: companies, members of every tier, invitations in every state, credits about to expire."""

from __future__ import annotations

import time
from dataclasses import dataclass

from . import auth
from .domain import ids, rules
from .domain.access import Actor
from .domain.policy import DiscussionKind, InvitationStatus, Reason, Tier
from .service import (
    AdjustCredits,
    AnswerInvitation,
    Contact,
    CreateCompany,
    Education,
    ExtendLot,
    FollowUpInvitation,
    ImportContacts,
    Position,
    PostDiscussion,
    ProfileUpdate,
    ReverseEntry,
    SendInvitation,
    Service,
    SetMemberTier,
    SignUp,
)
from .settings import Settings
from .store import members as member_rows
from .store.databases import backend

ADMIN = Actor(is_admin=True)
DAY = 86400

PEOPLE = [
    ("ann@example.com", "Ann Example", Tier.FREE),
    ("bob@example.com", "Bob Builder", Tier.FREE),
    ("carol@example.com", "Carol Chen", Tier.FREE),
    ("eddie@cs.mit.edu", "Eddie Student", Tier.FREE),
    ("paula@example.com", "Paula Premium", Tier.PREMIUM),
    ("rita@example.com", "Rita Recruiter", Tier.RECRUITER),
]
COMPANIES = [("Acme Corporation", "acme"), ("Globex", "globex"), ("Initech", "initech"), ("Umbrella", "umbrella"),
             ("Hooli", "hooli"), ("Stark Industries", "stark"), ("Wayne Enterprises", "wayne"), ("Cyberdyne", "cyberdyne")]


@dataclass(frozen=True)
class DemoMember:
    email: str
    name: str
    tier: Tier
    id: int


async def seed(settings: Settings) -> list[DemoMember]:
    """Seed the demo; returns its members. Refuses a database that already has the demo's members."""
    now = int(time.time())
    # The story starts eleven months ago, so credits are about to expire; it ends a day ago.
    db = await backend(settings.with_(test_clock=True, read_connections=1)).open(test_start=now - 340 * DAY)
    try:
        service = Service(db)
        if member_rows.by_email(db.reader, email=PEOPLE[0][0]) is not None:
            members = []
            for email, name, _ in PEOPLE:
                row = member_rows.by_email(db.reader, email=email)
                assert row is not None
                members.append(DemoMember(email, name, row.tier, row.id))
            return members
        members = []
        for email, name, tier in PEOPLE:
            outcome = await service.sign_up(Actor(), SignUp(email=email, name=name))
            assert outcome.member_id is not None
            if tier is not Tier.FREE:
                await service.set_member_tier(ADMIN, SetMemberTier(outcome.member_id, tier))
            members.append(DemoMember(email, name, tier, outcome.member_id))
        ann, bob, carol, eddie, paula, rita = (m.id for m in members)
        companies = [(await service.create_company(ADMIN, CreateCompany(name, slug))).company_id
                     for name, slug in COMPANIES]

        await db.set_test_time(now - 200 * DAY)
        await service.import_contacts(Actor(ann), ImportContacts(
            (*(Contact(f"friend{i}@example.org") for i in range(40)), Contact("paula@example.com", "Paula"))))
        for company in companies[:5]:
            await service.follow_company(Actor(ann), company)
        await service.update_profile(Actor(ann), ProfileUpdate(
            headline="Product engineer", about="I build things people use.", location="Oslo",
            experience=[Position("Engineer", "Acme Corporation")], education=[Education("NTNU", "MSc")],
            skills=["Python", "GraphQL", "SQLite"]))
        accepted = await service.send_invitation(Actor(ann), SendInvitation(bob, "We met at the meetup."))
        await service.answer_invitation(Actor(bob), AnswerInvitation(accepted.invitation_id, InvitationStatus.ACCEPTED))
        await service.send_invitation(Actor(ann), SendInvitation(paula, "Hi Paula, Ann from the contacts list."))

        await db.set_test_time(now - 30 * DAY)
        declined = await service.send_invitation(Actor(carol), SendInvitation(bob))
        await service.answer_invitation(Actor(bob), AnswerInvitation(declined.invitation_id, InvitationStatus.DECLINED))
        withdrawn = await service.send_invitation(Actor(carol), SendInvitation(eddie, "Hello!"))
        await service.answer_invitation(Actor(carol),
                                        AnswerInvitation(withdrawn.invitation_id, InvitationStatus.WITHDRAWN))
        for kind, body in [(DiscussionKind.POST, "Hiring tips for juniors"), (DiscussionKind.COMMENT, "Great point!"),
                           (DiscussionKind.ARTICLE, "What credits taught me about focus")]:
            await service.post_discussion(Actor(carol), PostDiscussion(kind, body))

        await db.set_test_time(now - DAY)
        for invitee in (ann, bob, carol, eddie):
            await service.send_invitation(Actor(rita), SendInvitation(invitee, "An opportunity you may like."))
        pending = await service.send_invitation(Actor(eddie), SendInvitation(carol))
        await service.follow_up_invitation(Actor(eddie), FollowUpInvitation(pending.invitation_id, "Just checking in!"))
        await service.adjust_credits(ADMIN, AdjustCredits(paula, 20, "Welcome bonus for the demo"))
        # Support's corrections: Carol's withdrawn invitation is refunded, and the credits Ann earned for her
        # contacts get a year more (her sign-up credits still expire soon).
        assert withdrawn.entry_id is not None
        await service.reverse_ledger_entry(ADMIN, ReverseEntry(withdrawn.entry_id, "Sent by mistake: refunded"))
        contacts = next(lot for lot in service.lots(ann, 100, None, False).items
                        if lot.reason is Reason.CONTACTS_IMPORTED)
        await service.extend_credit_lot(ADMIN, ExtendLot(contacts.id, rules.to_timestamp(rules.add_months(
            rules.to_datetime(contacts.granted_at), 24)), "Loyalty: a year more"))
        return members
    finally:
        await db.close()


def print_tokens(settings: Settings, members: list[DemoMember]) -> None:
    secret = auth.load_secret(settings)
    where = backend(settings).describe() if settings.postgres else settings.db_path
    print(f"Demo data in {where}. Start the server with `invite-credits serve --db {where}`,")
    print("open http://127.0.0.1:8000/graphql and paste one of these into GraphiQL's Headers tab.")
    print(f"Member tokens expire {auth.expiry_text(settings.member_token_ttl_seconds)} "
          "(INVITE_CREDITS_MEMBER_TOKEN_TTL);")
    print(f"the admin token expires {auth.expiry_text(settings.admin_token_ttl_seconds)} "
          "(INVITE_CREDITS_ADMIN_TOKEN_TTL): `invite-credits token --admin` mints another.\n")
    with backend(settings).reader() as r:
        sessions = {m.id: member_rows.session(r, id=m.id) for m in members}
    for m in members:
        session = sessions[m.id]
        assert session is not None  # the demo just made them
        token = auth.member_token(secret, m.id, session.key, settings.member_token_ttl_seconds)
        print(f"# {m.name} <{m.email}>, {m.tier.value}, id {ids.encode('Member', m.id)}")
        print(f'{{"Authorization": "Bearer {token}"}}\n')
    print("# Admin")
    print(f'{{"Authorization": "Bearer {auth.admin_token(secret, settings.admin_token_ttl_seconds)}"}}')
