"""``benchmarks/scale.py --quick`` runs every section end to end with tiny sizes.

A smoke test, not a timing test: it checks the rows and the goal lines are
printed and the script's own consistency checks passed, never the figures.
"""

from __future__ import annotations

import subprocess
import sys

from tests.kit import ROOT


def test_scale_benchmark_runs_every_section_quickly() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "scale.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    for heading in ("## publish_feed", "## Parsing", "## A publish re-run", "## Goals"):
        assert heading in out, heading
    rows = [line.split() for line in out.splitlines()]
    # 2 sizes x 2 latencies x 2 worker counts, each measured (nothing is skipped at these sizes)
    publish_rows = [r for r in rows if len(r) == 8 and r[1].endswith("ms")]
    assert len(publish_rows) == 8, out
    assert "skipped" not in out.split("## Parsing")[0]
    for parser in ("flattr (streamed", " xml.etree fromstring", "lxml.etree fromstring"):
        assert out.count(parser) == 2, parser
    assert out.count("CPU per entry at 80 entries") == 4
    assert "re-run against 1000 things" in out
    assert "parse of 1000 things" in out
    assert "Traceback" not in result.stderr
