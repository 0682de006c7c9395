"""The tests' own processes stop, even when the test run ignores SIGINT.

A shell starts a background job (``pytest &``) with SIGINT ignored, and
every process it starts inherits that: a Ctrl-C sent to ``flattr sandbox``
then does nothing. These tests reproduce that situation in a child
interpreter and check the helpers the other tests use.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from .kit import PYTHON, read_until, reap, subprocess_env

HERE = Path(__file__).resolve().parent

# A test run started as a background job: SIGINT ignored. It starts a
# sandbox (as a terminal would, or plainly), presses Ctrl-C, and reports.
_BACKGROUND_RUN = textwrap.dedent(
    """
    import signal, subprocess, sys
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # so that reap() from the test below runs the finally clause
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))
    sys.path.insert(0, sys.argv[1])
    from kit import FLATTR_AS_IN_A_TERMINAL, PYTHON, read_until, reap
    command = FLATTR_AS_IN_A_TERMINAL if sys.argv[2] == "terminal" else (PYTHON, "-m", "flattr")
    proc = subprocess.Popen([*command, "sandbox", "--port", "0"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        read_until(proc, "Press Ctrl-C")
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=float(sys.argv[3]))
        except subprocess.TimeoutExpired:
            print("still running after Ctrl-C")
        else:
            print("stopped", proc.returncode, "Sandbox stopped." in out.decode())
    finally:
        reap(proc)
        print("reaped", proc.poll() is not None)
    """
)


def background_run(how: str, wait: float, config_dir: Path) -> str:
    proc = subprocess.Popen(
        [PYTHON, "-c", _BACKGROUND_RUN, str(HERE), how, str(wait)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(config_dir),
    )
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        reap(proc)
    assert proc.returncode == 0, err
    return out.decode()


def test_ctrl_c_reaches_a_sandbox_started_as_in_a_terminal(tmp_path: Path) -> None:
    assert background_run("terminal", 10, tmp_path) == "stopped 0 True\nreaped True\n"


def test_a_plain_child_of_a_background_run_ignores_ctrl_c_and_is_still_reaped(
    tmp_path: Path,
) -> None:
    # Why the helpers exist: SIGINT alone would leave this sandbox running.
    assert background_run("plain", 2, tmp_path) == "still running after Ctrl-C\nreaped True\n"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_reap_kills_what_ignores_terminate() -> None:
    proc = subprocess.Popen(
        [
            PYTHON,
            "-c",
            "import signal, sys, time\n"
            "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "print('ready', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
    )
    try:
        read_until(proc, "ready", timeout=30)
        started = time.monotonic()
        reap(proc, grace=0.5)
        assert proc.returncode == -9  # SIGKILL, after the ignored SIGTERM
        assert time.monotonic() - started < 10
        assert proc.stdout is not None and proc.stdout.closed
    finally:
        reap(proc)
