"""invite-credits benchmark: the real server, a realistic database, load from wrk, references side by side.

    .venv/bin/python bench/run.py                # the full run (records bench/RESULTS.md)
    .venv/bin/python bench/run.py --smoke        # seconds, tiny data: what CI runs so this never rots

Everything is measured in one run, alternating scenarios round by round, and every ratio is
between numbers from this same run. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import resource
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(BENCH))

from seed import seed_main, seed_sweep  # noqa: E402

from invite_credits import auth  # noqa: E402
from invite_credits.domain import ids  # noqa: E402
from invite_credits.domain.access import Actor  # noqa: E402
from invite_credits.service import (
    SendInvitation,
    Service,  # noqa: E402,
)
from invite_credits.store.queries import load_queries  # noqa: E402
from invite_credits.store.sqlite import SqliteTx  # noqa: E402
from invite_credits.store.sqlite.connection import connect  # noqa: E402

SECRET = "bench-secret-long-enough-for-hs256-signatures"
BALANCE = '{"query":"{ viewer { balance { available } } }"}'
LEDGER = '{"query":"{ viewer { ledger(first: 20) { edges { node { id reason amount balanceAfter occurredAt } } } } }"}'
LEDGER_AFTER = ('{"query":"query($a: String) { viewer { ledger(first: 20, after: $a) { edges { node { id reason amount '
                'balanceAfter } } } } }","variables":{"a":"%s"}}')


@dataclass
class Config:
    members: int
    heavy: int
    sweep_members: int
    sweep_lots: int
    seconds: float
    rounds: int
    concurrency: list[int]
    threads: int
    workers: int
    synchronous: str
    work: Path
    offsets: dict[str, int] = field(default_factory=dict)  # per mode: send pairs and contact numbers used so far


@dataclass
class Sample:
    rps: float
    p50_ms: float
    p99_ms: float
    bad: int
    wrk_cpu_s: float


@dataclass
class Results:
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, sample: Sample) -> None:
        self.samples.setdefault(name, []).append(sample)

    def median(self, name: str) -> Sample:
        runs = self.samples[name]
        return Sample(
            rps=statistics.median(s.rps for s in runs), p50_ms=statistics.median(s.p50_ms for s in runs),
            p99_ms=statistics.median(s.p99_ms for s in runs), bad=sum(s.bad for s in runs),
            wrk_cpu_s=statistics.median(s.wrk_cpu_s for s in runs),
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code in (200, 405):
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def start_server(cfg: Config, db: Path | str, *, test_clock: bool = False, workers: int | None = None,
                 **settings: str) -> tuple[subprocess.Popen[bytes], str]:
    """The product, started through the same CLI users run; `settings`: more INVITE_CREDITS_* variables."""
    port = free_port()
    script = Path(sys.executable).with_name("invite-credits")
    env = {**os.environ, "INVITE_CREDITS_JWT_SECRET": SECRET, "INVITE_CREDITS_SYNCHRONOUS": cfg.synchronous,
           "INVITE_CREDITS_SWEEP_INTERVAL": "3600", "INVITE_CREDITS_LOG_LEVEL": "WARNING",
           # Load generators are the scripts rate limits exist to slow: they are off for the measurements.
           "INVITE_CREDITS_MEMBER_MUTATIONS_PER_MINUTE": "0", "INVITE_CREDITS_SIGNUPS_PER_HOUR": "0",
           "INVITE_CREDITS_ANONYMOUS_REQUESTS_PER_MINUTE": "0",
           **{f"INVITE_CREDITS_{k.upper()}": v for k, v in settings.items()}}
    if test_clock:
        env["INVITE_CREDITS_TEST_CLOCK"] = "1"
    process = subprocess.Popen([str(script), "serve", "--db", str(db), "--port", str(port),
                                "--workers", str(workers or cfg.workers)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url + "/healthz", process)
    return process, url


def start_floor(cfg: Config, http: str = "auto", loop: str = "asyncio") -> tuple[subprocess.Popen[bytes], str]:
    """The HTTP floor on the same uvicorn stack (parser and event loop) as the app it is compared with."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "floor:app", "--port", str(port), "--log-level",
                                "warning", "--no-access-log", "--workers", str(cfg.workers), "--http", http,
                                "--loop", loop],
                               cwd=BENCH, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.post(url + "/graphql", content=b"{}", timeout=1)
            return process, url
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def peak_rss_mb(process: subprocess.Popen[bytes]) -> float:
    """Largest resident set of the server and its worker processes, from /proc."""
    pids = [process.pid]
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    peak = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]))
    return peak / 1024


def write_lua_data(path: Path, tokens: list[str], pairs: list[tuple[str, str]]) -> None:
    with path.open("w") as f:
        f.writelines(f"T {t}\n" for t in tokens)
        f.writelines(f"P {t} {i}\n" for t, i in pairs)


def wrk(cfg: Config, url: str, data: Path, mode: str, connections: int, body: str = "") -> Sample:
    threads = min(cfg.threads, connections)
    env = {**os.environ, "BENCH_DATA": str(data), "BENCH_MODE": mode, "BENCH_BODY": body,
           "BENCH_THREADS": str(threads), "BENCH_OFFSET": str(cfg.offsets.get(mode, 0))}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{cfg.seconds:g}s", "--timeout", "10s",
         "-s", str(BENCH / "wrk" / "graphql.lua"), url + "/graphql"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next(x for x in out.splitlines() if x.startswith("BENCH_JSON "))
    r = json.loads(line.removeprefix("BENCH_JSON "))
    if mode != "read":
        cfg.offsets[mode] = r["last"] + 1  # the next run starts past every pair any thread took
    return Sample(rps=r["requests"] / (r["duration_us"] / 1e6), p50_ms=r["p50_us"] / 1000, p99_ms=r["p99_us"] / 1000,
                  bad=r["bad"] + r["socket_errors"],
                  wrk_cpu_s=(after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))


