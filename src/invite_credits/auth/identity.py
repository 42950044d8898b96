"""Tokens signed by an identity provider: its public keys from a JWKS URL (or a PEM file), verified with PyJWT.

The key set is cached for a bounded lifetime and refetched when it expires or when a token names a key id it
does not hold (a rotation), but never more often than a floor, so tokens with made-up key ids cannot make the
service hammer the provider. While the provider is down, the keys last fetched keep working.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt

log = logging.getLogger("invite_credits.identity")

class KeysUnavailable(Exception):
    """No key of the provider could be had (never fetched, endpoint down): the service cannot verify anything."""


class TokenRefused(Exception):
    """The token is not one of the provider's, or not valid now; `reason` is a short fixed word."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ProviderSettings:
    jwks_url: str | None
    public_key_file: Path | None
    algorithms: tuple[str, ...]
    issuer: str | None
    audience: str | None
    leeway_seconds: int
    jwks_lifetime_seconds: float
    jwks_refresh_floor_seconds: float


class JwksKeys:
    """The provider's key set by key id, fetched over HTTP and cached (see the module's doc)."""

    def __init__(self, url: str, *, lifetime_seconds: float, floor_seconds: float, timeout_seconds: float = 5.0) -> None:
        self.url = url
        self.lifetime = lifetime_seconds
        self.floor = floor_seconds
        self.timeout = timeout_seconds
        self.keys: dict[str, jwt.PyJWK] = {}
        self.fetched_at: float | None = None
        self.attempted_at: float | None = None
        self.fetches = 0
        self._lock = asyncio.Lock()

    async def key(self, kid: str | None) -> jwt.PyJWK:
        now = time.monotonic()
        stale = self.fetched_at is None or now - self.fetched_at >= self.lifetime
        if stale or kid not in self.keys:
            await self._refresh(now)
        if kid is None and len(self.keys) == 1:  # a provider with one key may leave `kid` out
            return next(iter(self.keys.values()))
        if kid is not None and kid in self.keys:
            return self.keys[kid]
        if self.fetched_at is None:
            raise KeysUnavailable(f"the identity provider's keys could not be fetched from {self.url}")
        raise TokenRefused("unknown_key")

    async def _refresh(self, now: float) -> None:
        async with self._lock:
            if self.attempted_at is not None and now - self.attempted_at < self.floor:
                return
            self.attempted_at = time.monotonic()
            self.fetches += 1
            try:
                async with httpx.AsyncClient(timeout=self.timeout) as client:
                    response = await client.get(self.url, headers={"accept": "application/json"})
                response.raise_for_status()
                keys = {k.key_id or "": k for k in jwt.PyJWKSet.from_dict(response.json()).keys}
            except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
                log.warning("identity provider keys not refreshed; keeping %d cached", len(self.keys),
                            extra={"fields": {"url": self.url, "error": type(exc).__name__}})
                return
            self.keys = keys
            self.fetched_at = time.monotonic()


class KeyFileError(ValueError):
    """INVITE_CREDITS_JWT_PUBLIC_KEY_FILE cannot be used; the message says why, in one line."""


def load_public_key(path: Path) -> Any:
    """The one PEM public key in `path`, or KeyFileError (a certificate, a private key, anything else)."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"INVITE_CREDITS_JWT_PUBLIC_KEY_FILE: cannot read {path}: {exc.strerror}") from None
    if b"PRIVATE KEY" in data:
        raise KeyFileError(f"INVITE_CREDITS_JWT_PUBLIC_KEY_FILE: {path} holds a private key; give the provider's "
                           "public key (never the private one)")
    if b"BEGIN CERTIFICATE" in data:
        raise KeyFileError(f"INVITE_CREDITS_JWT_PUBLIC_KEY_FILE: {path} is a certificate; give its public key "
                           "(openssl x509 -pubkey -noout -in cert.pem)")
    try:
        return load_pem_public_key(data)
    except (ValueError, TypeError):
        raise KeyFileError(f"INVITE_CREDITS_JWT_PUBLIC_KEY_FILE: {path} is not a PEM public key "
                           "(-----BEGIN PUBLIC KEY-----)") from None


class Provider:
    """Verifies a provider's token: signature by its keys, an allowed algorithm, exp/nbf/iat with leeway, and
    iss and aud when configured. Returns the claims."""

    def __init__(self, settings: ProviderSettings) -> None:
        self.settings = settings
        self.jwks = (JwksKeys(settings.jwks_url, lifetime_seconds=settings.jwks_lifetime_seconds,
                              floor_seconds=settings.jwks_refresh_floor_seconds) if settings.jwks_url else None)
        self.pem = load_public_key(settings.public_key_file) if settings.public_key_file is not None else None

    def accepts(self, algorithm: object) -> bool:
        return isinstance(algorithm, str) and algorithm in self.settings.algorithms

    async def claims(self, token: str, header: Mapping[str, Any]) -> dict[str, Any]:
        algorithm = header.get("alg")
        if not self.accepts(algorithm):
            raise TokenRefused("algorithm")
        kid = header.get("kid")
        key: Any
        if self.jwks is not None and (kid is not None or self.pem is None):
            key = (await self.jwks.key(kid if isinstance(kid, str) else None)).key
        elif self.pem is not None:
            key = self.pem
        else:
            raise TokenRefused("unknown_key")
        s = self.settings
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=[str(algorithm)], issuer=s.issuer, audience=s.audience, leeway=s.leeway_seconds,
                options={"require": ["exp"], "verify_aud": s.audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRefused("expired") from None
        except jwt.ImmatureSignatureError:
            raise TokenRefused("not_yet_valid") from None
        except jwt.InvalidIssuerError:
            raise TokenRefused("issuer") from None
        except jwt.InvalidAudienceError:
            raise TokenRefused("audience") from None
        except (jwt.PyJWTError, TypeError, ValueError):  # a key of another type than the algorithm raises TypeError
            raise TokenRefused("invalid") from None
        return claims
