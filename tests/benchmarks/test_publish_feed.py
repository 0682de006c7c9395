"""The publish_feed benchmark script runs end to end (tiny counts; no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.kit import ROOT

SCRIPT = ROOT / "benchmarks" / "publish_feed.py"


@pytest.mark.parametrize("where", [[], ["--in-process"]])
def test_benchmark_script_runs(where: list[str]) -> None:
    command = [sys.executable, "-W", "error", str(SCRIPT), "--entries", "6", "--latency", "0.001"]
    result = subprocess.run(
        [*command, "--workers", "1", "3", *where],
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("publish_feed: 6 entries, FakeFlattr latency 1 ms per request")
    assert "workers=1" in lines[1]
    assert "(6 registered, 7 requests)" in lines[1]
    assert "workers=3" in lines[2]
    assert "(6 registered, 7 requests)" in lines[2]
    assert lines[3].startswith("speed-up of workers=3 over workers=1: ")
    assert lines[3].endswith("x")
