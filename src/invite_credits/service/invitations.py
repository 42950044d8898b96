"""Invitations: sending one (the spend), answering, following up."""

from __future__ import annotations

from ..domain import ids, rules
from ..domain.access import Actor
from ..domain.errors import (
    AlreadyConnected,
    CannotInviteSelf,
    FollowUpAlreadySent,
    InvitationAlreadyPending,
    InvitationNotPending,
    MessageTooLong,
    NotFound,
    OutOfRole,
    PremiumMemberNotReachable,
)
from ..domain.policy import InvitationStatus, Reason, Tier
from ..store import connections, contacts, invitations, members
from ..store.protocol import Reader, Tx
from ..store.rows import Invitation, Member
from . import ledger
from .commands import AnswerInvitation, FollowUpInvitation, SendInvitation
from .idempotency import UseCases
from .members import require_member
from .snapshots import outcome
from .views import Outcome

_ROLE = {InvitationStatus.ACCEPTED: "invitee", InvitationStatus.DECLINED: "invitee",
         InvitationStatus.WITHDRAWN: "inviter"}
_OPERATION = {InvitationStatus.ACCEPTED: "accept_invitation", InvitationStatus.DECLINED: "decline_invitation",
              InvitationStatus.WITHDRAWN: "withdraw_invitation"}


def knows(r: Reader, member_id: int, other: Member) -> bool:
    """A member knows another whose email they imported, or with whom they share a connection."""
    return (contacts.known(r, member_id=member_id, email=other.email)
            or connections.share_a_connection(r, a=member_id, b=other.id))


def party_invitation(r: Reader, actor_id: int, invitation_id: int | None, role: str) -> Invitation:
    """The invitation, if the actor is a party to it (NOT_FOUND otherwise), in `role` (FORBIDDEN otherwise)."""
    row = invitations.by_id(r, id=invitation_id) if invitation_id is not None else None
    if row is None or actor_id not in (row.inviter_id, row.invitee_id):
        raise NotFound("No such invitation.", ["invitationId"])
    if (row.inviter_id if role == "inviter" else row.invitee_id) != actor_id:
        raise OutOfRole(f"Only the {role} may do this.", ["invitationId"])
    return row


def locked_invitation(tx: Tx, actor_id: int, invitation_id: int | None, role: str) -> Invitation:
    """party_invitation, read once both parties are locked (through the invitation: its parties never change,
    its status may)."""
    if invitation_id is not None:
        members.lock_invitation(tx, invitation_id=invitation_id)
    return party_invitation(tx, actor_id, invitation_id, role)


def invitation_reads(r: Tx, invitation_id: int | None) -> None:
    """The reads `locked_invitation` makes, for a use case to declare ahead."""
    if invitation_id is not None:
        members.lock_invitation(r, invitation_id=invitation_id)
        invitations.by_id(r, id=invitation_id)


def require_pending(row: Invitation) -> None:
    if row.status is not InvitationStatus.PENDING:
        raise InvitationNotPending(f"The invitation is {row.status.value.lower()}.", ["invitationId"])