# -- the raw sqlite3 reference ------------------------------------------------------------------------------
class _OneCommitPerWrite:
    """A Database stand-in: the service's own write function, one BEGIN IMMEDIATE ... COMMIT each, in-process."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.queries = load_queries()

    async def write(self, fn: Any, members: Any = ()) -> Any:  # one connection: no member queue to keep
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            value = fn(SqliteTx(self.conn, self.queries, int(time.time())))
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
        return value


def raw_sqlite_sends(cfg: Config, db: Path, pairs: list[tuple[int, int]]) -> float:
    """Sends per second running the send transaction straight on sqlite3, one commit per send."""
    conn = connect(db, cfg.synchronous)
    service = Service(_OneCommitPerWrite(conn))  # type: ignore[arg-type]

    async def run() -> float:
        done = 0
        started = time.perf_counter()
        for inviter, invitee in pairs:
            await service.send_invitation(Actor(inviter), SendInvitation(invitee, None))
            done += 1
            if time.perf_counter() - started > cfg.seconds:
                break
        return done / (time.perf_counter() - started)

    try:
        return asyncio.run(run())
    finally:
        conn.close()


def minter(db: Path) -> Any:
    """Member tokens for a seeded database: each names the member's session key, as the server checks."""
    with sqlite3.connect(db) as conn:
        keys = dict(conn.execute("SELECT id, session_key FROM members"))

    def token(member: int) -> str:
        return auth.member_token(SECRET, member, keys[member], 3600 * 6)

    return token


# -- the run ------------------------------------------------------------------------------------------------
def main_benchmarks(cfg: Config, results: Results) -> None:
    db = cfg.work / "bench.db"
    started = time.perf_counter()
    seeded = seed_main(db, cfg.members, cfg.heavy)
    results.notes["seed"] = {**seeded, "seconds": round(time.perf_counter() - started, 1)}
    light = list(range(2, cfg.members + 1))
    token = minter(db)
    tokens = [token(m) for m in light[:2000]]
    # Senders 2.. each invite the next ten members: every pair is new and never reversed.
    send_pairs = [(s, s + k) for s in light for k in range(1, 11) if s + k <= cfg.members]
    cut = min(100_000, len(send_pairs) // 2)
    http_pairs, raw_pairs = send_pairs[:cut], send_pairs[cut:]
    data = cfg.work / "data.txt"
    write_lua_data(data, tokens, [(token(s), ids.encode("Member", i)) for s, i in http_pairs])

    floor, floor_url = start_floor(cfg)
    server, url = start_server(cfg, db)
    try:
        scenarios: list[tuple[str, str, str, str]] = [
            ("floor", floor_url, "read", BALANCE),
            ("a_balance", url, "read", BALANCE),
            ("b_ledger", url, "read", LEDGER),
            ("c_send", url, "send", ""),
            ("d_import", url, "import", ""),
        ]
        for round_ in range(cfg.rounds):
            for c in cfg.concurrency:
                for name, target, mode, body in scenarios:
                    results.add(f"{name}@{c}", wrk(cfg, target, data, mode, c, body))
            # The raw sqlite3 reference runs between rounds, on the same file, at the same synchronous setting.
            chunk = len(raw_pairs) // cfg.rounds
            results.add("raw_sqlite_send", Sample(raw_sqlite_sends(cfg, db, raw_pairs[round_ * chunk:(round_ + 1) * chunk]),
                                                  0, 0, 0, 0))
            deep_reads(cfg, results, url)
        results.notes["peak_rss_mb"] = round(peak_rss_mb(server), 1)
    finally:
        stop(server)
        stop(floor)
    results.notes["check"] = subprocess.run([str(Path(sys.executable).with_name("invite-credits")), "check", "--db",
                                             str(db)], capture_output=True, text=True).stdout.strip().splitlines()[-1]


def deep_reads(cfg: Config, results: Results, url: str) -> None:
    """Balance and a ledger page 5,000 entries deep: member 1 (heavy) against a member with 9 entries."""
    conn = sqlite3.connect(cfg.work / "bench.db")
    for label, member in (("heavy", 1), ("light", 2)):
        count = conn.execute("SELECT count(*) FROM ledger_entries WHERE member_id = ?", (member,)).fetchone()[0]
        depth = min(5000, max(count - 20, 0))
        row = conn.execute("SELECT id FROM ledger_entries WHERE member_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?",
                           (member, max(depth - 1, 0))).fetchone()
        cursor = ids.encode("LedgerEntryCursor", row[0]) if depth else ""
        data = cfg.work / f"deep-{label}.txt"
        write_lua_data(data, [minter(cfg.work / "bench.db")(member)], [])
        results.add(f"deep_balance_{label}", wrk(cfg, url, data, "read", 16, BALANCE))
        body = LEDGER_AFTER % cursor if depth else LEDGER  # a member with 9 entries has only a first page
        results.add(f"deep_ledger_{label}", wrk(cfg, url, data, "read", 16, body))
        results.notes[f"deep_{label}_entries"] = count
    conn.close()


def sweep_benchmark(cfg: Config, results: Results) -> None:
    """Write `sweep_members x sweep_lots` due expiries through advanceTestClock while reads go on."""
    db = cfg.work / "sweep.db"
    granted_at = int(time.time()) - 400 * 86400  # expired already: the test clock starts at real time
    # Lots must not be due when the server starts (its first sweep would take them): grant them in the future.
    granted_at = int(time.time()) + 86400
    info = seed_sweep(db, cfg.sweep_members, cfg.sweep_lots, granted_at)
    server, url = start_server(cfg, db, test_clock=True)
    try:
        data = cfg.work / "sweep.txt"
        token = minter(db)
        write_lua_data(data, [token(m) for m in range(1, min(cfg.sweep_members, 2000) + 1)], [])
        idle = wrk(cfg, url, data, "read", 16, BALANCE)
        admin = auth.admin_token(SECRET, 3600)
        to = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(info["expires_at"] + 60))
        reader = subprocess.Popen(
            ["wrk", "-t", "2", "-c", "16", "-d", "600s", "--timeout", "10s", "-s", str(BENCH / "wrk" / "graphql.lua"),
             url + "/graphql"],
            env={**os.environ, "BENCH_DATA": str(data), "BENCH_MODE": "read", "BENCH_BODY": BALANCE,
                 "BENCH_THREADS": "2"}, stdout=subprocess.PIPE, text=True)
        time.sleep(1)
        started = time.perf_counter()
        response = httpx.post(url + "/graphql", timeout=600, headers={"authorization": f"Bearer {admin}"},
                              json={"query": "mutation($to: DateTime!) { advanceTestClock(input: {to: $to}) { now userErrors { code } } }",
                                    "variables": {"to": to}})
        elapsed = time.perf_counter() - started
        reader.send_signal(2)  # wrk prints its summary on SIGINT
        out, _ = reader.communicate(timeout=60)
        assert response.json()["data"]["advanceTestClock"]["userErrors"] == [], response.text
        line = next(x for x in out.splitlines() if x.startswith("BENCH_JSON "))
        r = json.loads(line.removeprefix("BENCH_JSON "))
        during = Sample(rps=r["requests"] / (r["duration_us"] / 1e6), p50_ms=r["p50_us"] / 1000,
                        p99_ms=r["p99_us"] / 1000, bad=r["bad"], wrk_cpu_s=0)
    finally:
        stop(server)
    written = sqlite3.connect(db).execute("SELECT count(*) FROM ledger_entries WHERE reason = 'EXPIRED'").fetchone()[0]
    # The same sweep with nothing else running: in-process, no HTTP, no readers.
    seed_sweep(db, cfg.sweep_members, cfg.sweep_lots, int(time.time()) - 400 * 86400)
    results.notes["sweep_alone_seconds"] = round(asyncio.run(_sweep_alone(cfg, db)), 2)
    results.notes["sweep"] = {"lots": info["lots"], "written": written, "seconds": round(elapsed, 2),
                              "idle_p99_ms": round(idle.p99_ms, 2), "during_p99_ms": round(during.p99_ms, 2),
                              "idle_rps": round(idle.rps), "during_rps": round(during.rps)}


