"""Benchmark datasets, written straight through SQL with every trigger and constraint on.

main:  N members, each with a SIGNUP lot and entry and 4 earn/spend pairs (9 entries), plus member 1
       with `heavy` entries (admin +1 / -1 pairs): 100k members give 1M+ entries.
sweep: N members with `lots` one-credit lots each, all due one year after `granted_at`.

Both are written as a database of schema 4 (before the ledger's hash chain), then migrated to this version:
the corrections migration hashes every chain and finds which lots each spend drew from, and the seed reports
how long that took (`migration_seconds`).
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from invite_credits.domain import rules  # noqa: E402
from invite_credits.domain.policy import Policy  # noqa: E402
from invite_credits.store.queries import parse_queries  # noqa: E402
from invite_credits.store.sqlite.connection import connect  # noqa: E402
from invite_credits.store.sqlite.migrations import migrate  # noqa: E402

Q = parse_queries((Path(__file__).with_name("seed.sql")).read_text(), "seed.sql")
DAY = 86400
P = Policy()


LEGACY_SCHEMA = 4  # the schema the seed's SQL writes: the migrations after it run over the seeded data


def _open(path: Path) -> sqlite3.Connection:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    conn = connect(path, "OFF")
    migrate(conn, upto=LEGACY_SCHEMA)
    return conn


def _finish(conn: sqlite3.Connection) -> float:
    """Migrate the seeded database to this version; the seconds it took."""
    started = time.perf_counter()
    migrate(conn)
    seconds = time.perf_counter() - started
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    conn.close()
    return seconds


def _members(n: int, joined_at: int) -> Iterator[dict[str, Any]]:
    for i in range(1, n + 1):
        yield {"id": i, "email": f"m{i}@bench.example", "name": f"Member {i}", "code": f"B{i:07d}",
               "joined_at": joined_at}


def seed_main(path: Path, members: int, heavy: int, now: int | None = None) -> dict[str, Any]:
    now = now or int(time.time())
    base = now - 300 * DAY
    conn = _open(path)
    lots: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    lot_id = entry_id = 0

    def lot(member: int, reason: str, amount: int, remaining: int, at: int) -> int:
        nonlocal lot_id
        lot_id += 1
        lots.append({"id": lot_id, "member_id": member, "reason": reason, "amount": amount, "remaining": remaining,
                     "granted_at": at, "expires_at": rules.expires_at(at, P)})
        return lot_id

    def entry(member: int, reason: str, amount: int, balance: int, at: int, lot: int | None) -> None:
        nonlocal entry_id
        entry_id += 1
        entries.append({"id": entry_id, "member_id": member, "occurred_at": at, "reason": reason, "amount": amount,
                        "balance_after": balance, "lot_id": lot})

    def flush() -> None:
        conn.executemany(Q["bench_lot"].sql, lots)
        conn.executemany(Q["bench_entry"].sql, entries)
        lots.clear()
        entries.clear()

    conn.execute("BEGIN")
    conn.executemany(Q["bench_member"].sql, _members(members, base))
    for m in range(1, members + 1):
        signup = lot(m, "SIGNUP", 15, 15 if m == 1 else 11, base)
        entry(m, "SIGNUP", 15, 15, base, signup)
        if m == 1:
            for j in range(heavy // 2):
                at = base + DAY + j
                lot(1, "ADMIN_ADJUSTMENT", 1, 0, at)
                entry(1, "ADMIN_ADJUSTMENT", 1, 16, at, lot_id)
                entry(1, "ADMIN_ADJUSTMENT", -1, 15, at, None)
        else:
            balance = 15
            for k in range(4):
                at = base + (k + 1) * 20 * DAY
                balance += 1
                entry(m, "DISCUSSION", 1, balance, at, lot(m, "DISCUSSION", 1, 1, at))
                balance -= 1
                entry(m, "INVITATION_SENT", -1, balance, at + 60, None)
        if len(entries) > 50_000:
            flush()
    flush()
    conn.execute("COMMIT")
    seconds = _finish(conn)
    return {"members": members, "lots": lot_id, "entries": entry_id, "migration_seconds": round(seconds, 1)}


def seed_sweep(path: Path, members: int, lots_per_member: int, granted_at: int) -> dict[str, int]:
    conn = _open(path)
    expires = rules.expires_at(granted_at, P)
    lot_id = entry_id = 0
    conn.execute("BEGIN")
    conn.executemany(Q["bench_member"].sql, _members(members, granted_at))
    lots: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    for m in range(1, members + 1):
        for k in range(lots_per_member):
            lot_id += 1
            entry_id += 1
            lots.append({"id": lot_id, "member_id": m, "reason": "ADMIN_ADJUSTMENT", "amount": 1, "remaining": 1,
                         "granted_at": granted_at, "expires_at": expires})
            entries.append({"id": entry_id, "member_id": m, "occurred_at": granted_at, "reason": "ADMIN_ADJUSTMENT",
                            "amount": 1, "balance_after": k + 1, "lot_id": lot_id})
        if len(lots) > 50_000:
            conn.executemany(Q["bench_lot"].sql, lots)
            conn.executemany(Q["bench_entry"].sql, entries)
            lots.clear()
            entries.clear()
    conn.executemany(Q["bench_lot"].sql, lots)
    conn.executemany(Q["bench_entry"].sql, entries)
    conn.execute("COMMIT")
    _finish(conn)
    return {"members": members, "lots": lot_id, "entries": entry_id, "expires_at": expires}


if __name__ == "__main__":
    started = time.perf_counter()
    print(seed_main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])), f"{time.perf_counter() - started:.1f}s")
