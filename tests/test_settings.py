"""Settings from the environment: every variable parsed, every bad value refused with its name."""

from __future__ import annotations

from pathlib import Path

import pytest

from invite_credits.settings import ENVIRONMENT, Settings, SettingsError


def test_every_documented_variable_sets_its_field() -> None:
    env = {
        "INVITE_CREDITS_DB": "/tmp/x.db", "INVITE_CREDITS_JWT_SECRET": "s" * 40, "INVITE_CREDITS_TEST_CLOCK": "yes",
        "INVITE_CREDITS_SYNCHRONOUS": "normal", "INVITE_CREDITS_SWEEP_INTERVAL": "2.5",
        "INVITE_CREDITS_READ_CONNECTIONS": "3", "INVITE_CREDITS_MAX_BODY_BYTES": "10",
        "INVITE_CREDITS_MAX_QUERY_DEPTH": "4", "INVITE_CREDITS_MAX_QUERY_TOKENS": "50",
        "INVITE_CREDITS_MAX_QUERY_ALIASES": "5", "INVITE_CREDITS_MAX_QUERY_COST": "60", "INVITE_CREDITS_LOG_LEVEL": "debug",
        "INVITE_CREDITS_MAX_QUERY_FIELDS": "70",
        "INVITE_CREDITS_JWKS_URL": "https://idp.test/certs", "INVITE_CREDITS_JWT_ALGORITHMS": "ES256, RS256",
        "INVITE_CREDITS_JWT_ISSUER": "https://idp.test", "INVITE_CREDITS_JWT_AUDIENCE": "credits",
        "INVITE_CREDITS_JWT_LEEWAY": "5", "INVITE_CREDITS_JWKS_LIFETIME": "60", "INVITE_CREDITS_JWKS_REFRESH_FLOOR": "2",
        "INVITE_CREDITS_JWT_MEMBER_CLAIM": "uid", "INVITE_CREDITS_JWT_ROLE_CLAIM": "roles",
        "INVITE_CREDITS_JWT_ADMIN_ROLE": "boss", "INVITE_CREDITS_JWT_ADMIN_SCOPE": "credits:admin",
        "INVITE_CREDITS_LINK_BY_EMAIL": "1", "INVITE_CREDITS_SIGNUP": "0",
        "INVITE_CREDITS_SUBSCRIPTIONS_PER_MEMBER": "3", "INVITE_CREDITS_SUBSCRIPTIONS_PER_PROCESS": "30",
        "INVITE_CREDITS_APQ_CACHE_SIZE": "7", "INVITE_CREDITS_DB_CONNECTIONS": "4",
        "INVITE_CREDITS_COMPILED_PLANS": "0", "INVITE_CREDITS_HTTP": "h11", "INVITE_CREDITS_LOOP": "asyncio",
        "INVITE_CREDITS_MEMBER_TOKEN_TTL": "3600", "INVITE_CREDITS_ADMIN_TOKEN_TTL": "600",
        "INVITE_CREDITS_GRAPHIQL": "0", "INVITE_CREDITS_INTROSPECTION": "0",
        "INVITE_CREDITS_CORS_ORIGINS": "https://app.example.com, http://localhost:5173",
        "INVITE_CREDITS_MEMBER_MUTATIONS_PER_MINUTE": "7", "INVITE_CREDITS_SIGNUPS_PER_HOUR": "0",
        "INVITE_CREDITS_ANONYMOUS_REQUESTS_PER_MINUTE": "9", "INVITE_CREDITS_REDIS_URL": "redis://127.0.0.1:6379/0",
        "INVITE_CREDITS_FORWARDED_ALLOW_IPS": "10.0.0.1",
        "INVITE_CREDITS_EXPIRY_NOTICE_DAYS": "14", "INVITE_CREDITS_EVENT_RETENTION_DAYS": "90",
        "INVITE_CREDITS_WEBHOOK_ALLOW_PRIVATE": "1", "INVITE_CREDITS_NATS_URL": "nats://127.0.0.1:4222",
    }
    assert set(env) == set(ENVIRONMENT) - {"INVITE_CREDITS_JWT_PUBLIC_KEY_FILE", "INVITE_CREDITS_TRUSTED_DOCUMENTS"}
    s = Settings.from_env(env)
    assert (s.db_path, s.test_clock, s.synchronous, s.sweep_interval_seconds, s.read_connections) == (
        Path("/tmp/x.db"), True, "NORMAL", 2.5, 3)
    assert (s.max_body_bytes, s.max_query_depth, s.max_query_tokens, s.max_query_aliases, s.max_query_cost,
            s.max_query_fields) == (10, 4, 50, 5, 60, 70)
    assert (s.log_level, s.jwks_url, s.jwt_algorithms, s.jwt_issuer, s.jwt_audience) == (
        "DEBUG", "https://idp.test/certs", ("ES256", "RS256"), "https://idp.test", "credits")
    assert (s.jwt_leeway_seconds, s.jwks_lifetime_seconds, s.jwks_refresh_floor_seconds) == (5, 60.0, 2.0)
    assert (s.jwt_member_claim, s.jwt_role_claim, s.jwt_admin_role, s.jwt_admin_scope) == (
        "uid", "roles", "boss", "credits:admin")
    assert (s.link_by_email, s.signup_enabled, s.identity_provider) == (True, False, True)
    assert (s.subscriptions_per_member, s.subscriptions_per_process, s.apq_cache_size) == (3, 30, 7)
    assert (s.db_connections, s.db_url, s.postgres) == (4, None, False)
    assert (s.compiled_plans, s.http, s.loop) == (False, "h11", "asyncio")
    assert (s.member_token_ttl_seconds, s.admin_token_ttl_seconds, s.graphiql, s.introspection) == (3600, 600, False, False)
    assert s.cors_origins == ("https://app.example.com", "http://localhost:5173")
    assert (s.member_mutations_per_minute, s.signups_per_hour, s.anonymous_requests_per_minute) == (7, 0, 9)
    assert (s.redis_url, s.forwarded_allow_ips) == ("redis://127.0.0.1:6379/0", "10.0.0.1")
    assert (s.expiry_notice_days, s.event_retention_days, s.webhook_allow_private, s.nats_url) == (
        14, 90, True, "nats://127.0.0.1:4222")
    assert Settings().forwarded_allow_ips == "127.0.0.1"  # a proxy on this machine
    assert Settings.from_env({}) == Settings()


