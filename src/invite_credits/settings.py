"""One frozen Settings, from the environment and command-line flags; every bad value refused in one line."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from .store.database import SYNCHRONOUS_MODES

T = TypeVar("T")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
JWT_SECRET_MIN_BYTES = 32


class SettingsError(ValueError):
    """A setting has a value the service cannot run with; the message names it and says what to give."""


@dataclass(frozen=True)
class Settings:
    db_path: Path = Path("invite-credits.db")
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
    read_connections: int = 4
    write_batch_max: int = 128
    graphiql: bool = True
    # Limits on what one request may ask for.
    max_body_bytes: int = 1_000_000
    max_query_depth: int = 12
    max_query_tokens: int = 5000
    max_query_aliases: int = 30
    max_query_cost: int = 5000
    document_cache_size: int = 256
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        if self.synchronous not in SYNCHRONOUS_MODES:
            raise SettingsError(f"INVITE_CREDITS_SYNCHRONOUS must be one of {', '.join(SYNCHRONOUS_MODES)}, "
                                f"not {self.synchronous!r}")
        if self.log_level not in LOG_LEVELS:
            raise SettingsError(f"INVITE_CREDITS_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {self.log_level!r}")
        if not 1 <= self.port <= 65535:
            raise SettingsError(f"--port must be between 1 and 65535, not {self.port}")
        if not self.sweep_interval_seconds > 0:
            raise SettingsError("INVITE_CREDITS_SWEEP_INTERVAL must be a number of seconds above 0")
        if self.read_connections < 1:
            raise SettingsError("INVITE_CREDITS_READ_CONNECTIONS must be at least 1")
        for name in ("max_body_bytes", "max_query_depth", "max_query_tokens", "max_query_aliases", "max_query_cost"):
            if getattr(self, name) < 1:
                raise SettingsError(f"INVITE_CREDITS_{name.upper()} must be at least 1")
        if self.jwt_secret is not None and not self.test_clock and len(self.jwt_secret.encode()) < JWT_SECRET_MIN_BYTES:
            raise SettingsError(f"INVITE_CREDITS_JWT_SECRET must be at least {JWT_SECRET_MIN_BYTES} bytes "
                                "(e.g. the output of `openssl rand -base64 48`)")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from INVITE_CREDITS_* variables, then `overrides` (flags) where not None."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        if "INVITE_CREDITS_DB" in env:
            values["db_path"] = Path(env["INVITE_CREDITS_DB"])
        if env.get("INVITE_CREDITS_JWT_SECRET"):
            values["jwt_secret"] = env["INVITE_CREDITS_JWT_SECRET"]
        if "INVITE_CREDITS_TEST_CLOCK" in env:
            values["test_clock"] = _parse(env, "INVITE_CREDITS_TEST_CLOCK", _boolean, "1 or 0")
        if "INVITE_CREDITS_SYNCHRONOUS" in env:
            values["synchronous"] = env["INVITE_CREDITS_SYNCHRONOUS"].strip().upper()
        if "INVITE_CREDITS_SWEEP_INTERVAL" in env:
            values["sweep_interval_seconds"] = _parse(env, "INVITE_CREDITS_SWEEP_INTERVAL", float, "a number of seconds")
        if "INVITE_CREDITS_READ_CONNECTIONS" in env:
            values["read_connections"] = _parse(env, "INVITE_CREDITS_READ_CONNECTIONS", int, "a whole number")
        for name in ("max_body_bytes", "max_query_depth", "max_query_tokens", "max_query_aliases", "max_query_cost"):
            key = "INVITE_CREDITS_" + name.upper()
            if key in env:
                values[name] = _parse(env, key, int, "a whole number")
        if "INVITE_CREDITS_LOG_LEVEL" in env:
            values["log_level"] = env["INVITE_CREDITS_LOG_LEVEL"].strip().upper()
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def _parse(env: Mapping[str, str], key: str, convert: Callable[[str], T], expected: str) -> T:
    try:
        return convert(env[key].strip())
    except ValueError:
        raise SettingsError(f"{key} must be {expected}, not {env[key]!r}") from None


def _boolean(text: str) -> bool:
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ValueError(text)


# Every environment variable the service reads, with its meaning: the docs test checks each is documented.
ENVIRONMENT = {
    "INVITE_CREDITS_DB": "db_path",
    "INVITE_CREDITS_JWT_SECRET": "jwt_secret",
    "INVITE_CREDITS_TEST_CLOCK": "test_clock",
    "INVITE_CREDITS_SYNCHRONOUS": "synchronous",
    "INVITE_CREDITS_SWEEP_INTERVAL": "sweep_interval_seconds",
    "INVITE_CREDITS_READ_CONNECTIONS": "read_connections",
    "INVITE_CREDITS_MAX_BODY_BYTES": "max_body_bytes",
    "INVITE_CREDITS_MAX_QUERY_DEPTH": "max_query_depth",
    "INVITE_CREDITS_MAX_QUERY_TOKENS": "max_query_tokens",
    "INVITE_CREDITS_MAX_QUERY_ALIASES": "max_query_aliases",
    "INVITE_CREDITS_MAX_QUERY_COST": "max_query_cost",
    "INVITE_CREDITS_LOG_LEVEL": "log_level",
}