async def _sweep_alone(cfg: Config, db: Path) -> float:
    from invite_credits.store.sqlite.database import Database

    database = Database(db, synchronous=cfg.synchronous)
    await database.open()
    try:
        started = time.perf_counter()
        report = await Service(database).sweep()
        assert report.lots == cfg.sweep_members * cfg.sweep_lots, report
        return time.perf_counter() - started
    finally:
        await database.close()


def seeded(cfg: Config, name: str, *, sends: bool = False) -> tuple[Path, Path]:
    """The comparison modes' database (the main seed) and wrk's data: tokens of up to 2,000 light members and,
    with `sends`, invitation pairs among them."""
    db = cfg.work / f"{name}.db"
    seed_main(db, cfg.members, cfg.heavy)
    light = list(range(2, cfg.members + 1))
    pairs = [(s, s + k) for s in light for k in range(1, 11) if s + k <= cfg.members] if sends else []
    data = cfg.work / f"{name}.txt"
    token = minter(db)
    write_lua_data(data, [token(m) for m in light[:2000]], [(token(s), ids.encode("Member", i)) for s, i in pairs])
    return db, data


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def corrections(cfg: Config, results: Results, admin_url: str | None) -> str:
    """Issue 23's numbers: the corrections migration over the main seed (1M entries), balanceHistory over a year
    by day for the heavy member (100,000 entries), the CSV export of that member with the server's RSS growth,
    and `copy` of the migrated seed to PostgreSQL (hashes included) when ADMIN_URL is given."""
    from invite_credits.domain.policy import HistoryInterval
    from invite_credits.service import Service
    from invite_credits.store.sqlite.database import Database

    db = cfg.work / "corrections.db"
    seeded = seed_main(db, cfg.members, cfg.heavy)
    lines = [f"Data: {seeded['members']:,} members, {seeded['entries']:,} entries, {seeded['lots']:,} lots "
             f"(member 1: {cfg.heavy:,} entries)", "", "| measure | result | goal |", "|---|---|---|",
             f"| corrections migration (hashes, draws) over the seed, SQLite | {seeded['migration_seconds']:.1f} s "
             "| <= 60 s |"]

    async def history() -> tuple[float, int]:
        store = Database(db, synchronous="NORMAL")
        await store.open()
        try:
            service = Service(store)
            member = service.member(1)
            assert member is not None
            now = service.now()
            times = []
            for _ in range(5):
                started = time.perf_counter()
                points = await service.balance_history(member, now - 365 * 86400, now, HistoryInterval.DAY)
                times.append(time.perf_counter() - started)
            return statistics.median(times), len(points)
        finally:
            await store.close()

    seconds, points = asyncio.run(history())
    lines.append(f"| balanceHistory, a year by day ({points} points), member of {cfg.heavy:,} entries | "
                 f"{seconds * 1000:.1f} ms (2 statements) | bounded statements |")
    server, url = start_server(cfg, db)
    try:
        admin = auth.admin_token(SECRET, 3600)
        httpx.get(url + "/ledger.csv", params={"memberId": ids.encode("Member", 2)},
                  headers={"authorization": f"Bearer {admin}"}, timeout=60)  # warm: the first request's imports
        before = _rss_mb(server.pid)
        peak, rows, started = before, 0, time.perf_counter()
        with httpx.stream("GET", url + "/ledger.csv", params={"memberId": ids.encode("Member", 1)},
                          headers={"authorization": f"Bearer {admin}"}, timeout=300) as response:
            for _line in response.iter_lines():
                rows += 1
                if rows % 5000 == 0:
                    peak = max(peak, _rss_mb(server.pid))
        elapsed = time.perf_counter() - started
        peak = max(peak, _rss_mb(server.pid))
    finally:
        stop(server)
    lines.append(f"| GET /ledger.csv of member 1 ({rows - 1:,} rows) | {elapsed:.1f} s, RSS {before:.0f} -> "
                 f"{peak:.0f} MB (+{peak - before:.1f}) | < +20 MB |")
    if admin_url:
        import psycopg

        from invite_credits.store.copy import copy_sqlite_to_postgres

        name = f"ic_bench_copy_{os.getpid()}"
        base = admin_url.rsplit("/", 1)[0]
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"'.encode())
        try:
            started = time.perf_counter()
            copy_sqlite_to_postgres(db, f"{base}/{name}", progress=False)
            lines.append(f"| copy of the migrated seed to PostgreSQL (every hash carried, every chain trigger run) | "
                         f"{time.perf_counter() - started:.0f} s | (reference) |")
        finally:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
    return "\n".join(lines) + "\n"


