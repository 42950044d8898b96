"""Who is asking, and what that lets them read and do."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

from . import ids
from .errors import Forbidden, Unauthenticated

# The id of the request being served (set by the HTTP layer): what an audit record names.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)


@dataclass(frozen=True)
class Actor:
    """The caller: a member, an admin, or anonymous (both None/False)."""

    member_id: int | None = None
    is_admin: bool = False
    # The session the caller's token names (our tokens of a member): a live subscription ends once it is signed out.
    session: str | None = field(default=None, compare=False)
    # Who signed the token, when not the service itself: an identity provider's "issuer#subject".
    signer: str | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        """Who acted, as an audit record names them: `admin` (the service's admin token), an identity
        provider's `issuer#subject`, or `member:<ID>`; `anonymous` otherwise."""
        if self.signer is not None:
            return self.signer
        if self.is_admin and self.member_id is None:
            return "admin"
        if self.member_id is not None:
            return f"member:{ids.encode('Member', self.member_id)}"
        return "anonymous"

    @property
    def idempotency_scope(self) -> str:
        if self.member_id is not None:
            return f"member:{self.member_id}"
        return "admin" if self.is_admin else "anonymous"

    def can_read(self, member_id: int) -> bool:
        return self.is_admin or self.member_id == member_id

    def require_member(self) -> int:
        if self.member_id is None:
            raise Unauthenticated("Sign in as a member to do this.")
        return self.member_id

    def require_admin(self) -> None:
        if not self.is_admin:
            if self.member_id is None:
                raise Unauthenticated("Sign in as an admin to do this.")
            raise Forbidden("Only an admin may do this.")

