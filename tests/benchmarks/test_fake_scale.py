"""``benchmarks/fake_scale.py --quick`` runs every section.

A smoke test, not a timing test: it checks that the script runs and prints
every table, never how fast or how small anything is (the full run shows that).
"""

from __future__ import annotations

import subprocess
import sys

from tests.kit import ROOT


def test_fake_scale_benchmark_runs_every_section_with_tiny_counts() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "fake_scale.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    for heading in (
        "Memory over 300-request passes",
        "5 unauthenticated 1 MiB POSTs",
        "50 idle keep-alive connections",
        "Start+stop (median)",
        "pytest plugin import",
    ):
        assert heading in out, heading
    for row in (
        "RSS growth, 1st pass",
        "RSS growth, 2nd pass",
        "traced growth, 3rd pass",
        "log length / dropped     1,250 / 0",
        "idle connections        50 open",
        "FakeFlattr / bare (1 ms poll)",
        "added to every pytest start",
    ):
        assert row in out, row
    assert "Traceback" not in result.stderr
