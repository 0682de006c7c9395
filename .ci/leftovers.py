"""Fail when a CI step left a process running, and stop it.

``.ci/run`` exports ``CI_PROCESS_TAG`` with a value of its own; every
process it starts, and every process those start (a ``flattr sandbox``, a
chromedriver), inherits it. After a step, any process other than this one
and its ancestors that still carries the tag was left behind. Linux only
(it reads ``/proc``); elsewhere it says so and passes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from pathlib import Path

PROC = Path("/proc")


def _parent(pid: int) -> int:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return 0
    # "pid (comm) state ppid ...": comm may contain spaces and parentheses.
    return int(stat.rpartition(")")[2].split()[1])


def _tagged(tag: bytes) -> dict[int, str]:
    me = os.getpid()
    ancestors = set()
    pid = me
    while pid > 1 and pid not in ancestors:
        ancestors.add(pid)
        pid = _parent(pid)
    found = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) in ancestors:
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if tag in environ:
            found[int(entry.name)] = cmdline.strip()
    return found


def main() -> int:
    """List (and stop) the leftovers; 1 if there were any."""
    value = os.environ.get("CI_PROCESS_TAG")
    if not value:
        print("leftovers.py: CI_PROCESS_TAG is not set", file=sys.stderr)
        return 2
    if not PROC.is_dir():
        print("leftovers.py: no /proc here; leftover processes not checked")
        return 0
    tag = f"CI_PROCESS_TAG={value}".encode()
    # A process that is just exiting gets two seconds to finish.
    left = _tagged(tag)
    if left:
        time.sleep(2)
        left = {pid: cmd for pid, cmd in _tagged(tag).items() if pid in left}
    if not left:
        print("no process left behind")
        return 0
    print(f"{len(left)} process(es) left behind:", file=sys.stderr)
    for pid, cmdline in sorted(left.items()):
        print(f"  {pid}: {cmdline}", file=sys.stderr)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        time.sleep(2)
    return 1


if __name__ == "__main__":
    sys.exit(main())