def webhooks(cfg: Config, results: Results) -> str:
    """Issue 24: how many webhooks one server process delivers a second to a local receiver (the HTTP floor,
    answering 200), signed, leased and recorded as in production; N events made at once, all to one endpoint."""
    events = 2_000 if cfg.members < 10_000 else 20_000
    db = cfg.work / "webhooks.db"
    receiver, receiver_url = start_floor(cfg)
    server, url = start_server(cfg, db, workers=1, webhook_allow_private="1")
    try:
        admin = auth.admin_token(SECRET, 3600)
        made = httpx.post(url + "/graphql", headers={"authorization": f"Bearer {admin}"}, timeout=30, json={
            "query": "mutation($u: String!) { createWebhookEndpoint(input: {url: $u, eventTypes: [MEMBER_TIER_CHANGED]})"
                     " { endpoint { id } userErrors { code } } }", "variables": {"u": receiver_url + "/graphql"}})
        assert made.json()["data"]["createWebhookEndpoint"]["userErrors"] == [], made.text
        conn = sqlite3.connect(db, timeout=30)
        with conn:
            conn.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
                         "INSERT INTO events (type, occurred_at, member_id, data) "
                         "SELECT 'MEMBER_TIER_CHANGED', CAST(strftime('%s', 'now') AS INTEGER), NULL, "
                         "'{\"member\": 1, \"before\": \"FREE\", \"after\": \"PREMIUM\"}' FROM n", (events,))
        started = time.perf_counter()
        done = 0
        while done < events and time.perf_counter() - started < 600:
            time.sleep(0.5)
            done = conn.execute("SELECT count(*) FROM webhook_deliveries WHERE status = 'SUCCEEDED'").fetchone()[0]
        elapsed = time.perf_counter() - started
        failed = conn.execute("SELECT count(*) FROM webhook_deliveries WHERE status <> 'SUCCEEDED'").fetchone()[0]
        conn.close()
        cpu = cpu_seconds(server)
    finally:
        stop(server)
        stop(receiver)
    rate = done / elapsed
    results.notes["webhooks_per_second"] = round(rate)
    return (f"| webhooks delivered by one process to a local receiver ({events:,} events, one endpoint) | "
            f"{rate:,.0f}/s ({done:,} in {elapsed:.1f} s, {failed} not yet succeeded; server CPU {cpu:.1f} s) "
            f"| >= 500/s |\n")


