"""One frozen Settings, from the environment and command-line flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .store.database import SYNCHRONOUS_MODES

_TRUE = {"1", "true", "yes", "on"}


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
            raise ValueError(f"INVITE_CREDITS_SYNCHRONOUS must be one of {', '.join(SYNCHRONOUS_MODES)}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        if "INVITE_CREDITS_DB" in env:
            values["db_path"] = Path(env["INVITE_CREDITS_DB"])
        if env.get("INVITE_CREDITS_JWT_SECRET"):
            values["jwt_secret"] = env["INVITE_CREDITS_JWT_SECRET"]
        if "INVITE_CREDITS_TEST_CLOCK" in env:
            values["test_clock"] = env["INVITE_CREDITS_TEST_CLOCK"].strip().lower() in _TRUE
        if "INVITE_CREDITS_SYNCHRONOUS" in env:
            values["synchronous"] = env["INVITE_CREDITS_SYNCHRONOUS"].strip().upper()
        if "INVITE_CREDITS_SWEEP_INTERVAL" in env:
            values["sweep_interval_seconds"] = float(env["INVITE_CREDITS_SWEEP_INTERVAL"])
        if "INVITE_CREDITS_READ_CONNECTIONS" in env:
            values["read_connections"] = int(env["INVITE_CREDITS_READ_CONNECTIONS"])
        for name in ("max_body_bytes", "max_query_depth", "max_query_tokens", "max_query_aliases", "max_query_cost"):
            key = "INVITE_CREDITS_" + name.upper()
            if key in env:
                values[name] = int(env[key])
        if "INVITE_CREDITS_LOG_LEVEL" in env:
            values["log_level"] = env["INVITE_CREDITS_LOG_LEVEL"].upper()
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)
