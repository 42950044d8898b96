"""The only place where rules meet the store: one method per use case.

Writes validate what needs no database first, then run as one function in the
writer thread, so every check and every change of one request is atomic.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from . import ids, ledger
from .domain import rules
from .domain.access import Actor
from .domain.errors import Code, FieldChecks, Refusal
from .domain.policy import Period, Policy, Reason, Tier
from .ledger import Refs
from .store.database import Database, Tx
from .views import (
    BalanceView,
    CompanyView,
    EarningProgress,
    EntryView,
    InvitationView,
    LotView,
    MemberView,
    Outcome,
    Page,
    PostView,
    Snapshot,
)

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_REFERRAL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_NEVER = 2**62


# -- commands: what a mutation asks for, as plain values --------------------------------------------
@dataclass(frozen=True)
class SignUp:
    email: str
    name: str
    referral_code: str | None = None


@dataclass(frozen=True)
class Position:
    title: str
    organization: str


@dataclass(frozen=True)
class Education:
    school: str
    degree: str | None = None


@dataclass(frozen=True)
class ProfileUpdate:
    """None leaves a field unchanged; an empty string or list clears it."""

    name: str | None = None
    headline: str | None = None
    about: str | None = None
    location: str | None = None
    experience: list[Position] | None = None
    education: list[Education] | None = None
    skills: list[str] | None = None
    cleared: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Contact:
    email: str
    name: str | None = None


@dataclass(frozen=True)
class SweepReport:
    lots: int = 0
    members: int = 0
    credits: int = 0
    keys_pruned: int = 0


def _request_hash(operation: str, request: Any) -> str:
    payload = json.dumps({"op": operation, "input": request}, sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(payload.encode()).hexdigest()


def _plain(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return {k: getattr(value, k) for k in value.__dataclass_fields__}
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(type(value).__name__)


class Service:
    def __init__(self, db: Database, policy: Policy | None = None) -> None:
        self.db = db
        self.policy = policy or Policy()

    def now(self) -> int:
        """The service's time for reads (the store owns the clock; writes take the transaction's time)."""
        return self.db.now()

    # -- the write path -------------------------------------------------------------------------
    async def _mutate(
        self, actor: Actor, operation: str, key: str | None, request: Any, fn: Callable[[Tx], Outcome]
    ) -> Outcome:
        """Run `fn` once per (caller, idempotency key): a repeat with the same input gets the first answer."""
        if key is None:
            return await self.db.write(fn)
        if not key.strip() or len(key) > self.policy.idempotency_key_max_length:
            raise Refusal(
                Code.INVALID_INPUT,
                f"idempotencyKey must be 1 to {self.policy.idempotency_key_max_length} characters.",
                ["input", "idempotencyKey"],
            )
        scope = actor.idempotency_scope
        digest = _request_hash(operation, request)

        def run(tx: Tx) -> Outcome:
            seen = tx.one("idempotency_get", scope=scope, key=key)
            if seen is not None:
                if seen["operation"] == operation and seen["request_hash"] == digest:
                    return Outcome.from_json(seen["response"])
                raise Refusal(
                    Code.IDEMPOTENCY_KEY_REUSED,
                    "This idempotency key was used for a different request.",
                    ["input", "idempotencyKey"],
                )
            outcome = fn(tx)
            tx.run(
                "idempotency_put", scope=scope, key=key, operation=operation, request_hash=digest,
                response=outcome.to_json(), created_at=tx.now,
            )
            return outcome

        return await self.db.write(run)

    def _member(self, tx: Tx, member_id: int, field: Sequence[str] | None = None) -> sqlite3.Row:
        row = tx.one("member_by_id", id=member_id)
        if row is None:
            raise Refusal(Code.NOT_FOUND, "No such member.", field)
        return row

    def _outcome(self, tx: Tx, member_id: int | None = None, *, members: Sequence[int] = (),
                 invitation_id: int | None = None, entry_id: int | None = None, company_id: int | None = None,
                 post_id: int | None = None, imported: int | None = None) -> Outcome:
        """What the mutation did, with a snapshot of every object its payload shows, read in its transaction."""
        snap = Snapshot(at=tx.now)
        for mid in dict.fromkeys([*([member_id] if member_id is not None else []), *members]):
            row = tx.one("member_by_id", id=mid)
            if row is not None:
                view = MemberView.from_row(row)
                snap.members[mid] = view
                snap.balances[mid] = ledger.balance_at(tx, self.policy, mid, view.tier)
        if invitation_id is not None and (row := tx.one("invitation_by_id", id=invitation_id)) is not None:
            snap.invitations[invitation_id] = InvitationView.from_row(row)
        if entry_id is not None and (row := tx.one("entry_by_id", id=entry_id)) is not None:
            entry = EntryView.from_row(row)
            snap.entries[entry_id] = entry
            if entry.lot_id is not None and (lot := tx.one("lot_by_id", id=entry.lot_id)) is not None:
                snap.lots[entry.lot_id] = LotView.from_row(lot)
        if company_id is not None and (row := tx.one("company_by_id", id=company_id)) is not None:
            snap.companies[company_id] = CompanyView.from_row(row)
            if member_id is not None:
                follow = tx.one("follow_get", member_id=member_id, company_id=company_id)
                snap.following[company_id] = bool(follow and follow["following"])
        if post_id is not None and (row := tx.one("post_by_id", id=post_id)) is not None:
            snap.posts[post_id] = PostView.from_row(row)
        return Outcome(member_id=member_id, invitation_id=invitation_id, entry_id=entry_id, company_id=company_id,
                       post_id=post_id, imported=imported, snapshot=snap)

    # -- members ------------------------------------------------------------------------------------
    async def sign_up(self, actor: Actor, cmd: SignUp, key: str | None = None) -> Outcome:
        p = self.policy
        email = rules.normalize_email(cmd.email)
        checks = FieldChecks()
        checks(lambda: rules.require_email(email, p, ["input", "email"]))
        name = checks(lambda: rules.require_text(cmd.name, ["input", "name"], p.name_max_length))
        checks.done()
        code = (cmd.referral_code or "").strip().upper() or None

        def run(tx: Tx) -> Outcome:
            if tx.one("member_by_email", email=email) is not None:
                raise Refusal(Code.EMAIL_TAKEN, "A member with this email already exists.", ["input", "email"])
            referrer = None
            if code is not None:
                referrer = tx.one("member_by_referral_code", referral_code=code)
                if referrer is None:
                    raise Refusal(Code.INVALID_REFERRAL_CODE, "No member has this referral code.", ["input", "referralCode"])
            member_id = tx.insert(
                "member_insert", email=email, name=name, referral_code=self._new_referral_code(tx),
                referred_by=referrer["id"] if referrer else None, joined_at=tx.now,
            )
            # A new member: the once-only limit cannot bite.
            entry_id = ledger.grant(tx, p, member_id, Reason.SIGNUP, rules.signup_credits(email, p), limited=False)
            if referrer is not None:
                ledger.grant(tx, p, referrer["id"], Reason.REFERRAL, p.referral_credits, Refs(referred_member_id=member_id))
            return self._outcome(tx, member_id, entry_id=entry_id)

        return await self._mutate(actor, "signUp", key, {"email": email, "name": name, "code": code}, run)

    def _new_referral_code(self, tx: Tx) -> str:
        while True:
            code = "".join(secrets.choice(_REFERRAL_ALPHABET) for _ in range(8))
            if tx.one("member_by_referral_code", referral_code=code) is None:
                return code

    async def set_member_tier(self, actor: Actor, member_id: int | None, tier: Tier, key: str | None = None) -> Outcome:
        actor.require_admin()

        def run(tx: Tx) -> Outcome:
            if member_id is None:
                raise Refusal(Code.NOT_FOUND, "No such member.", ["input", "memberId"])
            self._member(tx, member_id, ["input", "memberId"])
            tx.run("member_set_tier", id=member_id, tier=tier.value)
            return self._outcome(tx, member_id)

        return await self._mutate(actor, "setMemberTier", key, {"member": member_id, "tier": tier.value}, run)

    async def update_profile(self, actor: Actor, update: ProfileUpdate, key: str | None = None) -> Outcome:
        member_id = actor.require_member()
        clean = self._clean_profile(update)

        def run(tx: Tx) -> Outcome:
            member = MemberView.from_row(self._member(tx, member_id))
            before = self._completion(member.headline, member.about, member.location, member.experience,
                                      member.education, member.skills)
            merged = {
                "name": clean.get("name", member.name),
                "headline": clean.get("headline", member.headline),
                "about": clean.get("about", member.about),
                "location": clean.get("location", member.location),
                "experience": clean.get("experience", member.experience),
                "education": clean.get("education", member.education),
                "skills": clean.get("skills", member.skills),
            }
            tx.run(
                "member_set_profile", id=member_id, name=merged["name"], headline=merged["headline"],
                about=merged["about"], location=merged["location"], experience=json.dumps(merged["experience"]),
                education=json.dumps(merged["education"]), skills=json.dumps(merged["skills"]),
            )
            after = self._completion(merged["headline"], merged["about"], merged["location"], merged["experience"],
                                     merged["education"], merged["skills"])
            entry_id = None
            if before < 100 <= after:  # the reason's lifetime allowance makes it once: a second completion requests 0
                entry_id = ledger.grant(tx, self.policy, member_id, Reason.PROFILE_COMPLETED,
                                        self.policy.profile_completed_credits)
            return self._outcome(tx, member_id, entry_id=entry_id)

        return await self._mutate(actor, "updateProfile", key, clean, run)

    def completion(self, member: MemberView) -> int:
        """The member's profile completion, 0 to 100."""
        return self._completion(member.headline, member.about, member.location, member.experience,
                                member.education, member.skills)

    def _completion(self, headline: str | None, about: str | None, location: str | None, experience: Sequence[Any],
                    education: Sequence[Any], skills: Sequence[Any]) -> int:
        return rules.profile_completion(headline, about, location, len(experience), len(education), len(skills), self.policy)

    def _clean_profile(self, update: ProfileUpdate) -> dict[str, Any]:
        """Validated, trimmed values of the fields the update names; every bad field is reported."""
        p = self.policy
        checks = FieldChecks()
        clean: dict[str, Any] = {}
        if update.name is not None or "name" in update.cleared:
            clean["name"] = checks(lambda: rules.require_text(update.name, ["input", "name"], p.name_max_length))
        for name, limit in (("headline", p.headline_max_length), ("about", p.about_max_length),
                            ("location", p.location_max_length)):
            value = getattr(update, name)
            if value is not None or name in update.cleared:
                clean[name] = checks(partial(rules.require_text, value, ["input", name], limit, required=False))
        item_max = p.profile_item_max_length

        def text(value: str | None, *path: str, required: bool = True) -> str | None:
            return checks(partial(rules.require_text, value, ["input", *path], item_max, required=required))

        for name in ("experience", "education", "skills"):
            items = getattr(update, name)
            if items is None:
                if name in update.cleared:
                    clean[name] = []
                continue
            if len(items) > p.profile_list_max_items:
                checks.refusals.append(Refusal(Code.INVALID_INPUT, f"At most {p.profile_list_max_items} {name} entries.",
                                               ["input", name]))
                continue
            if name == "experience":
                clean[name] = [{"title": text(e.title, name, str(i), "title"),
                                "organization": text(e.organization, name, str(i), "organization")}
                               for i, e in enumerate(items)]
            elif name == "education":
                clean[name] = [{"school": text(e.school, name, str(i), "school"),
                                "degree": text(e.degree, name, str(i), "degree", required=False)}
                               for i, e in enumerate(items)]
            else:
                skills: list[str] = []
                for i, skill in enumerate(items):
                    kept = text(skill, name, str(i))
                    if kept is not None and kept.casefold() not in {s.casefold() for s in skills}:
                        skills.append(kept)
                clean[name] = skills
        checks.done()
        return clean

    # -- earning ------------------------------------------------------------------------------------
    async def import_contacts(self, actor: Actor, contacts: Sequence[Contact], key: str | None = None) -> Outcome:
        member_id = actor.require_member()
        p = self.policy
        if len(contacts) > p.contacts_per_call_max:
            raise Refusal(Code.INVALID_INPUT, f"At most {p.contacts_per_call_max} contacts per call.", ["input", "contacts"])
        checks = FieldChecks()
        clean: list[tuple[str, str | None]] = []
        for i, contact in enumerate(contacts):
            email = rules.normalize_email(contact.email)
            checks(partial(rules.require_email, email, p, ["input", "contacts", str(i), "email"],
                           f"Contact {i} has no valid email address."))
            name = checks(partial(rules.require_text, contact.name, ["input", "contacts", str(i), "name"],
                                  p.name_max_length, required=False))
            clean.append((email, name))
        checks.done()

        def run(tx: Tx) -> Outcome:
            member = self._member(tx, member_id)
            imported = 0
            for email, name in clean:
                if email != member["email"]:
                    imported += tx.run("contact_insert", member_id=member_id, email=email, name=name, imported_at=tx.now)
            entry_id = ledger.grant(tx, p, member_id, Reason.CONTACTS_IMPORTED, imported * p.contact_credits,
                                    Refs(contacts_count=imported))
            return self._outcome(tx, member_id, imported=imported, entry_id=entry_id)

        return await self._mutate(actor, "importContacts", key, clean, run)

    async def create_company(self, actor: Actor, name: str, slug: str, key: str | None = None) -> Outcome:
        actor.require_admin()
        checks = FieldChecks()
        clean_name = checks(lambda: rules.require_text(name, ["input", "name"], self.policy.name_max_length))
        clean_slug = slug.strip().lower()
        if not _SLUG.match(clean_slug) or len(clean_slug) > 64:
            checks.refusals.append(Refusal(Code.INVALID_INPUT, "A slug is 1 to 64 lowercase letters, digits and "
                                           "single hyphens.", ["input", "slug"]))
        checks.done()

        def run(tx: Tx) -> Outcome:
            if tx.one("company_by_slug", slug=clean_slug) is not None:
                raise Refusal(Code.INVALID_INPUT, "Another company has this slug.", ["input", "slug"])
            company_id = tx.insert("company_insert", name=clean_name, slug=clean_slug, created_at=tx.now)
            return self._outcome(tx, company_id=company_id)

        return await self._mutate(actor, "createCompany", key, {"name": clean_name, "slug": clean_slug}, run)

    def _company(self, tx: Tx, company_id: int | None) -> sqlite3.Row:
        row = tx.one("company_by_id", id=company_id) if company_id is not None else None
        if row is None:
            raise Refusal(Code.NOT_FOUND, "No such company.", ["input", "companyId"])
        return row

    async def follow_company(self, actor: Actor, company_id: int | None, key: str | None = None) -> Outcome:
        member_id = actor.require_member()

        def run(tx: Tx) -> Outcome:
            self._member(tx, member_id)
            self._company(tx, company_id)
            follow = tx.one("follow_get", member_id=member_id, company_id=company_id)
            entry_id = None
            if follow is None:
                tx.run("follow_insert", member_id=member_id, company_id=company_id, now=tx.now)
                entry_id = ledger.grant(tx, self.policy, member_id, Reason.COMPANY_FOLLOWED,
                                        self.policy.company_follow_credits, Refs(company_id=company_id))
            elif not follow["following"]:
                tx.run("follow_set", member_id=member_id, company_id=company_id, following=1)
            return self._outcome(tx, member_id, company_id=company_id, entry_id=entry_id)

        return await self._mutate(actor, "followCompany", key, {"company": company_id}, run)

    async def unfollow_company(self, actor: Actor, company_id: int | None, key: str | None = None) -> Outcome:
        member_id = actor.require_member()

        def run(tx: Tx) -> Outcome:
            self._company(tx, company_id)
            tx.run("follow_set", member_id=member_id, company_id=company_id, following=0)
            return self._outcome(tx, member_id, company_id=company_id)

        return await self._mutate(actor, "unfollowCompany", key, {"company": company_id}, run)

    async def post_discussion(self, actor: Actor, kind: str, body: str, key: str | None = None) -> Outcome:
        member_id = actor.require_member()
        text = rules.require_text(body, ["input", "body"], self.policy.discussion_body_max_length)

        def run(tx: Tx) -> Outcome:
            self._member(tx, member_id)
            post_id = tx.insert("post_insert", member_id=member_id, kind=kind, body=text, posted_at=tx.now)
            entry_id = ledger.grant(tx, self.policy, member_id, Reason.DISCUSSION, self.policy.discussion_credits,
                                    Refs(post_id=post_id))
            return self._outcome(tx, member_id, post_id=post_id, entry_id=entry_id)

        return await self._mutate(actor, "postDiscussion", key, {"kind": kind, "body": text}, run)

    # -- invitations --------------------------------------------------------------------------------
    async def send_invitation(
        self, actor: Actor, invitee_id: int | None, message: str | None, key: str | None = None
    ) -> Outcome:
        """Refusals in order: NOT_FOUND, MESSAGE_TOO_LONG, CANNOT_INVITE_SELF, ALREADY_CONNECTED,
        INVITATION_ALREADY_PENDING, PREMIUM_MEMBER_NOT_REACHABLE, INSUFFICIENT_CREDITS."""
        inviter_id = actor.require_member()
        p = self.policy

        def run(tx: Tx) -> Outcome:
            inviter = self._member(tx, inviter_id)
            invitee = tx.one("member_by_id", id=invitee_id) if invitee_id is not None else None
            if invitee is None:
                raise Refusal(Code.NOT_FOUND, "No such member.", ["input", "inviteeId"])
            text = rules.require_text(message, ["input", "message"], p.message_max_length, required=False,
                                      code=Code.MESSAGE_TOO_LONG)
            if invitee["id"] == inviter_id:
                raise Refusal(Code.CANNOT_INVITE_SELF, "You cannot invite yourself.", ["input", "inviteeId"])
            if tx.one("connected", a=inviter_id, b=invitee["id"]) is not None:
                raise Refusal(Code.ALREADY_CONNECTED, "You are already connected.", ["input", "inviteeId"])
            pending = tx.one("invitation_pending_between", a=inviter_id, b=invitee["id"])
            if pending is not None:
                raise Refusal(
                    Code.INVITATION_ALREADY_PENDING,
                    f"Invitation {ids.encode('Invitation', pending['id'])} between you is still pending.",
                    ["input", "inviteeId"],
                )
            inviter_tier = Tier(inviter["tier"])
            if (inviter_tier is Tier.FREE and Tier(invitee["tier"]) is not Tier.FREE
                    and not self._knows(tx, inviter_id, invitee)):
                raise Refusal(Code.PREMIUM_MEMBER_NOT_REACHABLE,
                              "Free members can invite premium members only when they know them.", ["input", "inviteeId"])
            cost = 0 if inviter_tier is Tier.RECRUITER else p.invitation_cost
            invitation_id = tx.insert("invitation_insert", inviter_id=inviter_id, invitee_id=invitee["id"], message=text,
                                   sent_at=tx.now, credits_spent=cost)
            entry_id = None
            if cost:
                entry_id = ledger.take(tx, inviter_id, cost, Reason.INVITATION_SENT, Refs(invitation_id=invitation_id))
            return self._outcome(tx, inviter_id, members=[invitee["id"]], invitation_id=invitation_id,
                                 entry_id=entry_id)

        return await self._mutate(actor, "sendInvitation", key, {"invitee": invitee_id, "message": message}, run)

    def _knows(self, tx: Tx, member_id: int, other: sqlite3.Row) -> bool:
        return (tx.one("contact_known", member_id=member_id, email=other["email"]) is not None
                or tx.one("share_connection", a=member_id, b=other["id"]) is not None)

    def _party_invitation(self, tx: Tx, actor_id: int, invitation_id: int | None, role: str) -> sqlite3.Row:
        """The invitation, if the actor is a party to it (NOT_FOUND otherwise), in `role` (FORBIDDEN otherwise)."""
        row = tx.one("invitation_by_id", id=invitation_id) if invitation_id is not None else None
        if row is None or actor_id not in (row["inviter_id"], row["invitee_id"]):
            raise Refusal(Code.NOT_FOUND, "No such invitation.", ["input", "invitationId"])
        if row[f"{role}_id"] != actor_id:
            raise Refusal(Code.FORBIDDEN, f"Only the {role} may do this.", ["input", "invitationId"])
        return row

    def _require_pending(self, row: sqlite3.Row) -> None:
        if row["status"] != "PENDING":
            raise Refusal(Code.INVITATION_NOT_PENDING, f"The invitation is {row['status'].lower()}.",
                          ["input", "invitationId"])

    async def answer_invitation(self, actor: Actor, invitation_id: int | None, status: str, key: str | None = None) -> Outcome:
        """ACCEPTED or DECLINED by the invitee, WITHDRAWN by the inviter. Refusals: NOT_FOUND, FORBIDDEN, NOT_PENDING."""
        member_id = actor.require_member()
        role = "inviter" if status == "WITHDRAWN" else "invitee"
        operation = {"ACCEPTED": "acceptInvitation", "DECLINED": "declineInvitation", "WITHDRAWN": "withdrawInvitation"}[status]

        def run(tx: Tx) -> Outcome:
            row = self._party_invitation(tx, member_id, invitation_id, role)
            self._require_pending(row)
            tx.run("invitation_answer", id=row["id"], status=status, responded_at=tx.now)
            entry_id = None
            if status == "ACCEPTED":
                for a, b in ((row["inviter_id"], row["invitee_id"]), (row["invitee_id"], row["inviter_id"])):
                    tx.run("connection_insert", member_id=a, other_id=b, invitation_id=row["id"], connected_at=tx.now)
                entry_id = ledger.grant(tx, self.policy, member_id, Reason.INVITATION_ACCEPTED,
                                        self.policy.invitation_accepted_credits, Refs(invitation_id=row["id"]))
            return self._outcome(tx, member_id, members=[row["inviter_id"], row["invitee_id"]],
                                 invitation_id=row["id"], entry_id=entry_id)

        return await self._mutate(actor, operation, key, {"invitation": invitation_id}, run)

    async def follow_up_invitation(self, actor: Actor, invitation_id: int | None, message: str,
                                   key: str | None = None) -> Outcome:
        """Refusals: NOT_FOUND, FORBIDDEN, MESSAGE_TOO_LONG / INVALID_INPUT, INVITATION_NOT_PENDING, FOLLOW_UP_ALREADY_SENT."""
        member_id = actor.require_member()

        def run(tx: Tx) -> Outcome:
            row = self._party_invitation(tx, member_id, invitation_id, "inviter")
            text = rules.require_text(message, ["input", "message"], self.policy.follow_up_max_length,
                                      code=Code.MESSAGE_TOO_LONG)
            self._require_pending(row)
            if row["follow_up_message"] is not None:
                raise Refusal(Code.FOLLOW_UP_ALREADY_SENT, "You already followed up on this invitation.",
                              ["input", "invitationId"])
            tx.run("invitation_follow_up", id=row["id"], message=text)
            return self._outcome(tx, member_id, members=[row["invitee_id"]], invitation_id=row["id"])

        return await self._mutate(actor, "followUpInvitation", key, {"invitation": invitation_id, "message": message}, run)

    # -- admin --------------------------------------------------------------------------------------
    async def adjust_credits(self, actor: Actor, member_id: int | None, amount: int, note: str,
                             key: str | None = None) -> Outcome:
        actor.require_admin()
        p = self.policy
        checks = FieldChecks()
        if amount == 0 or abs(amount) > p.adjustment_max_abs:
            checks.refusals.append(Refusal(Code.INVALID_INPUT, f"amount must be non-zero and at most "
                                           f"{p.adjustment_max_abs} either way.", ["input", "amount"]))
        text = checks(lambda: rules.require_text(note, ["input", "note"], p.note_max_length))
        checks.done()

        def run(tx: Tx) -> Outcome:
            if member_id is None:
                raise Refusal(Code.NOT_FOUND, "No such member.", ["input", "memberId"])
            self._member(tx, member_id, ["input", "memberId"])
            if amount > 0:
                entry_id = ledger.grant(tx, p, member_id, Reason.ADMIN_ADJUSTMENT, amount, Refs(note=text), limited=False)
            else:
                entry_id = ledger.take(tx, member_id, -amount, Reason.ADMIN_ADJUSTMENT, Refs(note=text), partial=True)
            return self._outcome(tx, member_id, entry_id=entry_id)

        return await self._mutate(actor, "adjustCredits", key, {"member": member_id, "amount": amount, "note": text}, run)

    async def advance_test_clock(self, actor: Actor, to: int) -> Outcome:
        actor.require_admin()
        if not self.db.test_clock:
            raise Refusal(Code.TEST_CLOCK_DISABLED, "The test clock is switched off.", ["input", "to"])

        def run(tx: Tx) -> Outcome:
            if to < tx.now:
                raise Refusal(Code.TEST_CLOCK_BACKWARDS, "The test clock only moves forward.", ["input", "to"])
            tx.run("test_clock_set", now=to)
            return Outcome(now=to)

        outcome = await self.db.write(run)
        await self.sweep()
        return outcome

    # -- expiry -------------------------------------------------------------------------------------
    async def sweep(self, batch_lots: int = 2000) -> SweepReport:
        """Write every due expiry, in bounded transactions, and prune old idempotency keys."""
        lots = credits = keys = 0
        members: set[int] = set()

        def expire_batch(tx: Tx) -> tuple[int, int, set[int]]:
            return ledger.expire_due(tx, limit=batch_lots)

        while True:
            n, c, touched = await self.db.write(expire_batch)
            lots += n
            credits += c
            members |= touched
            if n < batch_lots:
                break

        def prune(tx: Tx) -> int:
            return tx.run("idempotency_prune", before=tx.now - self.policy.idempotency_retention_seconds, limit=5000)

        while (pruned := await self.db.write(prune)) > 0:
            keys += pruned
        return SweepReport(lots=lots, members=len(members), credits=credits, keys_pruned=keys)

    def expiry_lag(self) -> int:
        """Seconds since the oldest expiry that is due but not yet written; 0 when none is."""
        now = self.now()
        row = self.db.read_one("lots_due", now=now, limit=1)
        return now - int(row["expires_at"]) if row else 0

    # -- identities -----------------------------------------------------------------------------------
    def member_for_identity(self, issuer: str, subject: str) -> int | None:
        """The member an identity provider's subject is linked to, if any."""
        row = self.db.read_one("identity_member", issuer=issuer, subject=subject)
        return int(row["member_id"]) if row else None

    async def link_identity(self, issuer: str, subject: str, email: str) -> int | None:
        """Link a provider's subject to the member with this (verified) email; None when no member has it."""
        normalized = rules.normalize_email(email)

        def run(tx: Tx) -> int | None:
            member = tx.one("member_by_email", email=normalized)
            if member is None:
                return None
            tx.run("identity_link", issuer=issuer, subject=subject, member_id=member["id"], linked_at=tx.now)
            linked = tx.one("identity_member", issuer=issuer, subject=subject)
            return int(linked["member_id"]) if linked else None

        return await self.db.write(run)

    # -- reads --------------------------------------------------------------------------------------
    def member(self, member_id: int | None) -> MemberView | None:
        if member_id is None:
            return None
        row = self.db.read_one("member_by_id", id=member_id)
        return MemberView.from_row(row) if row else None

    def balance(self, member: MemberView) -> BalanceView:
        now = self.now()
        row = self.db.read_one("balance", member_id=member.id, now=now, soon=ledger.soon(now, self.policy))
        return ledger.balance_from_row(row, self.policy, member.tier, now)

    def ledger(self, member_id: int, first: int, after: int | None, reasons: Sequence[Reason] | None) -> Page[EntryView]:
        rows = self.db.read_all(
            "entries_page", member_id=member_id, before_id=after if after is not None else _NEVER, limit=first + 1,
            reasons=json.dumps([r.value for r in reasons]) if reasons else None,
        )
        return Page([EntryView.from_row(r) for r in rows[:first]], len(rows) > first)

    def lots(self, member_id: int, first: int, after: int | None, include_spent: bool) -> Page[LotView]:
        rows = self.db.read_all(
            "lots_page", member_id=member_id, before_id=after if after is not None else _NEVER, limit=first + 1,
            include_spent=int(include_spent), now=self.now(),
        )
        return Page([LotView.from_row(r) for r in rows[:first]], len(rows) > first)

    def entry(self, entry_id: int | None) -> EntryView | None:
        row = self.db.read_one("entry_by_id", id=entry_id) if entry_id is not None else None
        return EntryView.from_row(row) if row else None

    def lot(self, lot_id: int) -> LotView | None:
        row = self.db.read_one("lot_by_id", id=lot_id)
        return LotView.from_row(row) if row else None

    def invitation(self, invitation_id: int | None) -> InvitationView | None:
        row = self.db.read_one("invitation_by_id", id=invitation_id) if invitation_id is not None else None
        return InvitationView.from_row(row) if row else None

    def invitations(self, member_id: int, sent: bool, status: str | None, first: int,
                          after: int | None) -> Page[InvitationView]:
        rows = self.db.read_all(
            "invitations_sent_page" if sent else "invitations_received_page", member_id=member_id, status=status,
            before_id=after if after is not None else _NEVER, limit=first + 1,
        )
        return Page([InvitationView.from_row(r) for r in rows[:first]], len(rows) > first)

    def connections(self, member_id: int, first: int, after: int | None) -> Page[tuple[int, MemberView]]:
        rows = self.db.read_all("connections_page", member_id=member_id,
                                 before_id=after if after is not None else _NEVER, limit=first + 1)
        return Page([(r["cursor_id"], MemberView.from_row(r)) for r in rows[:first]], len(rows) > first)

    def company(self, company_id: int | None) -> CompanyView | None:
        row = self.db.read_one("company_by_id", id=company_id) if company_id is not None else None
        return CompanyView.from_row(row) if row else None

    async def companies(self, search: str | None, first: int, after: tuple[str, int] | None) -> Page[CompanyView]:
        rows = await self.db.all(
            "companies_page", search=(search or "").strip() or None, limit=first + 1,
            after_name=after[0] if after else None, after_id=after[1] if after else None,
        )
        return Page([CompanyView.from_row(r) for r in rows[:first]], len(rows) > first)

    def follows(self, member_id: int, company_id: int) -> bool:
        row = self.db.read_one("follow_get", member_id=member_id, company_id=company_id)
        return bool(row and row["following"])

    def post(self, post_id: int | None) -> PostView | None:
        row = self.db.read_one("post_by_id", id=post_id) if post_id is not None else None
        return PostView.from_row(row) if row else None

    async def earning(self, member: MemberView | None) -> list[EarningProgress]:
        """Every earning rule; with a member, what they earned in the current period."""
        signup = rules.signup_credits(member.email, self.policy) if member else None
        limits = self.policy.earning_limits(signup)
        earned: dict[str, int] = {}
        if member is not None:
            now = self.now()
            for period_is_month in (False, True):
                group = [r.reason.value for r in limits if (r.period is Period.MONTH) == period_is_month]
                since = rules.period_start(Period.MONTH, now) if period_is_month else 0
                for row in await self.db.all("granted_by_reason_since", member_id=member.id, since=since,
                                             reasons=json.dumps(group)):
                    earned[row["reason"]] = int(row["granted"])
        return [
            EarningProgress(r.reason, r.credits_per_action, r.period, r.limit, earned.get(r.reason.value, 0))
            for r in limits
        ]