def compare_workers(cfg: Config, results: Results) -> str:
    """One and two server processes on one database, alternating in one run: one client's latency (a stall
    per kept-alive response would show here), and balance reads and sends at 16 clients."""
    db, data = seeded(cfg, "workers", sends=True)
    for _ in range(cfg.rounds):
        for workers in (1, 2):
            server, url = start_server(cfg, db, workers=workers)
            try:
                results.add(f"w{workers}_balance@1", wrk(cfg, url, data, "read", 1, BALANCE))
                results.add(f"w{workers}_balance@16", wrk(cfg, url, data, "read", 16, BALANCE))
                results.add(f"w{workers}_send@16", wrk(cfg, url, data, "send", 16, ""))
            finally:
                stop(server)
    m = results.median
    lines = ["| workers | balance, 1 client: req/s | p50 ms | balance, 16 clients: req/s | p99 ms "
             "| sends, 16 clients: req/s | p99 ms |", "|---|---|---|---|---|---|---|"]
    for w in (1, 2):
        one, many, send = m(f"w{w}_balance@1"), m(f"w{w}_balance@16"), m(f"w{w}_send@16")
        lines.append(f"| {w} | {one.rps:,.0f} | {one.p50_ms:.2f} | {many.rps:,.0f} | {many.p99_ms:.1f} "
                     f"| {send.rps:,.0f} | {send.p99_ms:.1f} |")
    p50 = m("w2_balance@1").p50_ms / m("w1_balance@1").p50_ms
    reads = m("w2_balance@16").rps / m("w1_balance@16").rps
    lines += ["", f"One client's p50 with 2 workers / 1 worker: {p50:.2f}x (goal: within 2x). "
                  f"Balance req/s at 16 clients, 2 workers / 1: {reads:.2f}x.",
              f"Data: {cfg.members:,} members; {cfg.rounds} rounds of {cfg.seconds:g} s, alternating, medians; "
              f"wrk -t{cfg.threads} on the same 2 cores."]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def scratch_postgres(admin_url: str, label: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database made through `admin_url`, dropped afterwards."""
    import psycopg

    name = f"ic_bench_{label}_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def compare_stores(cfg: Config, results: Results, admin_url: str) -> str:
    """The same seeded database on SQLite and on PostgreSQL (copied), 1 and 2 server processes each, alternating
    in one run: balance reads and sends at 16 clients; then where one request's time goes, in-process."""

    from invite_credits.store.copy import copy_sqlite_to_postgres

    db, data = seeded(cfg, "stores", sends=True)
    with scratch_postgres(admin_url, "stores") as url:
        copy_sqlite_to_postgres(db, url, progress=False)
        stores: list[tuple[str, Path | str]] = [("SQLite", db), ("PostgreSQL", url)]
        for _ in range(cfg.rounds):
            for label, where in stores:
                for workers in (1, 2):
                    server, server_url = start_server(cfg, where, workers=workers)
                    try:
                        results.add(f"{label}{workers}_balance", wrk(cfg, server_url, data, "read", 16, BALANCE))
                        results.add(f"{label}{workers}_send", wrk(cfg, server_url, data, "send", 16, ""))
                    finally:
                        stop(server)
        profile = asyncio.run(_request_profile(db, url))
    m = results.median
    lines = ["| store | processes | balance, 16 clients: req/s | p99 ms | sends, 16 clients: req/s | p99 ms |",
             "|---|---|---|---|---|---|"]
    for label, _ in stores:
        for w in (1, 2):
            bal, send = m(f"{label}{w}_balance"), m(f"{label}{w}_send")
            lines.append(f"| {label} | {w} | {bal.rps:,.0f} | {bal.p99_ms:.1f} | {send.rps:,.0f} | {send.p99_ms:.1f} |")
    lines += ["", "Where one request's time goes, in-process (the service call alone, no HTTP or GraphQL; "
                  "microseconds per call, median of 5 x 2,000 reads / 5 x 200 sends):", "",
              "| call | SQLite | PostgreSQL |", "|---|---|---|"]
    for call, (lite, post) in profile.items():
        lines.append(f"| {call} | {lite:.0f} us | {post:.0f} us |")
    lines += ["", f"Data: {cfg.members:,} members (the bench seed, copied to PostgreSQL with `copy`); {cfg.rounds} "
                  f"rounds of {cfg.seconds:g} s, alternating, medians; wrk -t{cfg.threads}; PostgreSQL 15 on the "
                  "same 2 cores, default settings (fsync on, synchronous_commit on); SQLite synchronous="
                  f"{cfg.synchronous}."]
    return "\n".join(lines) + "\n"


async def _request_profile(db: Path, url: str) -> dict[str, tuple[float, float]]:
    """Median microseconds per service call on each store: a balance read and a send."""
    from invite_credits import store as _store  # noqa: F401
    from invite_credits.store.postgres import Database as PgDatabase
    from invite_credits.store.sqlite.database import Database as LiteDatabase

    timings: dict[str, list[float]] = {}
    for label, store in (("SQLite", LiteDatabase(db, synchronous="FULL")), ("PostgreSQL", PgDatabase(url))):
        await store.open()
        service = Service(store)
        try:
            member = service.member(3)
            assert member is not None
            reads, sends = [], []
            for round_ in range(5):
                started = time.perf_counter()
                for _ in range(2000):
                    service.balance(member)
                reads.append((time.perf_counter() - started) / 2000 * 1e6)
                started = time.perf_counter()
                for k in range(200):
                    invitee = 1000 + round_ * 200 + k
                    try:
                        await service.send_invitation(Actor(member_id=5000 + k % 50), SendInvitation(invitee))
                    except Exception:  # noqa: BLE001 - a refusal costs the same round trips; it is still timed
                        pass
                sends.append((time.perf_counter() - started) / 200 * 1e6)
            timings[f"balance read ({label})"] = reads
            timings[f"send, one client ({label})"] = sends
        finally:
            await store.close()
    return {"balance read": (statistics.median(timings["balance read (SQLite)"]),
                             statistics.median(timings["balance read (PostgreSQL)"])),
            "sendInvitation, one at a time": (statistics.median(timings["send, one client (SQLite)"]),
                                              statistics.median(timings["send, one client (PostgreSQL)"]))}


STACKS = [("h11", "asyncio"), ("httptools", "asyncio"), ("h11", "uvloop"), ("httptools", "uvloop")]


def compare_stacks(cfg: Config, results: Results) -> str:
    """uvicorn's HTTP parsers and event loops, each with its own floor, alternating in one run: balance reads
    and a 20-entry ledger page at 16 clients, and the floor (constant JSON) on the same stack."""
    db, data = seeded(cfg, "stacks")
    for _ in range(cfg.rounds):
        for http, loop in STACKS:
            floor, floor_url = start_floor(cfg, http, loop)
            try:
                results.add(f"{http}/{loop}_floor", wrk(cfg, floor_url, data, "read", 16, BALANCE))
            finally:
                stop(floor)
            for plans in ("1", "0"):
                server, url = start_server(cfg, db, http=http, loop=loop, compiled_plans=plans)
                try:
                    results.add(f"{http}/{loop}_balance_{plans}", wrk(cfg, url, data, "read", 16, BALANCE))
                    results.add(f"{http}/{loop}_ledger_{plans}", wrk(cfg, url, data, "read", 16, LEDGER))
                finally:
                    stop(server)
    m = results.median
    lines = ["| parser / loop | floor req/s | balance req/s (x floor) | ledger(first: 20) req/s (x floor) "
             "| without plans: balance (x floor) | ledger (x floor) |", "|---|---|---|---|---|---|"]
    for http, loop in STACKS:
        s = f"{http}/{loop}"
        floor_rps = m(f"{s}_floor").rps
        cells = [f"{m(f'{s}_{q}_{p}').rps:,.0f} ({m(f'{s}_{q}_{p}').rps / floor_rps:.2f}x)"
                 for p in ("1", "0") for q in ("balance", "ledger")]
        lines.append(f"| {s} | {floor_rps:,.0f} | {' | '.join(cells)} |")
    base = m("h11/asyncio_balance_1").rps
    best = max(STACKS, key=lambda st: m(f"{st[0]}/{st[1]}_balance_1").rps)
    lines += ["", f"Fastest for the app: {best[0]}/{best[1]}, balance {m(f'{best[0]}/{best[1]}_balance_1').rps / base:.2f}x "
                  "h11/asyncio's.",
              f"Data: {cfg.members:,} members; {cfg.rounds} rounds of {cfg.seconds:g} s, alternating, medians; "
              f"one process each; wrk -t{cfg.threads} -c16 on the same 2 cores."]
    return "\n".join(lines) + "\n"


PEERS = BENCH / "peers"
PEERS_VENV = BENCH / ".peers" / "venv"
PEER_PACKAGES = ["ariadne==1.1.1", "uvicorn==0.38.0", "httptools", "uvloop", "PyJWT==2.10.1"]


def cpu_seconds(process: subprocess.Popen[bytes]) -> float:
    """User + system CPU of a server process and its children so far, from /proc."""
    pids = [process.pid]
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _peer_servers(db: Path) -> dict[str, list[str]]:
    """The peers' commands (each with {port}), installing what they need the first time."""
    servers: dict[str, list[str]] = {}
    python = PEERS_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PEER_PACKAGES], check=True)
    servers["Ariadne (Python)"] = [str(python), "-m", "uvicorn", "ariadne_app:app", "--port", "{port}", "--http",
                                   "httptools", "--loop", "asyncio", "--log-level", "warning", "--no-access-log"]
    node = shutil.which("node")
    if node and shutil.which("npm"):
        if not (PEERS / "mercurius" / "node_modules").exists():
            subprocess.run(["npm", "ci", "--prefix", str(PEERS / "mercurius"), "--no-audit", "--no-fund",
                            "--loglevel=error"], check=True)
        servers["Mercurius jit:1 (Node)"] = [node, str(PEERS / "mercurius" / "server.js"), "{port}", str(db), SECRET]
    return servers


