"""Opaque global IDs and cursors: base64url of "Type:key", unpadded."""

from __future__ import annotations

import base64
import binascii


def encode(kind: str, key: object) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode().rstrip("=")


def decode_raw(value: str) -> tuple[str, str] | None:
    if not value or len(value) > 400:
        return None
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    kind, sep, key = text.partition(":")
    if not sep:
        return None
    return kind, key


def decode(kind: str, value: str) -> int | None:
    """The integer key of an ID of `kind`, or None when the value is not one."""
    raw = decode_raw(value)
    if raw is None or raw[0] != kind or not raw[1].isdigit() or len(raw[1]) > 18:
        return None
    return int(raw[1])


def member_id(value: str) -> int | None:
    return decode("Member", value)
