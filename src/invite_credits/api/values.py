"""The schema's leaf values: the domain's enums under their GraphQL names, user errors, balances, profiles."""

from __future__ import annotations

from typing import TypeAlias

import strawberry

from ..domain import ids
from ..domain.errors import Code
from ..domain.policy import AuditAction, DiscussionKind, HistoryInterval, InvitationStatus, Period, Reason, Tier
from ..service.views import BalancePoint as BalancePointView
from ..service.views import BalanceView, EarningProgress
from ..service.views import LedgerHead as LedgerHeadView
from .scalars import DateTime

# The domain's enums are the schema's: registered once under their GraphQL names, and named here for annotations.
strawberry.enum(Tier, name="Tier", description="A member's tier.")
strawberry.enum(Reason, name="LedgerReason", description="Why credits changed.")
strawberry.enum(Period, name="LimitPeriod", description="The span an earning limit counts over.")
strawberry.enum(Code, name="UserErrorCode", description="Why a mutation was refused.")
strawberry.enum(InvitationStatus, description="Where an invitation stands.")
strawberry.enum(DiscussionKind, description="What a discussion contribution is.")
strawberry.enum(HistoryInterval, description="The step between two points of a balance history.")
strawberry.enum(AuditAction, description="What an admin did.")
TierEnum: TypeAlias = Tier
LedgerReason: TypeAlias = Reason
LimitPeriod: TypeAlias = Period
UserErrorCode: TypeAlias = Code


@strawberry.type(description="A refusal the member can act on. The mutation changed nothing.")
class UserError:
    code: UserErrorCode = strawberry.field(description="What went wrong, for code to act on.")
    message: str = strawberry.field(description="What went wrong, for a person to read.")
    field: list[str] | None = strawberry.field(
        default=None, description='Path to the input field at fault, e.g. ["input", "message"].'
    )


@strawberry.type(description="A member's credits at one moment.")
class Balance:
    id: strawberry.ID = strawberry.field(description="The same for every read of one member's balance, so a client "
                                         "cache keeps one copy and every payload updates it.")
    available: int = strawberry.field(description="Credits that can be spent now.")
    unlimited: bool = strawberry.field(
        description="True for recruiters: sends cost nothing and are never refused for lack of credit."
    )
    cap: int = strawberry.field(description="No grant lifts available above this.")
    expiring_soon: int = strawberry.field(description="Credits of available that expire within the next 30 days.")
    next_expiry_at: DateTime | None = strawberry.field(description="When the next of these credits expire.")
    as_of: DateTime = strawberry.field(description="The service's time when this balance was computed.")

    @classmethod
    def of(cls, view: BalanceView) -> Balance:
        return cls(
            id=strawberry.ID(ids.encode("Balance", f"{view.member_id}@{view.as_of}" if view.past else view.member_id)),
            available=view.available, unlimited=view.unlimited, cap=view.cap, expiring_soon=view.expiring_soon,
            next_expiry_at=view.next_expiry_at, as_of=view.as_of,  # type: ignore[arg-type]
        )


@strawberry.type(description="One way to earn credits, with this member's progress against its limit.")
class EarningRule:
    reason: LedgerReason = strawberry.field(description="The ledger reason these credits carry.")
    credits_per_action: int = strawberry.field(description="Credits one action earns.")
    period: LimitPeriod = strawberry.field(description="The span the limit counts over.")
    limit: int | None = strawberry.field(description="Null when the reason has no limit.")
    earned: int = strawberry.field(description="Credits granted for this reason in the current period.")
    remaining: int | None = strawberry.field(description="Null when the reason has no limit.")


@strawberry.type(description="A job on a member's profile.")
class Position:
    title: str = strawberry.field(description="The role.")
    organization: str = strawberry.field(description="Where.")


@strawberry.type(description="A school on a member's profile.")
class Education:
    school: str = strawberry.field(description="The school.")
    degree: str | None = strawberry.field(description="The degree, if given.")


@strawberry.type(description="A member's profile.")
class Profile:
    headline: str | None = strawberry.field(description="One line under the name.")
    about: str | None = strawberry.field(description="A longer introduction.")
    location: str | None = strawberry.field(description="Where the member is.")
    experience: list[Position] = strawberry.field(description="Jobs.")
    education: list[Education] = strawberry.field(description="Schools.")
    skills: list[str] = strawberry.field(description="Skills; three make that section complete.")
    completion: int = strawberry.field(description="0 to 100, in steps of one sixth, rounded down.")




@strawberry.type(description="The available balance at one instant of a balance history.")
class BalancePoint:
    at: DateTime = strawberry.field(description="The instant.")
    available: int = strawberry.field(description="Credits that could be spent then.")

    @classmethod
    def of(cls, view: BalancePointView) -> BalancePoint:
        return cls(at=view.at, available=view.available)  # type: ignore[arg-type]


@strawberry.type(description="The newest link of a member's hash chain.")
class LedgerHead:
    entries: int = strawberry.field(description="How many entries the member's ledger holds.")
    hash: str = strawberry.field(description="The newest entry's hash (64 zeros when there is none).")

    @classmethod
    def of(cls, view: LedgerHeadView) -> LedgerHead:
        return cls(entries=view.entries, hash=view.hash)


def earning_rules(progress: list[EarningProgress]) -> list[EarningRule]:
    return [
        EarningRule(reason=p.reason, credits_per_action=p.credits_per_action, period=p.period, limit=p.limit,
                    earned=p.earned, remaining=p.remaining)
        for p in progress
    ]
