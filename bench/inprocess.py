"""One request's cost inside the server process: the app called as an ASGI function in a loop, no HTTP parser,
no socket, no load generator on the same cores. Medians of microseconds per request; they move about 1% between
runs where wrk's requests per second move 10%. What it leaves out (uvicorn, the kernel) is the same for every
version of the code, so it says what a change did to our own code; bench/run.py says what a client sees.

    .venv/bin/python bench/inprocess.py                            # this checkout
    .venv/bin/python bench/inprocess.py --against /tmp/old/src     # and an earlier checkout's src/, alternating

Each code runs in a process of its own (its `src/` first on the path) with the request log line written (to
/dev/null) and metrics on, on the same seeded SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
QUERIES = {
    "balance": "{ viewer { balance { available } } }",
    "ledger page": "{ viewer { ledger(first: 20) { edges { node { id reason amount balanceAfter occurredAt } } } } }",
}
SECRET = "bench-secret-long-enough-for-hs256-signatures"


def measure(src: str, db: str, tokens: dict[str, str], count: int, rounds: int) -> dict[str, float]:
    """In this process, with `src` first on the path: median microseconds per request of each query."""
    sys.path.insert(0, src)
    import logging

    from invite_credits.http.app import create_app
    from invite_credits.observability import logs
    from invite_credits.settings import Settings

    logs.configure_logging("INFO")
    for handler in logging.getLogger().handlers:
        handler.setStream(open(os.devnull, "w"))  # type: ignore[attr-defined]  # noqa: SIM115 - the process's
    settings = Settings(db_path=Path(db), jwt_secret=SECRET, sweep_interval_seconds=3600,
                        member_mutations_per_minute=0, anonymous_requests_per_minute=0)
    app = create_app(settings)

    async def request(body: bytes, token: str) -> list[MutableMapping[str, Any]]:
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": "/graphql", "raw_path": b"/graphql", "query_string": b"", "root_path": "",
                 "headers": [(b"host", b"bench"), (b"content-type", b"application/json"),
                             (b"authorization", f"Bearer {token}".encode()),
                             (b"content-length", str(len(body)).encode())],
                 "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}
        sent: list[MutableMapping[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        return sent

    async def run() -> dict[str, float]:
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        started = asyncio.Event()

        async def lifespan_send(message: MutableMapping[str, Any]) -> None:
            if message["type"].endswith("failed"):
                raise RuntimeError(message)
            if message["type"] == "lifespan.startup.complete":
                started.set()

        await inbox.put({"type": "lifespan.startup"})
        lifespan = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
                                           inbox.get, lifespan_send))
        await started.wait()
        medians: dict[str, float] = {}
        for name, query in QUERIES.items():
            body = json.dumps({"query": query}).encode()
            first = await request(body, tokens[name])
            if first[0]["status"] != 200 or b'"errors"' in first[1]["body"]:
                raise RuntimeError(f"{name}: {first}")
            runs = []
            for _ in range(rounds):
                started_at = time.perf_counter()
                for _ in range(count):
                    await request(body, tokens[name])
                runs.append((time.perf_counter() - started_at) / count * 1e6)
            medians[name] = statistics.median(runs)
        await inbox.put({"type": "lifespan.shutdown"})
        await lifespan
        return medians

    return asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", metavar="SRC", help="an earlier checkout's src/, measured alternately")
    parser.add_argument("--count", type=int, default=2000, help="requests per sample")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each code once a round (medians)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # a child: JSON of its medians on stdout
    args = parser.parse_args(argv)
    if args.measure:
        src, db, tokens = json.loads(args.measure)
        print(json.dumps(measure(src, db, tokens, args.count, 3)))
        return 0
    sys.path.insert(0, str(BENCH))
    import run as bench  # the tokens of bench/run.py
    from seed import seed_main

    work = Path(tempfile.mkdtemp(prefix="invite-credits-inprocess-"))
    db = work / "bench.db"
    seed_main(db, 2000, 200)
    token = bench.minter(db)
    tokens = {"balance": token(2), "ledger page": token(1)}  # member 1 has a full page of entries
    codes = {"this": str(BENCH.parent / "src"), **({"earlier": args.against} if args.against else {})}
    samples: dict[str, dict[str, list[float]]] = {code: {} for code in codes}
    for _ in range(args.rounds):
        for code, src in codes.items():
            out = subprocess.run([sys.executable, __file__, "--count", str(args.count), "--measure",
                                  json.dumps([src, str(db), tokens])], check=True, capture_output=True, text=True)
            for name, value in json.loads(out.stdout.strip().splitlines()[-1]).items():
                samples[code].setdefault(name, []).append(value)
    header = "| query | " + " | ".join(f"{code}: us per request" for code in codes)
    print(header + (" | this / earlier |" if args.against else " |"))
    print("|---" * (len(codes) + 1 + bool(args.against)) + "|")
    for name in QUERIES:
        values = [statistics.median(samples[code][name]) for code in codes]
        ratio = f" {values[0] / values[1]:.2f}x |" if args.against else ""
        print(f"| {name} | " + " | ".join(f"{v:.1f}" for v in values) + " |" + ratio)
    print(f"\n{args.rounds} rounds of 3 x {args.count} requests per code, alternating; medians. Data: 2,000 members "
          "(bench/seed.py); the ledger page is member 1's (a full page), the balance member 2's.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
