"""Webhook rules: which endpoint URLs are allowed, the body of a delivery, and when a failed one is tried
again (the Standard Webhooks specification's schedule)."""

from __future__ import annotations

import ipaddress
import json
import random
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# Seconds after the first attempt's failure, then the next's, ...: the Standard Webhooks schedule (immediately,
# 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), each with +-10% jitter; after the last, FAILED.
RETRY_SCHEDULE: tuple[int, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)


@dataclass(frozen=True)
class Attempt:
    """What one attempt came to: a status code (2xx is success), or an error for no answer."""

    status_code: int | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def next_attempt(attempts_made: int, now: int, schedule: tuple[int, ...] = RETRY_SCHEDULE) -> int | None:
    """When to try again after `attempts_made` failed attempts (None: the schedule is over)."""
    if attempts_made > len(schedule):
        return None
    delay = schedule[attempts_made - 1]
    return now + max(1, round(delay * random.uniform(0.9, 1.1)))


def malformed(url: str) -> str | None:
    """Why a URL cannot be an endpoint at all: it is http:// or https:// with a host and no credentials."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "an endpoint URL is http:// or https:// with a host"
    if parts.username or parts.password:
        return "an endpoint URL carries no credentials"
    return None


def private_address(address: str) -> str | None:
    """Why an address may not be reached from here (SSRF): loopback, private, link-local, reserved, multicast."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_private or ip.is_link_local or ip.is_reserved or ip.is_multicast or ip.is_unspecified:
        return "a private address"
    return None


def private_host(url: str) -> str | None:
    """Why the URL's host itself is private: a literal private address, or localhost (names that resolve to a
    private address are refused when delivering)."""
    host = (urlsplit(url).hostname or "").lower()
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return "a loopback address"
    return private_address(host)


def payload(event_type: str, occurred_at: str, data: dict[str, Any]) -> str:
    """The body: the specification's {type, timestamp, data}."""
    return json.dumps({"type": event_type, "timestamp": occurred_at, "data": data}, ensure_ascii=False,
                      separators=(",", ":"))
