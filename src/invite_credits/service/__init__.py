"""The only place where rules meet the store: one module per area, one method per use case.

Writes validate what needs no database first, then run as one function in one write transaction, so every
check and every change of one request is atomic. Reads return typed rows and views, never SQL or GraphQL.
"""

from __future__ import annotations

from .admin import AdminUseCases
from .commands import (
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
    SetMemberTier,
    SignOut,
    SignUp,
)
from .corrections import CorrectionUseCases
from .earning import EarningUseCases
from .events import EventReads
from .expiry import SweepReport
from .history import HistoryReads
from .invitations import InvitationUseCases
from .members import MemberUseCases
from .reads import Reads
from .webhooks import WebhookUseCases


class Service(MemberUseCases, EarningUseCases, InvitationUseCases, AdminUseCases, CorrectionUseCases, Reads,
              HistoryReads, EventReads, WebhookUseCases):
    """Every use case, on one store and one policy."""


__all__ = ["AdjustCredits", "AnswerInvitation", "Contact", "CreateCompany", "Education", "ExtendLot",
           "FollowUpInvitation", "ImportContacts", "Position", "PostDiscussion", "ProfileUpdate", "ReverseEntry",
           "SendInvitation", "Service", "SetMemberTier", "SignOut", "SignUp", "SweepReport"]
