"""A long fuzz of the GraphQL API: schemathesis over every operation, as a member and as an admin, against a
real server, for a given time. Counts the cases run and every answer that is a 5xx or an INTERNAL_SERVER_ERROR.

    .venv/bin/python bench/fuzz.py --seconds 600 --record    # ten minutes; writes a section of RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from invite_credits import auth

BENCH = Path(__file__).resolve().parent
SECRET = "fuzz-secret-that-is-long-enough-for-hs256-tokens"


def start(db: Path) -> tuple[subprocess.Popen[bytes], str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = Path(sys.executable).with_name("invite-credits")
    process = subprocess.Popen([str(script), "serve", "--db", str(db), "--port", str(port)],
                               env={**os.environ, "INVITE_CREDITS_JWT_SECRET": SECRET, "INVITE_CREDITS_TEST_CLOCK": "1",
                                    "INVITE_CREDITS_SYNCHRONOUS": "OFF", "INVITE_CREDITS_LOG_LEVEL": "CRITICAL",
                                    "INVITE_CREDITS_MEMBER_MUTATIONS_PER_MINUTE": "0", "INVITE_CREDITS_SIGNUPS_PER_HOUR": "0",
                                    "INVITE_CREDITS_ANONYMOUS_REQUESTS_PER_MINUTE": "0"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError("the server did not start")
        time.sleep(0.1)


def fuzz(url: str, seconds: float, examples: int) -> dict[str, Any]:
    """Round after round over every operation and both callers until the time is up."""
    signed = httpx.post(url + "/graphql", json={
        "query": 'mutation { signUp(input: {email: "fuzz@example.com", name: "Fuzz"}) { token } }'}).json()
    callers = {"member": signed["data"]["signUp"]["token"], "admin": auth.admin_token(SECRET, 24 * 3600)}
    schema = schemathesis.graphql.from_url(url + "/graphql")
    operations = [result.ok() for result in schema.get_all_operations()]
    report: dict[str, Any] = {"cases": 0, "server_errors": 0, "internal_errors": 0, "rounds": 0, "failures": []}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for operation in operations:
            for caller, token in callers.items():
                if time.monotonic() > deadline:
                    break

                @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
                @given(case=operation.as_strategy())
                def run(case: Any) -> None:
                    report["cases"] += 1
                    # run() is called within this iteration, so `token` and `caller` are the ones it was built for.
                    response = case.call(headers={"authorization": f"Bearer {token}"})  # noqa: B023
                    internal = "INTERNAL_SERVER_ERROR" in response.text
                    if response.status_code >= 500 or internal:
                        report["server_errors" if response.status_code >= 500 else "internal_errors"] += 1
                        if len(report["failures"]) < 10:
                            report["failures"].append({"caller": caller, "status": response.status_code,  # noqa: B023
                                                       "body": response.text[:500], "query": str(case.body)[:500]})

                try:
                    run()
                except Unsatisfiable:
                    pass
        report["rounds"] += 1
    report["operations"] = len(operations)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=600, help="how long to fuzz (default 600)")
    parser.add_argument("--examples", type=int, default=50, help="cases per operation and caller per round")
    parser.add_argument("--record", action="store_true", help="write the result into bench/RESULTS.md")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="invite-credits-fuzz-") as work:
        process, url = start(Path(work) / "fuzz.db")
        try:
            started = time.monotonic()
            report = fuzz(url, args.seconds, args.examples)
            report["seconds"] = round(time.monotonic() - started, 1)
        finally:
            process.terminate()
            process.wait(timeout=30)
        check = subprocess.run([str(Path(sys.executable).with_name("invite-credits")), "check", "--db",
                                str(Path(work) / "fuzz.db")], capture_output=True, text=True)
        lines = check.stdout.strip().splitlines() or check.stderr.strip().splitlines() or ["check printed nothing"]
        report["check"] = lines[-1].split(" in ")[0]
    print(json.dumps(report))
    if args.record:
        sys.path.insert(0, str(BENCH))
        from run import record_section

        record_section("A long fuzz of the API", (
            f"Command: `bench/fuzz.py {' '.join(argv if argv is not None else sys.argv[1:])}`\n\n"
            f"schemathesis over all {report['operations']} operations, as a member and as an admin, against a real "
            f"server: {report['cases']:,} cases in {report['seconds']:,.0f} s ({report['rounds']} rounds); "
            f"{report['server_errors']} 5xx answers, {report['internal_errors']} INTERNAL_SERVER_ERROR; `check` "
            f"afterwards: {report['check']}.\n"))
    return 0 if report["server_errors"] == report["internal_errors"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
