"""Members: joining, and editing one's profile."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence

from ..domain import profile, rules
from ..domain.access import Actor
from ..domain.errors import EmailTaken, FieldChecks, InvalidReferralCode, NotFound
from ..domain.policy import AuditAction, Reason
from ..store import identities, lots, members
from ..store.protocol import Reader, Tx
from ..store.rows import Member, Session
from . import ledger
from .audit import Auditor
from .commands import ProfileUpdate, SignOut, SignUp
from .idempotency import UseCases
from .snapshots import outcome
from .views import Outcome

_REFERRAL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def require_member(r: Reader, member_id: int | None, field: Sequence[str] | None = None) -> Member:
    member = members.by_id(r, id=member_id) if member_id is not None else None
    if member is None:
        raise NotFound("No such member.", field)
    return member


class MemberUseCases(UseCases):
    async def sign_up(self, actor: Actor, cmd: SignUp, key: str | None = None) -> Outcome:
        p = self.policy
        email = rules.normalize_email(cmd.email)
        checks = FieldChecks()
        checks(lambda: rules.require_email(email, p, ["email"]))
        name = checks(lambda: rules.require_text(cmd.name, ["name"], p.name_max_length))
        checks.done()
        assert name is not None
        code = (cmd.referral_code or "").strip().upper() or None
        candidate = _referral_code()  # drawn here, so the read that checks it can be declared ahead

        def run(tx: Tx) -> Outcome:
            if members.by_email(tx, email=email) is not None:
                raise EmailTaken("A member with this email already exists.", ["email"])
            referrer = None
            if code is not None:
                referrer = members.by_referral_code(tx, referral_code=code)
                if referrer is None:
                    raise InvalidReferralCode("No member has this referral code.", ["referralCode"])
                referrer_id = referrer.id

                def referrer_reads(r: Tx) -> None:
                    members.lock(r, referrer_id)
                    ledger.grant_reads(r, p, referrer_id, Reason.REFERRAL)

                tx.ahead(referrer_reads)
                members.lock(tx, referrer.id)  # the referral grant writes to the referrer's credits
            member_id = members.insert(tx, email=email, name=name, referral_code=_new_referral_code(tx, candidate),
                                       referred_by=referrer.id if referrer else None, joined_at=tx.now)
            # A new member: the once-only limit cannot bite, and there is nothing of theirs to read yet.
            entry_id = ledger.grant(tx, p, member_id, Reason.SIGNUP, rules.signup_credits(email, p), limited=False,
                                    fresh=True)
            if referrer is not None:
                ledger.grant(tx, p, referrer.id, Reason.REFERRAL, p.referral_credits,
                             ledger.Refs(referred_member_id=member_id))
            return outcome(tx, p, member_id, entry_id=entry_id)

        def reads(r: Tx) -> None:
            members.by_email(r, email=email)
            if code is not None:
                members.by_referral_code(r, referral_code=code)
            members.by_referral_code(r, referral_code=candidate)
            members.next_id(r)
            lots.next_id(r)

        return await self._mutate(actor, "sign_up", key, {"email": email, "name": name, "code": code}, run,
                                  ahead=reads)

    async def update_profile(self, actor: Actor, update: ProfileUpdate, key: str | None = None) -> Outcome:
        member_id = actor.require_member()
        clean = profile.clean(update, self.policy)

        def run(tx: Tx) -> Outcome:
            members.lock(tx, member_id)
            member = require_member(tx, member_id)
            before = profile.completion(member.headline, member.about, member.location, member.experience,
                                        member.education, member.skills, self.policy)
            merged = {name: clean.get(name, getattr(member, name)) for name in profile.FIELDS}
            members.set_profile(tx, id=member_id, **merged)
            after = profile.completion(merged["headline"], merged["about"], merged["location"], merged["experience"],
                                       merged["education"], merged["skills"], self.policy)
            entry_id = None
            if before < 100 <= after:  # the reason's lifetime allowance makes it once: a second completion gets 0
                entry_id = ledger.grant(tx, self.policy, member_id, Reason.PROFILE_COMPLETED,
                                        self.policy.profile_completed_credits)
            return outcome(tx, self.policy, member_id, entry_id=entry_id)

        def reads(r: Tx) -> None:
            members.lock(r, member_id)
            members.by_id(r, id=member_id)
            ledger.grant_reads(r, self.policy, member_id, Reason.PROFILE_COMPLETED)

        return await self._mutate(actor, "update_profile", key, clean, run, ahead=reads)

    def completion(self, member: Member) -> int:
        """The member's profile completion, 0 to 100."""
        return profile.completion(member.headline, member.about, member.location, member.experience,
                                  member.education, member.skills, self.policy)

    # -- sessions ----------------------------------------------------------------------------------------
    def signed_in(self, member_id: int) -> tuple[Member, Session] | None:
        """The member and the session their tokens must name, in one read; None when no such member exists."""
        return members.signed_in(self.db.reader, id=member_id)

    def session(self, member_id: int) -> Session | None:
        """The session a member's tokens must name; None when no such member exists."""
        return members.session(self.db.reader, id=member_id)

    async def sign_out_everywhere(self, actor: Actor, cmd: SignOut) -> int:
        """A new session for the member (the caller, or any member for an admin): every token issued before is
        refused from now on. Returns when, in real seconds (what tokens' `iat` is compared with)."""
        if not cmd.named:
            target = actor.require_member()
        else:
            if cmd.member_id is None or not actor.can_read(cmd.member_id):
                actor.require_admin()
            if cmd.member_id is None:
                raise NotFound("No such member.", ["memberId"])
            target = cmd.member_id
        revoked_at = int(time.time())
        auditor = Auditor(actor)

        def run(tx: Tx) -> int:
            require_member(tx, target, ["memberId"])
            members.lock(tx, target)
            members.sign_out(tx, id=target, revoked_at=revoked_at)
            auditor.record(tx, AuditAction.SIGNED_OUT_EVERYWHERE, target, None,
                           {"before": None, "after": {"revokedAt": rules.iso(revoked_at)}})
            return revoked_at

        return await self.db.write(run)

    # -- identities from an identity provider -----------------------------------------------------------
    def member_for_identity(self, issuer: str, subject: str) -> int | None:
        """The member an identity provider's subject is linked to, if any."""
        return identities.member(self.db.reader, issuer=issuer, subject=subject)

    async def link_identity(self, issuer: str, subject: str, email: str) -> int | None:
        """Link a provider's subject to the member with this (verified) email; None when no member has it."""
        normalized = rules.normalize_email(email)

        def run(tx: Tx) -> int | None:
            member = members.by_email(tx, email=normalized)
            if member is None:
                return None
            identities.link(tx, issuer=issuer, subject=subject, member_id=member.id, linked_at=tx.now)
            return identities.member(tx, issuer=issuer, subject=subject)

        return await self.db.write(run)


def _referral_code() -> str:
    return "".join(secrets.choice(_REFERRAL_ALPHABET) for _ in range(8))


def _new_referral_code(r: Reader, first: str) -> str:
    """`first`, or another drawn until one is free."""
    code = first
    while members.by_referral_code(r, referral_code=code) is not None:
        code = _referral_code()
    return code
