"""``python -m flattr``, and the library never importing the command line."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .kit import PYTHON, Login, reap, subprocess_env


def test_python_dash_m_flattr(tmp_path: Path) -> None:
    version = subprocess.run(
        [PYTHON, "-m", "flattr", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=subprocess_env(tmp_path),
    )
    assert version.returncode == 0
    assert version.stdout.startswith("flattr ")
    usage = subprocess.run(
        [PYTHON, "-m", "flattr", "whoami", "--profile", "x y"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=subprocess_env(tmp_path),
    )
    assert usage.returncode == 2
    assert usage.stderr.startswith("flattr: error: --profile:")
    assert usage.stdout == ""


def test_the_library_never_imports_the_cli(tmp_path: Path) -> None:
    code = (
        "import sys, flattr, flattr.auth, flattr.client, flattr.feeds, flattr.tokenstore, "
        "flattr.testing\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[:2] == ['flattr', 'cli'])\n"
        "print(loaded)\n"
        "sys.exit(1 if loaded else 0)\n"
    )
    result = subprocess.run(
        [PYTHON, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=subprocess_env(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "[]"


def test_a_reader_that_goes_away_is_no_traceback(logged_in: Login, config_dir: Path) -> None:
    for number in range(300):
        logged_in.fake.add_thing(
            logged_in.fake.user,
            url=f"https://blog.example.org/post/{number}",
            title=f"Post number {number}",
            description="Enough JSON to overflow a pipe buffer. " * 3,
        )
    proc = subprocess.Popen(
        [PYTHON, "-m", "flattr", "thing", "list", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(config_dir, FLATTR_CONSUMER_SECRET=logged_in.fake.consumer.secret),
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline().strip() == b"["
        proc.stdout.close()  # like `| head -1`
        err = proc.stderr.read()
        proc.wait(60)
    finally:
        reap(proc)
    assert proc.returncode == 1
    assert err == b""
