"""One frozen Settings, from the environment and command-line flags; every bad value refused in one line.

A leaf: it imports nothing of ours."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
HTTP_PARSERS = ("auto", "h11", "httptools")
EVENT_LOOPS = ("auto", "asyncio", "uvloop")
JWT_SECRET_MIN_BYTES = 32
# An identity provider's tokens: asymmetric algorithms only (an HMAC one with a public key is the
# algorithm-confusion attack; `none` is no signature).
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


class SettingsError(ValueError):
    """A setting has a value the service cannot run with; the message names it and says what to give."""


@dataclass(frozen=True)
class Settings:
    db_path: Path = Path("invite-credits.db")
    # A postgresql:// URL instead of the SQLite file: any number of processes on one database.
    db_url: str | None = None
    # PostgreSQL: connections per process (writes and slow reads; each process has one more for inline reads).
    db_connections: int = 8
    host: str = "127.0.0.1"
    port: int = 8000
    # Secret for HS256 tokens; None: generated once and kept beside the database.
    jwt_secret: str | None = None
    member_token_ttl_seconds: int = 30 * 24 * 3600
    admin_token_ttl_seconds: int = 24 * 3600
    test_clock: bool = False
    # FULL: a commit is on disk before the client hears of it. NORMAL: faster; a power cut may lose the last commits.
    synchronous: str = "FULL"
    sweep_interval_seconds: float = 60.0
    # Events out: CREDITS_EXPIRING_SOON this many days before a lot expires; the feed keeps events this long.
    expiry_notice_days: int = 30
    event_retention_days: int = 30
    # Webhook endpoints on private and loopback addresses: refused (SSRF) unless switched on, e.g. for tests.
    webhook_allow_private: bool = False
    # NATS with JetStream: every event is also published there (subject invite_credits.<type>), at least once.
    nats_url: str | None = None
    read_connections: int = 4
    write_batch_max: int = 128
    # The playground on a browser's GET, and introspection for callers who are not admins (production switches).
    graphiql: bool = True
    introspection: bool = True
    # Origins (scheme://host[:port]) whose browser pages may call the API; none by default.
    cors_origins: tuple[str, ...] = ()
    # Token buckets (0 switches one off): mutations per member per minute, sign-ups per client address per hour,
    # requests without a token per client address per minute; shared by every process through Redis when set.
    member_mutations_per_minute: int = 600
    signups_per_hour: int = 1000
    anonymous_requests_per_minute: int = 6000
    redis_url: str | None = None
    # Proxies whose X-Forwarded-For names the client (uvicorn's forwarded_allow_ips): a proxy on this machine.
    forwarded_allow_ips: str = "127.0.0.1"
    # Limits on what one request may ask for.
    max_body_bytes: int = 1_000_000
    max_query_depth: int = 12
    max_query_tokens: int = 5000
    max_query_aliases: int = 30
    max_query_cost: int = 5000
    # Fields a document selects once its fragments are expanded (a fragment that spreads another twice doubles).
    max_query_fields: int = 2000
    document_cache_size: int = 256
    log_level: str = "INFO"
    # Behind an identity provider (docs/operations.md): its keys, what its tokens must say, and how they map.
    jwks_url: str | None = None
    jwt_public_key_file: Path | None = None
    jwt_algorithms: tuple[str, ...] = ("RS256", "ES256")
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_seconds: int = 30
    jwks_lifetime_seconds: float = 300.0
    jwks_refresh_floor_seconds: float = 30.0
    jwt_member_claim: str = "sub"
    jwt_role_claim: str = "role"
    jwt_admin_role: str = "admin"
    jwt_admin_scope: str | None = None
    link_by_email: bool = False
    signup_enabled: bool = True
    # Persisted documents: Apollo's automatic persisted queries (a bounded cache per process), or, with a
    # manifest, only the trusted documents it lists run.
    apq_cache_size: int = 1000
    trusted_documents: Path | None = None
    # Query documents run from compiled plans (pipeline/plans/); off: graphql-core executes each one.
    compiled_plans: bool = True
    # The HTTP stack under uvicorn: its HTTP/1.1 parser ("auto": httptools, installed with the package) and
    # event loop (asyncio: uvloop left a 1 s p99 tail under load; bench/RESULTS.md "HTTP stacks").
    http: str = "auto"
    loop: str = "asyncio"
    # Live subscriptions (WebSocket): at most this many per member, and per server process.
    subscriptions_per_member: int = 10
    subscriptions_per_process: int = 1000
    # A WebSocket that sends no connection_init within this many seconds is closed (4408).
    ws_init_timeout_seconds: float = 10.0

    @property
    def postgres(self) -> bool:
        return self.db_url is not None

    def require_shared_secret(self) -> None:
        """On PostgreSQL the token secret comes from the environment: every process, on every machine, signs
        and checks tokens with it (no file beside a database to generate it into)."""
        if self.db_url is not None and not self.jwt_secret:
            raise SettingsError("with a PostgreSQL database, INVITE_CREDITS_JWT_SECRET must be set: every server "
                                "process signs and checks tokens with the same secret")

    @property
    def identity_provider(self) -> bool:
        return self.jwks_url is not None or self.jwt_public_key_file is not None

    def __post_init__(self) -> None:
        for name, (low, high) in BOUNDS.items():
            value = getattr(self, name)
            if not (math.isfinite(value) and low <= value <= high):
                raise SettingsError(f"{SETTING_NAMES.get(name, name)} must be between {_number(low)} and "
                                    f"{_number(high)}, not {value!r}")
        if self.synchronous not in SYNCHRONOUS_MODES:
            raise SettingsError(f"INVITE_CREDITS_SYNCHRONOUS must be one of {', '.join(SYNCHRONOUS_MODES)}, "
                                f"not {self.synchronous!r}")
        if self.log_level not in LOG_LEVELS:
            raise SettingsError(f"INVITE_CREDITS_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {self.log_level!r}")
        if self.trusted_documents is not None and not self.trusted_documents.is_file():
            raise SettingsError(f"INVITE_CREDITS_TRUSTED_DOCUMENTS: no file {self.trusted_documents}")
        if self.db_url is not None and not is_database_url(self.db_url):
            raise SettingsError(f"--db takes a file path or a postgresql:// URL, not {self.db_url!r}")
        if self.redis_url is not None and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError(f"INVITE_CREDITS_REDIS_URL must be a redis:// URL, not {self.redis_url!r}")
        if self.nats_url is not None and not all(
                url.strip().startswith(("nats://", "tls://", "ws://", "wss://")) for url in self.nats_url.split(",")):
            raise SettingsError(f"INVITE_CREDITS_NATS_URL must be nats:// URLs (comma-separated), not {self.nats_url!r}")
        for origin in self.cors_origins:
            if not _ORIGIN.fullmatch(origin):
                raise SettingsError(f"INVITE_CREDITS_CORS_ORIGINS takes exact origins such as https://app.example.com "
                                    f"(scheme, host and port; no path, no wildcard), not {origin!r}")
        if self.http not in HTTP_PARSERS:
            raise SettingsError(f"INVITE_CREDITS_HTTP must be one of {', '.join(HTTP_PARSERS)}, not {self.http!r}")
        if self.loop not in EVENT_LOOPS:
            raise SettingsError(f"INVITE_CREDITS_LOOP must be one of {', '.join(EVENT_LOOPS)}, not {self.loop!r}")
        unknown = [a for a in self.jwt_algorithms if a not in ASYMMETRIC_ALGORITHMS]
        if unknown or not self.jwt_algorithms:
            raise SettingsError(f"INVITE_CREDITS_JWT_ALGORITHMS takes {', '.join(ASYMMETRIC_ALGORITHMS)}, "
                                f"not {', '.join(unknown) or 'nothing'}")
        if self.jwks_url is not None and not self.jwks_url.startswith(("https://", "http://")):
            raise SettingsError(f"INVITE_CREDITS_JWKS_URL must be an http(s) URL, not {self.jwks_url!r}")
        if self.jwt_public_key_file is not None and not self.jwt_public_key_file.is_file():
            raise SettingsError(f"INVITE_CREDITS_JWT_PUBLIC_KEY_FILE: no file {self.jwt_public_key_file}")
        if self.jwt_secret is not None and not self.test_clock and len(self.jwt_secret.encode()) < JWT_SECRET_MIN_BYTES:
            raise SettingsError(f"INVITE_CREDITS_JWT_SECRET must be at least {JWT_SECRET_MIN_BYTES} bytes "
                                "(e.g. the output of `openssl rand -base64 48`)")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from INVITE_CREDITS_* variables, then `overrides` (flags) where not None."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        if "INVITE_CREDITS_DB" in env:
            values.update(database(env["INVITE_CREDITS_DB"]))
        for key, (name, convert, expected) in _PARSED.items():
            if key in env:
                values[name] = _parse(env, key, convert, expected)
        values = {k: v for k, v in values.items() if v is not None}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def is_database_url(text: str) -> bool:
    return text.startswith(("postgresql://", "postgres://"))


def database(text: str) -> dict[str, Any]:
    """--db or INVITE_CREDITS_DB: a postgresql:// URL, or a SQLite file path."""
    if is_database_url(text):
        return {"db_url": text}
    if "://" in text:
        raise SettingsError(f"--db takes a file path or a postgresql:// URL, not {text.split('://')[0]}://...")
    return {"db_path": Path(text)}