class InvitationUseCases(UseCases):
    async def send_invitation(self, actor: Actor, cmd: SendInvitation, key: str | None = None) -> Outcome:
        """Refusals in order: NOT_FOUND, MESSAGE_TOO_LONG, CANNOT_INVITE_SELF, ALREADY_CONNECTED,
        INVITATION_ALREADY_PENDING, PREMIUM_MEMBER_NOT_REACHABLE, INSUFFICIENT_CREDITS."""
        inviter_id = actor.require_member()
        p = self.policy

        def run(tx: Tx) -> Outcome:
            members.lock(tx, inviter_id, cmd.invitee_id)
            inviter = require_member(tx, inviter_id)
            invitee = require_member(tx, cmd.invitee_id, ["inviteeId"])
            text = rules.require_text(cmd.message, ["message"], p.message_max_length, required=False,
                                      too_long=MessageTooLong)
            if invitee.id == inviter_id:
                raise CannotInviteSelf("You cannot invite yourself.", ["inviteeId"])
            if connections.connected(tx, a=inviter_id, b=invitee.id):
                raise AlreadyConnected("You are already connected.", ["inviteeId"])
            pending = invitations.pending_between(tx, a=inviter_id, b=invitee.id)
            if pending is not None:
                raise InvitationAlreadyPending(
                    f"Invitation {ids.encode('Invitation', pending)} between you is still pending.", ["inviteeId"])
            if inviter.tier is Tier.FREE and invitee.tier is not Tier.FREE and not knows(tx, inviter_id, invitee):
                raise PremiumMemberNotReachable("Free members can invite premium members only when they know them.",
                                                ["inviteeId"])
            cost = 0 if inviter.tier is Tier.RECRUITER else p.invitation_cost
            invitation_id = invitations.insert(tx, inviter_id=inviter_id, invitee_id=invitee.id, message=text,
                                               sent_at=tx.now, credits_spent=cost)
            entry_id = None
            if cost:
                entry_id = ledger.take(tx, inviter_id, cost, Reason.INVITATION_SENT,
                                       ledger.Refs(invitation_id=invitation_id))
            return outcome(tx, p, inviter_id, members_too=[invitee.id], invitation_id=invitation_id,
                           entry_id=entry_id)

        def reads(r: Tx) -> None:
            members.lock(r, inviter_id, cmd.invitee_id)
            members.by_id(r, id=inviter_id)
            if cmd.invitee_id is not None:
                members.by_id(r, id=cmd.invitee_id)
                connections.connected(r, a=inviter_id, b=cmd.invitee_id)
                invitations.pending_between(r, a=inviter_id, b=cmd.invitee_id)
            invitations.next_id(r)
            ledger.take_reads(r, inviter_id)

        return await self._mutate(actor, "send_invitation", key,
                                  {"invitee": cmd.invitee_id, "message": cmd.message}, run,
                                  [actor.member_id, cmd.invitee_id], ahead=reads)

    async def answer_invitation(self, actor: Actor, cmd: AnswerInvitation, key: str | None = None) -> Outcome:
        """ACCEPTED or DECLINED by the invitee, WITHDRAWN by the inviter. Refusals: NOT_FOUND, FORBIDDEN, NOT_PENDING."""
        member_id = actor.require_member()
        status = cmd.status

        def run(tx: Tx) -> Outcome:
            row = locked_invitation(tx, member_id, cmd.invitation_id, _ROLE[status])
            require_pending(row)
            invitations.answer(tx, id=row.id, status=status, responded_at=tx.now)
            entry_id = None
            if status is InvitationStatus.ACCEPTED:
                for a, b in ((row.inviter_id, row.invitee_id), (row.invitee_id, row.inviter_id)):
                    connections.insert(tx, member_id=a, other_id=b, invitation_id=row.id, connected_at=tx.now)
                entry_id = ledger.grant(tx, self.policy, member_id, Reason.INVITATION_ACCEPTED,
                                        self.policy.invitation_accepted_credits, ledger.Refs(invitation_id=row.id))
            return outcome(tx, self.policy, member_id, members_too=[row.inviter_id, row.invitee_id],
                           invitation_id=row.id, entry_id=entry_id)

        def reads(r: Tx) -> None:
            invitation_reads(r, cmd.invitation_id)
            if status is InvitationStatus.ACCEPTED:
                ledger.grant_reads(r, self.policy, member_id, Reason.INVITATION_ACCEPTED)

        return await self._mutate(actor, _OPERATION[status], key, {"invitation": cmd.invitation_id}, run, ahead=reads)

    async def follow_up_invitation(self, actor: Actor, cmd: FollowUpInvitation, key: str | None = None) -> Outcome:
        """Refusals: NOT_FOUND, FORBIDDEN, MESSAGE_TOO_LONG / INVALID_INPUT, INVITATION_NOT_PENDING,
        FOLLOW_UP_ALREADY_SENT."""
        member_id = actor.require_member()

        def run(tx: Tx) -> Outcome:
            row = locked_invitation(tx, member_id, cmd.invitation_id, "inviter")
            text = rules.require_text(cmd.message, ["message"], self.policy.follow_up_max_length,
                                      too_long=MessageTooLong)
            assert text is not None
            require_pending(row)
            if row.follow_up_message is not None:
                raise FollowUpAlreadySent("You already followed up on this invitation.", ["invitationId"])
            invitations.follow_up(tx, id=row.id, message=text)
            return outcome(tx, self.policy, member_id, members_too=[row.invitee_id], invitation_id=row.id)

        return await self._mutate(actor, "follow_up_invitation", key,
                                  {"invitation": cmd.invitation_id, "message": cmd.message}, run,
                                  ahead=lambda r: invitation_reads(r, cmd.invitation_id))
