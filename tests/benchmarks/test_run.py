"""``benchmarks/run.py`` works end to end with tiny counts.

A smoke test, not a timing test: it checks that the script starts its own
server, runs every section and counts connections, never how fast anything
is (speed is judged only by a full run; see docs/performance.rst).
"""

from __future__ import annotations

import subprocess
import sys

from tests.kit import ROOT


def test_benchmark_script_runs_every_section_with_tiny_counts() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=100,
        cwd=ROOT,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    for heading in (
        "Signed GET user/me + parse",
        "TCP connections counted by the server",
        "Signing alone",
        "flattr's own work per me() call",
        "Parsing the user/me document",
        "Parsing a 20-thing list",
        "`import flattr`",
        "API v2: GET /user with a bearer token + JSON parse",
        "Goals",
    ):
        assert heading in out, heading
    # every row is measured, or (an optional peer) skipped with the reason
    for row in (
        "floor: http.client keep-alive GET",
        "httplib2 reused connection",
        "oauth2.Client (classic tutorial)",
        "httplib2 + oauthlib Client.sign()",
        "requests-oauthlib OAuth1Session",
        "flattr: FlattrClient(...).me()",
        "requests.Session + bearer header + .json()",
        "flattr: v2.FlattrClient(token).me()",
    ):
        line = next((line for line in out.splitlines() if row in line), "")
        assert line, row
        assert "skipped" not in line or "(" in line, line
    # the server counted one connection per client thread, one request per call
    assert "20 sequential me() calls, one client: 1 connection(s), 20 requests" in out
    assert "2 threads x 10 me() calls, one shared client: 2 connection(s), 20 requests" in out
    assert "[met ] connections:" in out
    assert "v2 me()" in out and "the floor (goal <= 1.5)" in out
    assert "flattr: v2.FlattrClient(token).me(), httplib2 replaced" in out
    # the loopback server process shut down cleanly
    assert "Traceback" not in result.stderr