def _parse(env: Mapping[str, str], key: str, convert: Callable[[str], Any], expected: str) -> Any:
    try:
        return convert(env[key].strip())
    except (ValueError, OverflowError):
        raise SettingsError(f"{key} must be {expected}, not {env[key]!r}") from None


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _boolean(text: str) -> bool:
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ValueError(text)


def _text(text: str) -> str | None:
    return text or None


def _upper(text: str) -> str:
    return text.upper()


def _lower(text: str) -> str:
    return text.lower()


def _list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _path(text: str) -> Path | None:
    return Path(text) if text else None


_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:]+\](:[0-9]{1,5})?")
_WHOLE = "a whole number"
_SECONDS = "a number of seconds"
_SWITCH = "1 or 0"

# INVITE_CREDITS_* variable -> (field, parser, what it takes). INVITE_CREDITS_DB is parsed by database().
_PARSED: dict[str, tuple[str, Callable[[str], Any], str]] = {
    "INVITE_CREDITS_DB_CONNECTIONS": ("db_connections", int, _WHOLE),
    "INVITE_CREDITS_JWT_SECRET": ("jwt_secret", _text, "a secret"),
    "INVITE_CREDITS_MEMBER_TOKEN_TTL": ("member_token_ttl_seconds", int, "a whole number of seconds"),
    "INVITE_CREDITS_ADMIN_TOKEN_TTL": ("admin_token_ttl_seconds", int, "a whole number of seconds"),
    "INVITE_CREDITS_TEST_CLOCK": ("test_clock", _boolean, _SWITCH),
    "INVITE_CREDITS_SYNCHRONOUS": ("synchronous", _upper, "a mode"),
    "INVITE_CREDITS_SWEEP_INTERVAL": ("sweep_interval_seconds", float, _SECONDS),
    "INVITE_CREDITS_EXPIRY_NOTICE_DAYS": ("expiry_notice_days", int, "a whole number of days"),
    "INVITE_CREDITS_EVENT_RETENTION_DAYS": ("event_retention_days", int, "a whole number of days"),
    "INVITE_CREDITS_WEBHOOK_ALLOW_PRIVATE": ("webhook_allow_private", _boolean, _SWITCH),
    "INVITE_CREDITS_NATS_URL": ("nats_url", _text, "a nats:// URL"),
    "INVITE_CREDITS_READ_CONNECTIONS": ("read_connections", int, _WHOLE),
    "INVITE_CREDITS_GRAPHIQL": ("graphiql", _boolean, _SWITCH),
    "INVITE_CREDITS_INTROSPECTION": ("introspection", _boolean, _SWITCH),
    "INVITE_CREDITS_CORS_ORIGINS": ("cors_origins", _list, "a comma-separated list of origins"),
    "INVITE_CREDITS_MEMBER_MUTATIONS_PER_MINUTE": ("member_mutations_per_minute", int, _WHOLE),
    "INVITE_CREDITS_SIGNUPS_PER_HOUR": ("signups_per_hour", int, _WHOLE),
    "INVITE_CREDITS_ANONYMOUS_REQUESTS_PER_MINUTE": ("anonymous_requests_per_minute", int, _WHOLE),
    "INVITE_CREDITS_REDIS_URL": ("redis_url", _text, "a redis:// URL"),
    "INVITE_CREDITS_FORWARDED_ALLOW_IPS": ("forwarded_allow_ips", _text, "addresses"),
    "INVITE_CREDITS_MAX_BODY_BYTES": ("max_body_bytes", int, _WHOLE),
    "INVITE_CREDITS_MAX_QUERY_DEPTH": ("max_query_depth", int, _WHOLE),
    "INVITE_CREDITS_MAX_QUERY_TOKENS": ("max_query_tokens", int, _WHOLE),
    "INVITE_CREDITS_MAX_QUERY_ALIASES": ("max_query_aliases", int, _WHOLE),
    "INVITE_CREDITS_MAX_QUERY_COST": ("max_query_cost", int, _WHOLE),
    "INVITE_CREDITS_MAX_QUERY_FIELDS": ("max_query_fields", int, _WHOLE),
    "INVITE_CREDITS_LOG_LEVEL": ("log_level", _upper, "a level"),
    "INVITE_CREDITS_JWKS_URL": ("jwks_url", _text, "a URL"),
    "INVITE_CREDITS_JWT_PUBLIC_KEY_FILE": ("jwt_public_key_file", _path, "a file"),
    "INVITE_CREDITS_JWT_ALGORITHMS": ("jwt_algorithms", _list, "a comma-separated list"),
    "INVITE_CREDITS_JWT_ISSUER": ("jwt_issuer", _text, "an issuer"),
    "INVITE_CREDITS_JWT_AUDIENCE": ("jwt_audience", _text, "an audience"),
    "INVITE_CREDITS_JWT_LEEWAY": ("jwt_leeway_seconds", int, "a whole number of seconds"),
    "INVITE_CREDITS_JWKS_LIFETIME": ("jwks_lifetime_seconds", float, _SECONDS),
    "INVITE_CREDITS_JWKS_REFRESH_FLOOR": ("jwks_refresh_floor_seconds", float, _SECONDS),
    "INVITE_CREDITS_JWT_MEMBER_CLAIM": ("jwt_member_claim", _text, "a claim"),
    "INVITE_CREDITS_JWT_ROLE_CLAIM": ("jwt_role_claim", _text, "a claim"),
    "INVITE_CREDITS_JWT_ADMIN_ROLE": ("jwt_admin_role", _text, "a role"),
    "INVITE_CREDITS_JWT_ADMIN_SCOPE": ("jwt_admin_scope", _text, "a scope"),
    "INVITE_CREDITS_LINK_BY_EMAIL": ("link_by_email", _boolean, _SWITCH),
    "INVITE_CREDITS_SIGNUP": ("signup_enabled", _boolean, _SWITCH),
    "INVITE_CREDITS_APQ_CACHE_SIZE": ("apq_cache_size", int, _WHOLE),
    "INVITE_CREDITS_TRUSTED_DOCUMENTS": ("trusted_documents", _path, "a file"),
    "INVITE_CREDITS_COMPILED_PLANS": ("compiled_plans", _boolean, _SWITCH),
    "INVITE_CREDITS_HTTP": ("http", _lower, "a parser"),
    "INVITE_CREDITS_LOOP": ("loop", _lower, "a loop"),
    "INVITE_CREDITS_SUBSCRIPTIONS_PER_MEMBER": ("subscriptions_per_member", int, _WHOLE),
    "INVITE_CREDITS_SUBSCRIPTIONS_PER_PROCESS": ("subscriptions_per_process", int, _WHOLE),
}

