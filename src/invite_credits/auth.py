"""Tokens: JWT, HS256, claims sub / role / exp (SPEC, operating contract)."""

from __future__ import annotations

import os
import secrets
import time
from functools import lru_cache
from pathlib import Path

import jwt

from . import ids
from .domain.access import Actor
from .domain.errors import AccessDenied, unauthenticated
from .settings import Settings

ADMIN_SUBJECT = "admin"


def secret_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".jwt-secret")


def load_secret(settings: Settings) -> str:
    """The configured secret, or one generated on first use and kept beside the database (mode 0600)."""
    if settings.jwt_secret:
        return settings.jwt_secret
    path = secret_path(settings.db_path)
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
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
        raise unauthenticated("The token has expired.", "expired")
    return actor


@lru_cache(maxsize=4096)
def _verified(secret: str, token: str) -> tuple[Actor, float]:
    """Signature and claims checked once per token (clients send the same one many times); expiry every time."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError:
        raise unauthenticated("The token has expired.", "expired") from None
    except jwt.PyJWTError:
        raise unauthenticated("The token is not valid.", "invalid") from None
    role, subject = claims.get("role"), claims.get("sub")
    if role not in ("member", "admin") or not isinstance(subject, str):
        raise unauthenticated("The token is not valid.", "claims")
    member_id = ids.member_id(subject)
    expires = float(claims["exp"])
    if role == "member":
        if member_id is None:
            raise unauthenticated("The token names no member.", "claims")
        return Actor(member_id=member_id), expires
    return Actor(member_id=member_id, is_admin=True), expires


def actor_from_header(secret: str, authorization: str | None) -> Actor:
    if not authorization:
        return Actor()
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AccessDenied("UNAUTHENTICATED", "Send the token as 'Authorization: Bearer <token>'.", "header")
    return actor_from_token(secret, token.strip())
