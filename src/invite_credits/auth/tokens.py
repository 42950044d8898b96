"""Tokens: JWTs the service signs (HS256, claims sub / role / exp), and, when configured, tokens an identity
provider signs (identity.py), mapped to a member or an admin."""

from __future__ import annotations

import math
import os
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import jwt

from ..domain import ids
from ..domain.access import Actor
from ..domain.errors import ProviderUnavailable, Unauthenticated
from ..settings import Settings, SettingsError
from .identity import KeyFileError, KeysUnavailable, Provider, ProviderSettings, TokenRefused

if TYPE_CHECKING:
    from ..service import Service
    from ..service.views import Member

ADMIN_SUBJECT = "admin"


def secret_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".jwt-secret")


def load_secret(settings: Settings) -> str:
    """The configured secret, or one generated on first use and kept beside the database (mode 0600)."""
    if settings.jwt_secret:
        return settings.jwt_secret
    settings.require_shared_secret()
    path = secret_path(settings.db_path)
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    if not path.parent.is_dir():  # never created for you: a typo in --db must not mint tokens for nothing
        raise SettingsError(f"--db: directory {path.parent} does not exist (the token secret is kept beside the "
                            "database)")
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secret + "\n")
    return secret


def mint(secret: str, *, subject: str, role: str, ttl_seconds: int, session: str | None = None) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {"sub": subject, "role": role, "iat": now, "exp": now + ttl_seconds}
    if session is not None:
        claims["sid"] = session
    return jwt.encode(claims, secret, algorithm="HS256")


def member_token(secret: str, member_id: int, session: str, ttl_seconds: int) -> str:
    """A member's token: it names the member and their current session key (`sid`)."""
    return mint(secret, subject=ids.encode("Member", member_id), role="member", ttl_seconds=ttl_seconds,
                session=session)


def admin_token(secret: str, ttl_seconds: int, member_id: int | None = None, session: str | None = None) -> str:
    """An admin token: `sub` "admin", or a member acting as admin (then with that member's session key)."""
    subject = ids.encode("Member", member_id) if member_id is not None else ADMIN_SUBJECT
    return mint(secret, subject=subject, role="admin", ttl_seconds=ttl_seconds, session=session)


def expiry_text(ttl_seconds: int) -> str:
    """When a token minted now expires, for people: ISO 8601 UTC and the lifetime."""
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + ttl_seconds))
    days, rest = divmod(ttl_seconds, 86400)
    hours, minutes = rest // 3600, rest % 3600 // 60
    plural = "" if days == 1 else "s"
    lifetime = (f"{days} day{plural}" if days and not rest else f"{days} d {hours} h" if days
                else f"{hours} h {minutes} min")
    return f"{when}, in {lifetime}"


class Caller(NamedTuple):
    """Who calls: the actor, and for a member the row their token's session check read."""

    actor: Actor
    member: Member | None = None


@dataclass(frozen=True)
class Verified:
    """A token whose signature and claims hold: who it names, the session it carries (ours) or when it was
    issued (an identity provider's), and when it expires."""

    actor: Actor
    expires: float
    session: str | None = None
    issued_at: float | None = None


def verified_token(secret: str, token: str) -> Verified:
    """Verify one of our own bearer tokens; raises UNAUTHENTICATED for a bad, expired or malformed one."""
    verified = _verified(secret, token)
    if verified.expires <= time.time():
        raise Unauthenticated("The token has expired.", "expired")
    return verified


def times_are_numbers(claims: dict[str, Any]) -> bool:
    """`exp`, `nbf` and `iat` are NumericDate values (RFC 7519): finite numbers, never strings or booleans."""
    return all(isinstance(claims[name], int | float) and not isinstance(claims[name], bool)
               and math.isfinite(claims[name]) for name in ("exp", "nbf", "iat") if name in claims)


@lru_cache(maxsize=4096)
def _verified(secret: str, token: str) -> Verified:
    """Signature and claims checked once per token (clients send the same one many times); expiry every time."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("The token has expired.", "expired") from None
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError):
        raise Unauthenticated("The token is not valid.", "invalid") from None
    role, subject, session = claims.get("role"), claims.get("sub"), claims.get("sid")
    if role not in ("member", "admin") or not isinstance(subject, str) or not times_are_numbers(claims):
        raise Unauthenticated("The token is not valid.", "claims")
    member_id = ids.member_id(subject)
    expires = float(claims["exp"])
    if member_id is not None and not isinstance(session, str):
        # Tokens from before sessions (or made by hand) name a member without a session: they could name
        # another member after a restore, so they are refused.
        raise Unauthenticated("The token carries no session; sign in again.", "claims")
    if role == "member":
        if member_id is None:
            raise Unauthenticated("The token names no member.", "claims")
        return Verified(Actor(member_id=member_id, session=session), expires, session)
    if member_id is None:
        return Verified(Actor(is_admin=True), expires)
    return Verified(Actor(member_id=member_id, is_admin=True, session=session), expires, session)


def bearer_token(authorization: str) -> str:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send the token as 'Authorization: Bearer <token>'.", "header")
    return token.strip()


def check_identity_provider(settings: Settings) -> None:
    """The identity provider's settings can be used (its PEM key file holds one public key), or SettingsError:
    `serve` checks this before its banner, so a bad key stops it in one line instead of in every worker."""
    if settings.identity_provider:
        try:
            Provider(provider_settings(settings))
        except KeyFileError as exc:
            raise SettingsError(str(exc)) from None


def provider_settings(settings: Settings) -> ProviderSettings:
    return ProviderSettings(
        jwks_url=settings.jwks_url, public_key_file=settings.jwt_public_key_file, algorithms=settings.jwt_algorithms,
        issuer=settings.jwt_issuer, audience=settings.jwt_audience, leeway_seconds=settings.jwt_leeway_seconds,
        jwks_lifetime_seconds=settings.jwks_lifetime_seconds,
        jwks_refresh_floor_seconds=settings.jwks_refresh_floor_seconds)


@dataclass(frozen=True)
class ClaimsMapping:
    """How a provider's claims name the member and the admin role."""

    member_claim: str = "sub"
    role_claim: str = "role"
    admin_role: str = "admin"
    admin_scope: str | None = None
    link_by_email: bool = False


