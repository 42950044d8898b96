"""Earning credits by activity: importing contacts, following companies, taking part in discussions."""

from __future__ import annotations

from functools import partial

from ..domain import rules
from ..domain.access import Actor
from ..domain.errors import FieldChecks, InvalidInput, NotFound
from ..domain.policy import Reason
from ..store import companies, contacts, discussions, members
from ..store.protocol import Reader, Tx
from ..store.rows import Company
from . import ledger
from .commands import ImportContacts, PostDiscussion
from .idempotency import UseCases
from .members import require_member
from .snapshots import outcome
from .views import Outcome


def require_company(r: Reader, company_id: int | None) -> Company:
    company = companies.by_id(r, id=company_id) if company_id is not None else None
    if company is None:
        raise NotFound("No such company.", ["companyId"])
    return company


class EarningUseCases(UseCases):
    async def import_contacts(self, actor: Actor, cmd: ImportContacts, key: str | None = None) -> Outcome:
        member_id = actor.require_member()
        p = self.policy
        if len(cmd.contacts) > p.contacts_per_call_max:
            raise InvalidInput(f"At most {p.contacts_per_call_max} contacts per call.", ["contacts"])
        checks = FieldChecks()
        clean: list[tuple[str, str | None]] = []
        for i, contact in enumerate(cmd.contacts):
            email = rules.normalize_email(contact.email)
            checks(partial(rules.require_email, email, p, ["contacts", str(i), "email"],
                           f"Contact {i} has no valid email address."))
            name = checks(partial(rules.require_text, contact.name, ["contacts", str(i), "name"], p.name_max_length,
                                  required=False))
            clean.append((email, name))
        checks.done()

        emails = sorted({email for email, _ in clean})

        def run(tx: Tx) -> Outcome:
            members.lock(tx, member_id)
            member = require_member(tx, member_id)
            skip = contacts.known_among(tx, member_id=member_id, emails=emails) | {member.email}
            added: set[str] = set()
            for email, name in clean:
                if email not in skip and email not in added:  # a contact listed twice is imported once
                    added.add(email)
                    contacts.insert_new(tx, member_id=member_id, email=email, name=name, imported_at=tx.now)
            imported = len(added)
            entry_id = ledger.grant(tx, p, member_id, Reason.CONTACTS_IMPORTED, imported * p.contact_credits,
                                    ledger.Refs(contacts_count=imported))
            return outcome(tx, p, member_id, imported=imported, entry_id=entry_id)

        def reads(r: Tx) -> None:
            members.lock(r, member_id)
            members.by_id(r, id=member_id)
            contacts.known_among(r, member_id=member_id, emails=emails)
            ledger.grant_reads(r, p, member_id, Reason.CONTACTS_IMPORTED)

        return await self._mutate(actor, "import_contacts", key, clean, run, ahead=reads)

    async def follow_company(self, actor: Actor, company_id: int | None, key: str | None = None) -> Outcome:
        member_id = actor.require_member()

        def run(tx: Tx) -> Outcome:
            members.lock(tx, member_id)
            require_member(tx, member_id)
            company = require_company(tx, company_id)
            follow = companies.follow(tx, member_id=member_id, company_id=company.id)
            entry_id = None
            if follow is None:
                companies.follow_insert(tx, member_id=member_id, company_id=company.id, now=tx.now)
                entry_id = ledger.grant(tx, self.policy, member_id, Reason.COMPANY_FOLLOWED,
                                        self.policy.company_follow_credits, ledger.Refs(company_id=company.id))
            elif not follow.following:
                companies.follow_set(tx, member_id=member_id, company_id=company.id, following=True)
            return outcome(tx, self.policy, member_id, company_id=company.id, entry_id=entry_id)

        def reads(r: Tx) -> None:
            members.lock(r, member_id)
            members.by_id(r, id=member_id)
            if company_id is not None:
                companies.by_id(r, id=company_id)
                companies.follow(r, member_id=member_id, company_id=company_id)
            ledger.grant_reads(r, self.policy, member_id, Reason.COMPANY_FOLLOWED)

        return await self._mutate(actor, "follow_company", key, {"company": company_id}, run, ahead=reads)

    async def unfollow_company(self, actor: Actor, company_id: int | None, key: str | None = None) -> Outcome:
        member_id = actor.require_member()

        def run(tx: Tx) -> Outcome:
            members.lock(tx, member_id)
            company = require_company(tx, company_id)
            companies.follow_set(tx, member_id=member_id, company_id=company.id, following=False)
            return outcome(tx, self.policy, member_id, company_id=company.id)

        return await self._mutate(actor, "unfollow_company", key, {"company": company_id}, run)

    async def post_discussion(self, actor: Actor, cmd: PostDiscussion, key: str | None = None) -> Outcome:
        member_id = actor.require_member()
        text = rules.require_text(cmd.body, ["body"], self.policy.discussion_body_max_length)
        assert text is not None

        def run(tx: Tx) -> Outcome:
            members.lock(tx, member_id)
            require_member(tx, member_id)
            post_id = discussions.insert(tx, member_id=member_id, kind=cmd.kind, body=text, posted_at=tx.now)
            entry_id = ledger.grant(tx, self.policy, member_id, Reason.DISCUSSION, self.policy.discussion_credits,
                                    ledger.Refs(post_id=post_id))
            return outcome(tx, self.policy, member_id, post_id=post_id, entry_id=entry_id)

        def reads(r: Tx) -> None:
            members.lock(r, member_id)
            members.by_id(r, id=member_id)
            discussions.next_id(r)
            ledger.grant_reads(r, self.policy, member_id, Reason.DISCUSSION)

        return await self._mutate(actor, "post_discussion", key, {"kind": cmd.kind.value, "body": text}, run,
                                  ahead=reads)
