"""Benchmark: what ``FakeFlattr(state=FILE)`` costs beside the in-memory fake.

    python benchmarks/state.py [--things 2000] [--requests 300] [--repeat 3] [--smoke]

For each of "memory" and "state" (a fresh SQLite file in a temporary
directory) it times, in this process:

- ``add_thing`` directly on the fake, ``--things`` times (each one a write
  with a state file);
- ``--requests`` signed round trips over loopback: ``me()`` (a read: the
  state file is not touched) and ``click()`` (a write);
- for "state" only, a restart: opening the file again and loading every
  record (``--things`` things, their owner, the tokens).

Each figure is the best of ``--repeat`` runs. Not a test: the figures depend
on the machine and its disk; ``--smoke`` runs tiny counts so the suite can
check the script works.
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import flattr
from flattr.testing import FakeFlattr


def best(repeat: int, run: Callable[[], float]) -> float:
    """The smallest of ``repeat`` timings (seconds)."""
    return min(run() for _ in range(repeat))


def time_add_things(state: Path | None, things: int) -> float:
    with FakeFlattr(state=state) as fake:
        owner = fake.add_user("bench")
        start = time.perf_counter()
        for n in range(things):
            fake.add_thing(owner, url=f"https://bench.example.org/{n}", title=f"Post {n}")
        return time.perf_counter() - start


def time_requests(state: Path | None, requests: int, write: bool) -> float:
    with FakeFlattr(state=state) as fake:
        owner = fake.add_user("bench")
        ids = [
            fake.add_thing(owner, url=f"https://bench.example.org/{n}", title=f"Post {n}").id
            for n in range(requests if write else 0)
        ]
        token = fake.issue_access_token(scopes=("read", "click"))
        with flattr.FlattrClient(
            fake.consumer.key, fake.consumer.secret, token, base_url=fake.base_url, timeout=10
        ) as api:
            api.me()  # the connection is open before the clock starts
            start = time.perf_counter()
            if write:
                for thing_id in ids:
                    api.click(thing_id)
            else:
                for _ in range(requests):
                    api.me()
            return time.perf_counter() - start


def time_restart(state: Path) -> float:
    start = time.perf_counter()
    fake = FakeFlattr(state=state)
    elapsed = time.perf_counter() - start
    fake.stop()
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--things", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="tiny counts, one run")
    args = parser.parse_args(argv)
    if args.smoke:
        args.things, args.requests, args.repeat = 20, 5, 1
    print(
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{platform.machine()}; {args.things} things, {args.requests} requests, "
        f"best of {args.repeat}"
    )
    print(f"{'':28}{'memory':>12}{'state':>12}{'ratio':>8}")
    with tempfile.TemporaryDirectory(prefix="flattr-state-bench-") as folder:
        counter = iter(range(1_000_000))

        def fresh() -> Path:
            return Path(folder) / f"s{next(counter)}.sqlite"

        rows = [
            (
                f"add_thing x{args.things}",
                best(args.repeat, lambda: time_add_things(None, args.things)),
                best(args.repeat, lambda: time_add_things(fresh(), args.things)),
                args.things,
            ),
            (
                f"signed me() x{args.requests}",
                best(args.repeat, lambda: time_requests(None, args.requests, write=False)),
                best(args.repeat, lambda: time_requests(fresh(), args.requests, write=False)),
                args.requests,
            ),
            (
                f"signed click() x{args.requests}",
                best(args.repeat, lambda: time_requests(None, args.requests, write=True)),
                best(args.repeat, lambda: time_requests(fresh(), args.requests, write=True)),
                args.requests,
            ),
        ]
        for label, memory, state, count in rows:
            print(
                f"{label:28}{memory * 1e6 / count:>9.1f} us{state * 1e6 / count:>9.1f} us"
                f"{state / memory:>7.2f}x"
            )
        loaded = fresh()
        time_add_things(loaded, args.things)
        restart = best(args.repeat, lambda: time_restart(loaded))
        print(f"restart, loading {args.things} things: {restart * 1e3:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
