"""Compiled plans on and off on the one pipeline, alternating in one run: balance reads and a 20-entry ledger
page at 16 clients, the default stack (httptools + asyncio), SQLite. Plans stay only while they keep a gain."""

from __future__ import annotations

from run import BALANCE, LEDGER, Config, Results, seeded, start_server, stop, wrk


def compare_plans(cfg: Config, results: Results) -> str:
    db, data = seeded(cfg, "plans")
    for _ in range(cfg.rounds):
        for plans in ("1", "0"):
            server, url = start_server(cfg, db, compiled_plans=plans)
            try:
                results.add(f"balance_{plans}", wrk(cfg, url, data, "read", 16, BALANCE))
                results.add(f"ledger_{plans}", wrk(cfg, url, data, "read", 16, LEDGER))
            finally:
                stop(server)
    m = results.median
    lines = ["| query | plans on: req/s | p99 ms | plans off: req/s | p99 ms | on / off |", "|---|---|---|---|---|---|"]
    for query in ("balance", "ledger"):
        on, off = m(f"{query}_1"), m(f"{query}_0")
        lines.append(f"| {query} | {on.rps:,.0f} | {on.p99_ms:.1f} | {off.rps:,.0f} | {off.p99_ms:.1f} | "
                     f"{on.rps / off.rps:.2f}x |")
    lines += ["", f"Data: {cfg.members:,} members; {cfg.rounds} rounds of {cfg.seconds:g} s, alternating, medians; "
                  f"one process each; wrk -t{cfg.threads} -c16 on the same 2 cores."]
    return "\n".join(lines) + "\n"
