"""Invitations between members."""

from __future__ import annotations

from ..domain.policy import InvitationStatus
from .ahead import drawn
from .protocol import Reader, Row, Tx
from .rows import Invitation


def _invitation(row: Row) -> Invitation:
    return Invitation(
        id=row["id"], inviter_id=row["inviter_id"], invitee_id=row["invitee_id"],
        status=InvitationStatus(row["status"]), message=row["message"], follow_up_message=row["follow_up_message"],
        sent_at=row["sent_at"], responded_at=row["responded_at"], credits_spent=row["credits_spent"],
    )


def next_id(r: Reader) -> int | None:
    """The id `insert` gives the next invitation (a use case may declare it ahead)."""
    row = r.one("invitation_next_id")
    return int(row["id"]) if row else None


def insert(tx: Tx, *, inviter_id: int, invitee_id: int, message: str | None, sent_at: int, credits_spent: int) -> int:
    """The new invitation's id, drawn first, so the insert goes out with the statements after it."""
    id = drawn(next_id(tx), "invitation")
    tx.run_later("invitation_insert", expect=1, id=id, inviter_id=inviter_id, invitee_id=invitee_id, message=message,
                 sent_at=sent_at, credits_spent=credits_spent)
    return id


def by_id(r: Reader, *, id: int) -> Invitation | None:
    row = r.one("invitation_by_id", id=id)
    return _invitation(row) if row else None


def pending_between(r: Reader, *, a: int, b: int) -> int | None:
    """The pending invitation between two members, in either direction."""
    row = r.one("invitation_pending_between", a=a, b=b)
    return int(row["id"]) if row else None


def answer(tx: Tx, *, id: int, status: InvitationStatus, responded_at: int) -> None:
    """Answer a pending invitation (its parties locked, its status read): the transaction fails if it was not."""
    tx.run_later("invitation_answer", expect=1, id=id, status=status.value, responded_at=responded_at)


def follow_up(tx: Tx, *, id: int, message: str) -> None:
    tx.run_later("invitation_follow_up", expect=1, id=id, message=message)


def page(r: Reader, *, member_id: int, sent: bool, status: InvitationStatus | None, before_id: int,
         limit: int) -> list[Invitation]:
    wanted = status.value if status else None
    if sent:
        rows = r.all("invitations_sent_page", member_id=member_id, status=wanted, before_id=before_id, limit=limit)
    else:
        rows = r.all("invitations_received_page", member_id=member_id, status=wanted, before_id=before_id, limit=limit)
    return [_invitation(row) for row in rows]
