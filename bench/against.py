"""This code against an earlier checkout, side by side in one run: the same seeded database on SQLite and on
PostgreSQL (copied), each server started from one code or the other (the earlier one through PYTHONPATH),
alternating round by round; balance reads, a 20-entry ledger page and sends at 16 clients."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from run import BALANCE, LEDGER, Config, Results, scratch_postgres, seeded, start_server, stop, wrk

SCENARIOS = (("balance", "read", BALANCE), ("ledger", "read", LEDGER), ("send", "send", ""))


def _copy(db: Path, url: str, env: dict[str, str]) -> None:
    """The seed copied to PostgreSQL by the code `env` names (each code migrates the database to its own schema:
    an earlier one may refuse a newer schema)."""
    script = ("import sys; from pathlib import Path; from invite_credits.store.copy import copy_sqlite_to_postgres; "
              "copy_sqlite_to_postgres(Path(sys.argv[1]), sys.argv[2], progress=False)")
    subprocess.run([sys.executable, "-c", script, str(db), url], env={**os.environ, **env}, check=True)


def compare_code(cfg: Config, results: Results, earlier_src: str, admin_url: str) -> str:
    db, data = seeded(cfg, "against", sends=True)
    codes: list[tuple[str, dict[str, str]]] = [("earlier", {"PYTHONPATH": str(Path(earlier_src).resolve())}),
                                               ("this", {})]
    with scratch_postgres(admin_url, "against_earlier") as earlier_url, \
            scratch_postgres(admin_url, "against_this") as this_url:
        urls = {"earlier": earlier_url, "this": this_url}
        for code, env in codes:
            _copy(db, urls[code], env)
        stores: list[tuple[str, Path | str]] = [("SQLite", db), ("PostgreSQL", this_url)]
        for round_ in range(cfg.rounds):
            for store, _ in stores:
                # Each code goes first in every other round: on SQLite both write to one file, and the second
                # server of a round always met the file (and its WAL) the first one's sends had grown.
                for code, env in codes if round_ % 2 == 0 else codes[::-1]:
                    where = db if store == "SQLite" else urls[code]
                    saved = {k: os.environ.get(k) for k in env}
                    os.environ.update(env)
                    try:
                        server, server_url = start_server(cfg, where, workers=1)
                    finally:
                        for k, v in saved.items():
                            if v is None:
                                os.environ.pop(k, None)
                            else:
                                os.environ[k] = v
                    try:
                        for scenario, mode, body in SCENARIOS:
                            results.add(f"{store}_{code}_{scenario}", wrk(cfg, server_url, data, mode, 16, body))
                    finally:
                        stop(server)
    m = results.median
    lines = ["| store | scenario | earlier req/s | this req/s | this / earlier | earlier p99 ms | this p99 ms |",
             "|---|---|---|---|---|---|---|"]
    for store, _ in stores:
        for scenario, _, _ in SCENARIOS:
            old: Any = m(f"{store}_earlier_{scenario}")
            new: Any = m(f"{store}_this_{scenario}")
            lines.append(f"| {store} | {scenario} | {old.rps:,.0f} | {new.rps:,.0f} | {new.rps / old.rps:.2f}x | "
                         f"{old.p99_ms:.1f} | {new.p99_ms:.1f} |")
    lines += ["", f"Data: {cfg.members:,} members (the bench seed, copied to PostgreSQL with `copy`, by each code "
                  "into a database of its own); "
                  f"{cfg.rounds} rounds of {cfg.seconds:g} s, alternating, medians; one process each; wrk "
                  f"-t{cfg.threads} -c16 on the same 2 cores; earlier code: {earlier_src}."]
    return "\n".join(lines) + "\n"
