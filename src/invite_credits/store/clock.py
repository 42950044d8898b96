"""The stored test clock, and the readiness probe's row."""

from __future__ import annotations

from .protocol import Reader, Tx


def test_time(r: Reader) -> int | None:
    row = r.one("test_clock_get")
    return int(row["now"]) if row else None


def set_test_time(tx: Tx, *, now: int) -> None:
    """Forward only: the database refuses going back."""
    tx.run("test_clock_set", now=now)


def sweep_turn(tx: Tx) -> None:
    """Wait for this transaction's turn to sweep: one sweeper at a time, whichever process it runs in."""
    tx.one("sweep_turn")


def probe(tx: Tx, *, now: int) -> None:
    tx.run("readiness_probe", now=now)
