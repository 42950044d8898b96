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
    FollowUpInvitation,
    ImportContacts,
    Position,
    PostDiscussion,
    ProfileUpdate,
    SendInvitation,
    SetMemberTier,
    SignOut,
    SignUp,
)
from .earning import EarningUseCases
from .expiry import SweepReport
from .invitations import InvitationUseCases
from .members import MemberUseCases
from .reads import Reads


class Service(MemberUseCases, EarningUseCases, InvitationUseCases, AdminUseCases, Reads):
    """Every use case, on one store and one policy."""


__all__ = ["AdjustCredits", "AnswerInvitation", "Contact", "CreateCompany", "Education", "FollowUpInvitation",
           "ImportContacts", "Position", "PostDiscussion", "ProfileUpdate", "SendInvitation", "Service",
           "SetMemberTier", "SignOut", "SignUp", "SweepReport"]
