"""Opaque global IDs and cursors: base64url of "Type:key", unpadded.

Every decoder here is total over all text: it returns the key, or None for anything that is not exactly
what `encode` writes (so one object has one ID: no padding, no other alphabet, no non-ASCII or leading-zero
digits, no number past 18 digits).
"""

from __future__ import annotations

import base64
import binascii
import json
import re

MAX_LENGTH = 400
# A cursor with a name (a company's: at most 100 characters of up to 4 bytes each, JSON-escaped) is longer.
PAIR_MAX_LENGTH = 2048
_KEY = re.compile(r"[1-9][0-9]{0,17}")  # ASCII digits only: str.isdigit would take superscripts and others


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def encode(kind: str, key: object) -> str:
    # base64.urlsafe_b64encode, without its wrappers: a ledger page encodes an id per entry.
    return binascii.b2a_base64(f"{kind}:{key}".encode(), newline=False).translate(_URLSAFE).rstrip(b"=").decode()


def decode_raw(value: object, limit: int = MAX_LENGTH) -> tuple[str, str] | None:
    """(kind, key text) of a value `encode` could have written, at most `limit` characters long, or None."""
    if not isinstance(value, str) or not value or len(value) > limit or not value.isascii():
        return None
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    kind, sep, key = text.partition(":")
    if not sep or encode(kind, key) != value:
        return None
    return kind, key


def parse(value: object) -> tuple[str, int] | None:
    """(kind, integer key) of any global ID, or None."""
    raw = decode_raw(value)
    if raw is None or not _KEY.fullmatch(raw[1]):
        return None
    return raw[0], int(raw[1])


def decode(kind: str, value: object) -> int | None:
    """The integer key of an ID of `kind`, or None when the value is not one."""
    parsed = parse(value)
    return parsed[1] if parsed is not None and parsed[0] == kind else None


def member_id(value: object) -> int | None:
    return decode("Member", value)


def encode_pair(kind: str, name: str, key: int) -> str:
    """A cursor holding a name and an integer key (for pages ordered by name)."""
    return encode(kind, json.dumps([name, key], ensure_ascii=False, separators=(",", ":")))


def decode_pair(kind: str, value: object) -> tuple[str, int] | None:
    raw = decode_raw(value, PAIR_MAX_LENGTH)
    if raw is None or raw[0] != kind:
        return None
    try:
        pair = json.loads(raw[1])
    except ValueError:
        return None
    if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) and type(pair[1]) is int
            and _KEY.fullmatch(str(pair[1]))):
        return None
    name, key = pair
    return (name, key) if encode_pair(kind, name, key) == value else None