_DAY = 24 * 3600
# Every number a setting takes, with its documented bounds (docs/operations.md, "Settings").
BOUNDS: dict[str, tuple[float, float]] = {
    "port": (1, 65535),
    "db_connections": (1, 256),
    "member_token_ttl_seconds": (60, 366 * _DAY),
    "admin_token_ttl_seconds": (60, 366 * _DAY),
    "sweep_interval_seconds": (0.1, _DAY),
    "expiry_notice_days": (1, 365),
    "event_retention_days": (1, 3650),
    "read_connections": (1, 64),
    "member_mutations_per_minute": (0, 1_000_000),
    "signups_per_hour": (0, 1_000_000),
    "anonymous_requests_per_minute": (0, 1_000_000),
    "max_body_bytes": (1, 100_000_000),
    "max_query_depth": (1, 1000),
    "max_query_tokens": (1, 1_000_000),
    "max_query_aliases": (1, 100_000),
    "max_query_cost": (1, 100_000_000),
    "max_query_fields": (1, 1_000_000),
    "jwt_leeway_seconds": (0, 3600),
    "jwks_lifetime_seconds": (0.1, _DAY),
    "jwks_refresh_floor_seconds": (0, 3600),
    "apq_cache_size": (1, 1_000_000),
    "subscriptions_per_member": (1, 10_000),
    "subscriptions_per_process": (1, 1_000_000),
}
SETTING_NAMES = {"port": "--port", **{field: key for key, (field, _, _) in _PARSED.items()}}


# Every environment variable the service reads, with the field it sets: the docs test checks each is documented.
ENVIRONMENT = {"INVITE_CREDITS_DB": "db_path", **{key: field for key, (field, _, _) in _PARSED.items()}}