class Authenticator:
    """The caller of a request: anonymous, or the actor a valid token names. Service-signed HS256 tokens are
    verified with the shared secret; with an identity provider configured, its tokens are verified with its
    public keys and mapped to a member (by the member's API ID, a linked subject, or, when switched on, a
    verified email). A token whose member does not exist is refused."""

    def __init__(self, secret: str, settings: Settings, service: Service) -> None:
        self.secret = secret
        self.service = service
        self.mapping = ClaimsMapping(settings.jwt_member_claim, settings.jwt_role_claim, settings.jwt_admin_role,
                                     settings.jwt_admin_scope, settings.link_by_email)
        self.provider = Provider(provider_settings(settings)) if settings.identity_provider else None

    async def actor(self, authorization: str | None) -> Actor:
        return (await self.caller(authorization)).actor

    async def caller(self, authorization: str | None) -> Caller:
        """The actor, and the member's row as the session check read it (a request that shows its viewer
        needs no second read)."""
        if not authorization:
            return Caller(Actor())
        token = bearer_token(authorization)
        if self.provider is None:  # the embedded default: every token is the service's own (verified, cached)
            verified = verified_token(self.secret, token)
        else:
            try:
                header = jwt.get_unverified_header(token)
            except jwt.PyJWTError:
                raise Unauthenticated("The token is not valid.", "invalid") from None
            if header.get("alg") == "HS256":
                verified = verified_token(self.secret, token)
            else:
                verified = await self._provider_actor(self.provider, token, header)
        if verified.actor.member_id is None:
            return Caller(verified.actor)
        # Our tokens' actor names its session already (a live subscription ends once it is signed out).
        return Caller(verified.actor, await self._check_session(verified.actor.member_id, verified))

    async def _check_session(self, member_id: int, token: Verified) -> Member:
        """The member exists and the token belongs to their current session: ours carry its key; an identity
        provider's must be issued after the member last signed out everywhere. Read on every request, so a
        sign-out on any server process holds at once everywhere."""
        found = await self.service.offload(lambda: self.service.signed_in(member_id))
        if found is None:
            raise Unauthenticated("The token's member does not exist.", "no_member")
        member, session = found
        if token.session is not None:  # ours: every one that names a member carries a session
            if token.session != session.key:
                raise Unauthenticated("The token was signed out (signOutEverywhere); sign in again.", "revoked")
            return member
        if session.revoked_at is not None and (token.issued_at is None or token.issued_at <= session.revoked_at):
            raise Unauthenticated("The token was issued before the member signed out everywhere; sign in again.",
                                  "revoked")
        return member

    async def _provider_actor(self, provider: Provider, token: str, header: dict[str, Any]) -> Verified:
        try:
            claims = await provider.claims(token, header)
        except TokenRefused as refused:
            raise Unauthenticated(_REFUSALS.get(refused.reason, "The token is not valid."), refused.reason) from None
        except KeysUnavailable as exc:
            raise ProviderUnavailable(str(exc)) from None
        if not times_are_numbers(claims):
            raise Unauthenticated("The token is not valid.", "claims")
        m = self.mapping
        subject = claims.get(m.member_claim)
        if not isinstance(subject, str) or not subject:
            raise Unauthenticated(f"The token has no {m.member_claim!r} claim.", "claims")
        scopes = claims.get("scope", claims.get("scp", ""))
        scopes = scopes.split() if isinstance(scopes, str) else scopes if isinstance(scopes, list) else []
        role = claims.get(m.role_claim)
        # A multivalued role (a list, as Keycloak's and Auth0's mappers emit it) is admin when it holds the admin
        # role; anything else in it leaves a member.
        roles = role if isinstance(role, list) else [role]
        is_admin = m.admin_role in roles or (m.admin_scope is not None and m.admin_scope in scopes)
        iss = claims.get("iss")
        issuer = iss if isinstance(iss, str) else ""
        member_id = ids.member_id(subject)
        if member_id is None:
            member_id = await self.service.offload(lambda: self.service.member_for_identity(issuer, subject))
        email = claims.get("email")
        if member_id is None and m.link_by_email and claims.get("email_verified") is True and isinstance(email, str):
            member_id = await self.service.link_identity(issuer, subject, email)
        if member_id is None and not is_admin:
            raise Unauthenticated("This sign-in is not linked to a member of this service.", "unknown_subject")
        issued_at = claims.get("iat")
        return Verified(Actor(member_id=member_id, is_admin=is_admin, signer=f"{issuer}#{subject}"), float(claims["exp"]),
                        issued_at=float(issued_at) if issued_at is not None else None)


_REFUSALS = {
    "expired": "The token has expired.",
    "not_yet_valid": "The token is not valid yet.",
    "issuer": "The token was issued by another issuer.",
    "audience": "The token is meant for another audience.",
    "algorithm": "The token's algorithm is not accepted.",
    "unknown_key": "The token is signed with a key the identity provider does not publish.",
}
