"""The benchmark harness on tiny data, so it never rots (the full run is manual: bench/README.md)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def test_bench_smoke_run() -> None:
    if shutil.which("wrk") is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install wrk (see .ci/run)")
        pytest.skip("wrk is missing: apt-get install wrk")
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--smoke"], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    for scenario in ("floor", "a_balance", "b_ledger", "c_send", "d_import"):
        assert f"| {scenario} |" in out
    assert "Raw sqlite3" in out and "sweep of 500 due lots" in out and "0 violation(s)" in out
    rows = [line.split("|") for line in out.splitlines() if line.startswith("| ") and line.count("|") == 8]
    bad = [r for r in rows if r[1].strip() in ("a_balance", "b_ledger", "c_send", "d_import") and r[6].strip() != "0"]
    assert bad == []  # every request of the smoke run was answered without an error
