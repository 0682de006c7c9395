"""``benchmarks/state.py --smoke`` runs end to end (it measures nothing here)."""

from __future__ import annotations

import subprocess
import sys

from tests.kit import ROOT


def test_state_benchmark_runs_every_row_with_tiny_counts() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "state.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for row in ("add_thing x20", "signed me() x5", "signed click() x5", "restart, loading 20"):
        line = next((line for line in result.stdout.splitlines() if row in line), "")
        assert line, row
        assert " us" in line or " ms" in line, line
    assert "Traceback" not in result.stderr
