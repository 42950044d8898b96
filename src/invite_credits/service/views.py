"""What the service answers: immutable values, free of SQL and of GraphQL."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from typing import Any, Generic, TypeVar

from ..domain.policy import DiscussionKind, InvitationStatus, Period, Reason, Tier
from ..store.rows import Company, Entry, Invitation, Lot, Post
from ..store.rows import Member as Member  # what the service answers for a member: the row, as it is

T = TypeVar("T")


@dataclass(frozen=True)
class BalanceView:
    member_id: int
    available: int
    unlimited: bool
    cap: int
    expiring_soon: int
    next_expiry_at: int | None
    as_of: int
    past: bool = False  # as it stood at as_of, in the past: not the live balance


@dataclass(frozen=True)
class BalancePoint:
    at: int
    available: int


@dataclass(frozen=True)
class LedgerHead:
    entries: int
    hash: str


@dataclass(frozen=True)
class EarningProgress:
    reason: Reason
    credits_per_action: int
    period: Period
    limit: int | None
    earned: int

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(self.limit - self.earned, 0)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    has_next: bool


@dataclass(frozen=True)
class Snapshot:
    """The objects a mutation's payload shows, read inside its write transaction: the first answer and every
    replay of it are built from this, so a replay is the first answer exactly, whatever changed since."""

    at: int
    members: dict[int, Member] = field(default_factory=dict)
    balances: dict[int, BalanceView] = field(default_factory=dict)
    invitations: dict[int, Invitation] = field(default_factory=dict)
    entries: dict[int, Entry] = field(default_factory=dict)
    lots: dict[int, Lot] = field(default_factory=dict)
    companies: dict[int, Company] = field(default_factory=dict)
    posts: dict[int, Post] = field(default_factory=dict)
    following: dict[int, bool] = field(default_factory=dict)  # company -> does the acting member follow it

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Snapshot:
        def views(name: str, view: type[Any]) -> dict[int, Any]:
            return {int(key): _revive(view, value) for key, value in data.get(name, {}).items()}

        balances = {int(key): _revive(BalanceView, {"member_id": int(key), **value})
                    for key, value in data.get("balances", {}).items()}
        return cls(
            at=data["at"], members=views("members", Member), balances=balances,
            invitations=views("invitations", Invitation), entries=views("entries", Entry),
            lots=views("lots", Lot), companies=views("companies", Company), posts=views("posts", Post),
            following={int(key): bool(value) for key, value in data.get("following", {}).items()},
        )


_ENUMS: dict[str, type[Enum]] = {"Tier": Tier, "Reason": Reason, "Period": Period,
                                 "InvitationStatus": InvitationStatus, "DiscussionKind": DiscussionKind}


def _revive(view: type[T], data: dict[str, Any]) -> T:
    values = dict(data)
    for f in fields(view):  # type: ignore[arg-type]
        enum = _ENUMS.get(str(f.type))
        if enum is not None:
            values[f.name] = enum(values[f.name])
    return view(**values)


@dataclass(frozen=True)
class Outcome:
    """What a mutation did: the keys of what it touched and a snapshot of the objects its payload shows.
    Stored as the first answer for its idempotency key."""

    member_id: int | None = None
    invitation_id: int | None = None
    entry_id: int | None = None
    company_id: int | None = None
    post_id: int | None = None
    imported: int | None = None
    now: int | None = None
    reversed_id: int | None = None  # reverseLedgerEntry: the entry reversed (entry_id is the reversal)
    snapshot: Snapshot | None = None
    replayed: bool = field(default=False, compare=False)

    @property
    def balance(self) -> BalanceView | None:
        """The balance the payload shows: the member's whose credits the mutation changed."""
        if self.snapshot is None or self.member_id is None:
            return None
        return self.snapshot.balances.get(self.member_id)

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("replayed")
        return json.dumps(data, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Outcome:
        data: dict[str, Any] = json.loads(text)
        stored = data.pop("snapshot", None)
        snapshot = Snapshot.from_dict(stored) if stored else None
        balance = data.pop("balance", None)  # answers stored before snapshots: only the balance
        if snapshot is None and balance and data.get("member_id") is not None:
            member_id = data["member_id"]
            snapshot = Snapshot(at=balance["as_of"], balances={member_id: BalanceView(member_id=member_id, **balance)})
        return cls(**data, snapshot=snapshot, replayed=True)