def compare_peers(cfg: Config, results: Results) -> str:
    """The app, the peers and the floor on the balance query, one process each, alternating in one run, with
    each server's CPU per request."""
    db, data = seeded(cfg, "peers")
    peers = _peer_servers(db)
    env = {**os.environ, "BENCH_DB": str(db), "BENCH_SECRET": SECRET}
    cpu: dict[str, list[float]] = {}
    app = "invite-credits (logs and metrics on)"
    ledger = "invite-credits: ledger(first: 20)"
    bodies = {ledger: LEDGER}
    for _ in range(cfg.rounds):
        # The app writes its request log line (INFO), as in production; the peers write none.
        runs: list[tuple[str, Any]] = [("floor (Starlette, constant JSON)", lambda: start_floor(cfg, "httptools", "asyncio")),
                                       (app, lambda: start_server(cfg, db, log_level="INFO")),
                                       (ledger, lambda: start_server(cfg, db, log_level="INFO"))]
        for name, command in peers.items():
            def start(command: list[str] = command, name: str = name) -> tuple[subprocess.Popen[bytes], str]:
                port = free_port()
                process = subprocess.Popen([part.replace("{port}", str(port)) for part in command], cwd=PEERS, env=env,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                url = f"http://127.0.0.1:{port}"
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    try:
                        httpx.post(url + "/graphql", content=BALANCE, headers={"content-type": "application/json"},
                                   timeout=1)
                        return process, url
                    except httpx.HTTPError:
                        time.sleep(0.2)
                raise RuntimeError(f"{name} did not come up")
            runs.append((name, start))
        for name, start_one in runs:
            process, url = start_one()
            try:
                before = cpu_seconds(process)
                sample = wrk(cfg, url, data, "read", 16, bodies.get(name, BALANCE))
                results.add(name, sample)
                cpu.setdefault(name, []).append((cpu_seconds(process) - before) / max(sample.rps * cfg.seconds, 1))
            finally:
                stop(process)
    m = results.median
    floor = m("floor (Starlette, constant JSON)").rps
    lines = ["| server | req/s (balance unless named) | x Python floor | p99 ms | server CPU per request |",
             "|---|---|---|---|---|"]
    for name in cpu:
        s = m(name)
        lines.append(f"| {name} | {s.rps:,.0f} | {s.rps / floor:.2f}x | {s.p99_ms:.1f} | "
                     f"{statistics.median(cpu[name]) * 1e6:.0f} us |")
    ariadne = results.samples.get("Ariadne (Python)")
    if ariadne:
        lines += ["", f"Issue 21, item 8: balance {m(app).rps / m('Ariadne (Python)').rps:.2f}x Ariadne's req/s "
                      f"(target 1.3x); the ledger page {m(ledger).rps / floor:.3f}x the floor (target 0.15x)."]
    lines += ["", f"Data: {cfg.members:,} members, the same SQLite file and balance SQL for every server; HS256 "
                  f"verified per request; httptools + asyncio for the Python servers (as the app); {cfg.rounds} rounds of "
                  f"{cfg.seconds:g} s, alternating, medians; wrk -t{cfg.threads} -c16 on the same 2 cores."]
    return "\n".join(lines) + "\n"


def record_head(text: str) -> None:
    """Replace the full run at the top of RESULTS.md (before its first `## ` section), keeping the sections."""
    path = BENCH / "RESULTS.md"
    current = path.read_text() if path.exists() else ""
    sections = current[current.index("\n## "):] if "\n## " in current else ""
    path.write_text("# Benchmark results\n\n" + text.rstrip() + "\n" + sections)


def record_section(title: str, text: str) -> None:
    """Replace (or add) one `## title` section of RESULTS.md, keeping the rest."""
    path = BENCH / "RESULTS.md"
    current = path.read_text() if path.exists() else "# Benchmark results\n"
    head = f"## {title}\n"
    if head in current:
        before, _, rest = current.partition(head)
        after = rest[rest.find("\n## "):] if "\n## " in rest else ""
        current = before + head + "\n" + text + after
    else:
        current = current.rstrip() + "\n\n" + head + "\n" + text
    path.write_text(current)


# -- the report ---------------------------------------------------------------------------------------------
def report(cfg: Config, results: Results, command: str) -> str:
    m = results.median
    lines = [f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} "
             f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, {platform.platform()}",
             f"Command: `{command}`",
             f"Settings: synchronous={cfg.synchronous}, workers={cfg.workers}, {cfg.rounds} rounds of {cfg.seconds:g} s "
             f"per scenario (medians), wrk -t{cfg.threads}",
             f"Data: {results.notes['seed']}", "",
             "| scenario | clients | req/s | p50 ms | p99 ms | bad | wrk CPU s |", "|---|---|---|---|---|---|---|"]
    for c in cfg.concurrency:
        for name in ("floor", "a_balance", "b_ledger", "c_send", "d_import"):
            s = m(f"{name}@{c}")
            lines.append(f"| {name} | {c} | {s.rps:,.0f} | {s.p50_ms:.1f} | {s.p99_ms:.1f} | {s.bad} | {s.wrk_cpu_s:.1f} |")
    raw = m("raw_sqlite_send").rps
    top = max(cfg.concurrency)
    mid = 16 if 16 in cfg.concurrency else cfg.concurrency[len(cfg.concurrency) // 2]
    ratio_a = m(f"a_balance@{mid}").rps / m(f"floor@{mid}").rps
    ratio_c = m(f"c_send@{top}").rps / raw
    deep_b = m("deep_balance_heavy").rps / m("deep_balance_light").rps
    deep_l = m("deep_ledger_heavy").rps / m("deep_ledger_light").rps
    read_p99 = max(m(f"a_balance@{top}").p99_ms, m(f"b_ledger@{top}").p99_ms)
    write_p99 = max(m(f"c_send@{top}").p99_ms, m(f"d_import@{top}").p99_ms)
    sweep = results.notes.get("sweep", {})
    lines += ["", f"Raw sqlite3, the send transaction in-process, one commit per send: {raw:,.0f}/s", "",
              "| target | measured | goal | met |", "|---|---|---|---|",
              f"| (a) balance / HTTP floor at c={mid} | {ratio_a:.2f}x | >= 0.5x | {'yes' if ratio_a >= 0.5 else 'no'} |",
              f"| (c) sendInvitation at c={top} / raw sqlite3 | {ratio_c:.2f}x | >= 1.0x | {'yes' if ratio_c >= 1.0 else 'no'} |",
              f"| read p99 at c={top} | {read_p99:.1f} ms | <= 50 ms | {'yes' if read_p99 <= 50 else 'no'} |",
              f"| write p99 at c={top} | {write_p99:.1f} ms | <= 100 ms | {'yes' if write_p99 <= 100 else 'no'} |",
              f"| balance, heavy / light member (req/s) | {deep_b:.2f}x | >= 0.83x (within 1.2x) | {'yes' if deep_b >= 1 / 1.2 else 'no'} |",
              f"| ledger 5,000 deep, heavy / light (req/s) | {deep_l:.2f}x | >= 0.83x (within 1.2x) | {'yes' if deep_l >= 1 / 1.2 else 'no'} |"]
    if sweep:
        ok_time = sweep["seconds"] <= 30 * sweep["lots"] / 1_000_000
        ratio = sweep["during_p99_ms"] / max(sweep["idle_p99_ms"], 0.001)
        alone = results.notes.get("sweep_alone_seconds", 0)
        lines += [f"| sweep of {sweep['lots']:,} due lots, reads going on | {sweep['seconds']:.1f} s | <= 30 s per 1M | {'yes' if ok_time else 'no'} |",
                  f"| the same sweep alone (in-process, no load) | {alone:.1f} s | (reference) | |",
                  f"| read p99 during sweep / idle | {ratio:.2f}x ({sweep['during_p99_ms']} / {sweep['idle_p99_ms']} ms) | <= 2x | {'yes' if ratio <= 2 else 'no'} |"]
    rss = results.notes.get("peak_rss_mb", 0)
    lines += [f"| peak server RSS | {rss:.0f} MB | <= 250 MB | {'yes' if rss <= 250 else 'no'} |", "",
              f"Notes: {json.dumps({k: v for k, v in results.notes.items() if k not in ('seed',)})}"]
    return "\n".join(lines) + "\n"


def _plans(cfg: Config, results: Results) -> str:
    from plans import compare_plans

    text: str = compare_plans(cfg, results)
    return text


def _against(cfg: Config, results: Results, args: Any) -> str:
    from against import compare_code

    text: str = compare_code(cfg, results, args.against, "postgresql://postgres@127.0.0.1/postgres")
    return text


# flag, RESULTS.md section, runner: the modes that measure one comparison in one run.
COMPARISONS: list[tuple[str, str, Any]] = [
    ("compare_workers", "Workers: one process and two, in one run", lambda cfg, r, _: compare_workers(cfg, r)),
    ("peers", "Peers: the balance query on Ariadne and Mercurius, in one run", lambda cfg, r, _: compare_peers(cfg, r)),
    ("compare_stacks", "HTTP stacks: parser and event loop, each with its own floor",
     lambda cfg, r, _: compare_stacks(cfg, r)),
    ("compare_stores", "SQLite and PostgreSQL, one and two processes, in one run",
     lambda cfg, r, args: compare_stores(cfg, r, args.compare_stores)),
    ("compare_plans", "Compiled plans on the one pipeline, on and off, in one run",
     lambda cfg, r, _: _plans(cfg, r)),
    ("against", "This code against an earlier checkout, on both stores, in one run",
     lambda cfg, r, args: _against(cfg, r, args)),
    ("webhooks", "Webhooks: deliveries per second from one process",
     lambda cfg, r, _: webhooks(cfg, r)),
    ("corrections", "Corrections, history and tamper evidence: the migration, balanceHistory, the CSV export",
     lambda cfg, r, args: corrections(cfg, r, args.corrections or None)),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny data, one short round: checks the harness")
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--synchronous", default="FULL")
    parser.add_argument("--no-sweep", action="store_true")
    parser.add_argument("--only-sweep", action="store_true", help="just the expiry sweep scenario")
    parser.add_argument("--compare-workers", action="store_true", help="only: 1 and 2 server processes, one run")
    parser.add_argument("--compare-stores", metavar="ADMIN_URL", nargs="?", const="postgresql://postgres@127.0.0.1/postgres",
                        help="only: SQLite and PostgreSQL (a database made through ADMIN_URL), 1 and 2 processes")
    parser.add_argument("--compare-stacks", action="store_true",
                        help="only: h11/httptools x asyncio/uvloop, app and floor on each, one run")
    parser.add_argument("--peers", action="store_true",
                        help="only: the app, Ariadne and Mercurius (bench/peers) and the floor on one query, one run")
    parser.add_argument("--corrections", metavar="ADMIN_URL", nargs="?", const="",
                        help="only: the corrections migration, balanceHistory and the CSV export on the main seed "
                             "(and copy to PostgreSQL through ADMIN_URL, when given); needs no wrk")
    parser.add_argument("--webhooks", action="store_true",
                        help="only: webhooks delivered per second by one process to a local receiver")
    parser.add_argument("--compare-plans", action="store_true",
                        help="only: compiled plans on and off, balance and a ledger page, one run")
    parser.add_argument("--against", metavar="SRC",
                        help="only: this code against an earlier checkout's src/ (servers started with PYTHONPATH=SRC) "
                             "on SQLite and PostgreSQL (postgresql://postgres@127.0.0.1/postgres), one run")
    parser.add_argument("--record", action="store_true", help="write bench/RESULTS.md")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None and args.corrections is None:
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="invite-credits-bench-"))
    if args.smoke:
        cfg = Config(members=3000, heavy=200, sweep_members=100, sweep_lots=5, seconds=args.seconds or 1,
                     rounds=args.rounds or 1, concurrency=[1, 4], threads=2, workers=args.workers,
                     synchronous=args.synchronous, work=work)
    else:
        cfg = Config(members=100_000, heavy=100_020, sweep_members=100_000, sweep_lots=10,
                     seconds=args.seconds or 8, rounds=args.rounds or 3, concurrency=[1, 16, 64], threads=2,
                     workers=args.workers, synchronous=args.synchronous, work=work)
    results = Results()
    try:
        comparison = next(((title, run) for flag, title, run in COMPARISONS if getattr(args, flag)), None)
        if comparison is not None:
            title, run = comparison
            if not args.smoke and args.corrections is None and not args.webhooks:  # a comparison alternates many servers: 20,000 members
                cfg.members, cfg.heavy, cfg.concurrency = 20_000, 200, [1, 16]
            text = run(cfg, results, args)
            print(text)
            if args.record:
                record_section(title, f"Command: `bench/run.py "
                               f"{' '.join(argv if argv is not None else sys.argv[1:])}`\n\n{text}")
            return 0
        if args.only_sweep:
            sweep_benchmark(cfg, results)
            print(json.dumps(results.notes["sweep"]))
            return 0
        main_benchmarks(cfg, results)
        if not args.no_sweep:
            sweep_benchmark(cfg, results)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = report(cfg, results, " ".join(["bench/run.py", *(argv if argv is not None else sys.argv[1:])]))
    print(text)
    if args.record:
        record_head(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
