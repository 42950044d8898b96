"""Tokens: JWTs the service signs (HS256, claims sub / role / exp), and, when configured, tokens an identity
provider signs (identity.py), mapped to a member or an admin."""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt

from . import ids
from .domain.access import Actor
from .domain.errors import Unauthenticated
from .identity import KeysUnavailable, Provider, ProviderSettings, TokenRefused
from .settings import Settings, SettingsError

if TYPE_CHECKING:
    from .service import Service

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


def mint(secret: str, *, subject: str, role: str, ttl_seconds: int) -> str:
    now = int(time.time())
    return jwt.encode({"sub": subject, "role": role, "iat": now, "exp": now + ttl_seconds}, secret, algorithm="HS256")


def member_token(secret: str, member_id: int, ttl_seconds: int) -> str:
    return mint(secret, subject=ids.encode("Member", member_id), role="member", ttl_seconds=ttl_seconds)


def admin_token(secret: str, ttl_seconds: int, member_id: int | None = None) -> str:
    subject = ids.encode("Member", member_id) if member_id is not None else ADMIN_SUBJECT
    return mint(secret, subject=subject, role="admin", ttl_seconds=ttl_seconds)


def actor_from_token(secret: str, token: str) -> Actor:
    """Verify a bearer token; raises UNAUTHENTICATED for a bad, expired or malformed one."""
    actor, expires = _verified(secret, token)
    if expires <= time.time():
        raise Unauthenticated("The token has expired.", "expired")
    return actor


@lru_cache(maxsize=4096)
def _verified(secret: str, token: str) -> tuple[Actor, float]:
    """Signature and claims checked once per token (clients send the same one many times); expiry every time."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("The token has expired.", "expired") from None
    except jwt.PyJWTError:
        raise Unauthenticated("The token is not valid.", "invalid") from None
    role, subject = claims.get("role"), claims.get("sub")
    if role not in ("member", "admin") or not isinstance(subject, str):
        raise Unauthenticated("The token is not valid.", "claims")
    member_id = ids.member_id(subject)
    expires = float(claims["exp"])
    if role == "member":
        if member_id is None:
            raise Unauthenticated("The token names no member.", "claims")
        return Actor(member_id=member_id), expires
    return Actor(member_id=member_id, is_admin=True), expires


def bearer_token(authorization: str) -> str:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send the token as 'Authorization: Bearer <token>'.", "header")
    return token.strip()


def actor_from_header(secret: str, authorization: str | None) -> Actor:
    """The caller of a service-signed token (HS256 only)."""
    return actor_from_token(secret, bearer_token(authorization)) if authorization else Actor()


KNOWN_MEMBERS_MAX = 100_000


class ProviderUnavailable(Exception):
    """The identity provider's keys cannot be had: no token of it can be verified now (HTTP 503)."""


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
        self._known: set[int] = set()
        self.mapping = ClaimsMapping(settings.jwt_member_claim, settings.jwt_role_claim, settings.jwt_admin_role,
                                     settings.jwt_admin_scope, settings.link_by_email)
        self.provider = Provider(ProviderSettings(
            jwks_url=settings.jwks_url, public_key_file=settings.jwt_public_key_file,
            algorithms=settings.jwt_algorithms, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
            leeway_seconds=settings.jwt_leeway_seconds, jwks_lifetime_seconds=settings.jwks_lifetime_seconds,
            jwks_refresh_floor_seconds=settings.jwks_refresh_floor_seconds,
        )) if settings.identity_provider else None

    async def actor(self, authorization: str | None) -> Actor:
        if not authorization:
            return Actor()
        token = bearer_token(authorization)
        if self.provider is None:  # the embedded default: every token is the service's own (verified, cached)
            actor = actor_from_token(self.secret, token)
        else:
            try:
                header = jwt.get_unverified_header(token)
            except jwt.PyJWTError:
                raise Unauthenticated("The token is not valid.", "invalid") from None
            if header.get("alg") == "HS256":
                actor = actor_from_token(self.secret, token)
            else:
                actor = await self._provider_actor(self.provider, token, header)
        if actor.member_id is not None and actor.member_id not in self._known:
            if self.service.member(actor.member_id) is None:
                raise Unauthenticated("The token's member does not exist.", "no_member")
            # Members are never deleted (the database refuses it): one that exists always will.
            if len(self._known) >= KNOWN_MEMBERS_MAX:
                self._known.clear()
            self._known.add(actor.member_id)
        return actor

    async def _provider_actor(self, provider: Provider, token: str, header: dict[str, Any]) -> Actor:
        try:
            claims = await provider.claims(token, header)
        except TokenRefused as refused:
            raise Unauthenticated(_REFUSALS.get(refused.reason, "The token is not valid."), refused.reason) from None
        except KeysUnavailable as exc:
            raise ProviderUnavailable(str(exc)) from None
        m = self.mapping
        subject = claims.get(m.member_claim)
        if not isinstance(subject, str) or not subject:
            raise Unauthenticated(f"The token has no {m.member_claim!r} claim.", "claims")
        scopes = claims.get("scope", claims.get("scp", ""))
        scopes = scopes.split() if isinstance(scopes, str) else scopes if isinstance(scopes, list) else []
        is_admin = claims.get(m.role_claim) == m.admin_role or (m.admin_scope is not None and m.admin_scope in scopes)
        iss = claims.get("iss")
        issuer = iss if isinstance(iss, str) else ""
        member_id = ids.member_id(subject)
        if member_id is None:
            member_id = self.service.member_for_identity(issuer, subject)
        email = claims.get("email")
        if member_id is None and m.link_by_email and claims.get("email_verified") is True and isinstance(email, str):
            member_id = await self.service.link_identity(issuer, subject, email)
        if member_id is None and not is_admin:
            raise Unauthenticated("This sign-in is not linked to a member of this service.", "unknown_subject")
        return Actor(member_id=member_id, is_admin=is_admin)


_REFUSALS = {
    "expired": "The token has expired.",
    "not_yet_valid": "The token is not valid yet.",
    "issuer": "The token was issued by another issuer.",
    "audience": "The token is meant for another audience.",
    "algorithm": "The token's algorithm is not accepted.",
    "unknown_key": "The token is signed with a key the identity provider does not publish.",
}