@pytest.mark.parametrize(("env", "named"), [
    ({"INVITE_CREDITS_SWEEP_INTERVAL": "soon"}, "INVITE_CREDITS_SWEEP_INTERVAL"),
    ({"INVITE_CREDITS_NATS_URL": "http://broker:4222"}, "INVITE_CREDITS_NATS_URL"),
    ({"INVITE_CREDITS_EXPIRY_NOTICE_DAYS": "0"}, "INVITE_CREDITS_EXPIRY_NOTICE_DAYS"),
    ({"INVITE_CREDITS_SWEEP_INTERVAL": "0"}, "INVITE_CREDITS_SWEEP_INTERVAL"),
    ({"INVITE_CREDITS_READ_CONNECTIONS": "many"}, "INVITE_CREDITS_READ_CONNECTIONS"),
    ({"INVITE_CREDITS_LOG_LEVEL": "loud"}, "INVITE_CREDITS_LOG_LEVEL"),
    ({"INVITE_CREDITS_SYNCHRONOUS": "always"}, "INVITE_CREDITS_SYNCHRONOUS"),
    ({"INVITE_CREDITS_TEST_CLOCK": "perhaps"}, "INVITE_CREDITS_TEST_CLOCK"),
    ({"INVITE_CREDITS_JWT_SECRET": "short"}, "INVITE_CREDITS_JWT_SECRET"),
    ({"INVITE_CREDITS_JWT_ALGORITHMS": "none"}, "INVITE_CREDITS_JWT_ALGORITHMS"),
    ({"INVITE_CREDITS_JWKS_URL": "ftp://idp/certs"}, "INVITE_CREDITS_JWKS_URL"),
    ({"INVITE_CREDITS_JWT_PUBLIC_KEY_FILE": "/nonexistent.pem"}, "INVITE_CREDITS_JWT_PUBLIC_KEY_FILE"),
    ({"INVITE_CREDITS_JWT_LEEWAY": "-1"}, "INVITE_CREDITS_JWT_LEEWAY"),
    ({"INVITE_CREDITS_SIGNUP": "sometimes"}, "INVITE_CREDITS_SIGNUP"),
    ({"INVITE_CREDITS_DB_CONNECTIONS": "0"}, "INVITE_CREDITS_DB_CONNECTIONS"),
    ({"INVITE_CREDITS_HTTP": "h2"}, "INVITE_CREDITS_HTTP"),
    ({"INVITE_CREDITS_LOOP": "trio"}, "INVITE_CREDITS_LOOP"),
    ({"INVITE_CREDITS_DB": "mysql://db/credits"}, "postgresql://"),
    # Absurd values have documented bounds.
    ({"INVITE_CREDITS_SWEEP_INTERVAL": "inf"}, "INVITE_CREDITS_SWEEP_INTERVAL"),
    ({"INVITE_CREDITS_SWEEP_INTERVAL": "nan"}, "INVITE_CREDITS_SWEEP_INTERVAL"),
    ({"INVITE_CREDITS_READ_CONNECTIONS": "1000000000"}, "INVITE_CREDITS_READ_CONNECTIONS"),
    ({"INVITE_CREDITS_MEMBER_TOKEN_TTL": "0"}, "INVITE_CREDITS_MEMBER_TOKEN_TTL"),
    ({"INVITE_CREDITS_ADMIN_TOKEN_TTL": "99999999999"}, "INVITE_CREDITS_ADMIN_TOKEN_TTL"),
    ({"INVITE_CREDITS_MAX_BODY_BYTES": "1e9"}, "INVITE_CREDITS_MAX_BODY_BYTES"),
    ({"INVITE_CREDITS_SIGNUPS_PER_HOUR": "-1"}, "INVITE_CREDITS_SIGNUPS_PER_HOUR"),
    ({"INVITE_CREDITS_CORS_ORIGINS": "*"}, "INVITE_CREDITS_CORS_ORIGINS"),
    ({"INVITE_CREDITS_CORS_ORIGINS": "https://app.example.com/path"}, "INVITE_CREDITS_CORS_ORIGINS"),
    ({"INVITE_CREDITS_REDIS_URL": "localhost:6379"}, "INVITE_CREDITS_REDIS_URL"),
    ({"INVITE_CREDITS_GRAPHIQL": "maybe"}, "INVITE_CREDITS_GRAPHIQL"),
])
def test_a_bad_value_is_refused_naming_its_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


def test_a_short_secret_is_allowed_only_with_the_test_clock() -> None:
    assert Settings.from_env({"INVITE_CREDITS_JWT_SECRET": "short", "INVITE_CREDITS_TEST_CLOCK": "1"}).jwt_secret


def test_a_postgresql_url_selects_postgresql() -> None:
    s = Settings.from_env({"INVITE_CREDITS_DB": "postgresql://app@db:5432/credits", "INVITE_CREDITS_JWT_SECRET": "s" * 40})
    assert (s.postgres, s.db_url) == (True, "postgresql://app@db:5432/credits")
    s.require_shared_secret()
    with pytest.raises(SettingsError, match="INVITE_CREDITS_JWT_SECRET must be set"):
        Settings(db_url="postgresql://app@db:5432/credits").require_shared_secret()
