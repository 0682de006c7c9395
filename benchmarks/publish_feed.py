"""Benchmark: publish a 500-entry feed with 1 and with 8 workers against a slow FakeFlattr.

    python benchmarks/publish_feed.py [--entries 500] [--latency 0.02] [--workers 1 8]
                                      [--repeat N] [--in-process] [--min-speedup X]

Each run gets a fresh :class:`~flattr.testing.FakeFlattr` on 127.0.0.1 that
waits ``--latency`` seconds before every answer (a stand-in for the round
trip to a real server), and a feed of ``--entries`` items generated in memory.
The fake runs in a child process, as a real server would run elsewhere, so
its own work (signature checks, XML) does not compete with the client for
this process's GIL; ``--in-process`` runs it in this process instead.
It prints the wall time and rate per worker count and the speed-up of the
largest count over the smallest; the issue aims for at least 5x with 8
workers at 20 ms. Every run is checked: each entry registered once, exactly
one register request per entry.

Not a test: the figures depend on the machine. ``--min-speedup X`` makes the
exit status 1 when the speed-up is below ``X``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

import flattr
from flattr.testing import FakeFlattr

REGISTER = "/rest/0.0.1/thing/register"


def make_feed(entries: int) -> str:
    """An RSS 2.0 podcast feed with ``entries`` items, as text."""
    items = "".join(
        f"""
    <item>
      <title>Episode {n}: notes from the garden</title>
      <link>https://bench.example.org/episodes/{n}</link>
      <description>&lt;p&gt;Episode {n} of the benchmark show, with &lt;b&gt;HTML&lt;/b&gt;
        &amp;amp; entities to strip.&lt;/p&gt;</description>
      <category>garden</category><category>episode {n % 7}</category>
      <enclosure url="https://cdn.example.org/bench/{n}.mp3" length="1000" type="audio/mpeg"/>
    </item>"""
        for n in range(1, entries + 1)
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
  <channel>
    <title>Benchmark show</title>
    <link>https://bench.example.org/</link>
    <language>en-us</language>{items}
  </channel>
</rss>
"""


@dataclass(frozen=True)
class Run:
    workers: int
    seconds: float
    registered: int
    requests: int


def serve(conn: Connection, latency: float) -> None:
    """Child process: run a FakeFlattr, hand out a token, answer "stats" until "stop"."""
    with FakeFlattr(latency=latency) as fake:
        token = fake.issue_access_token(scopes=("read", "publish"))
        conn.send((fake.base_url, fake.consumer.key, fake.consumer.secret, token.key, token.secret))
        while conn.recv() == "stats":
            conn.send(stats(fake))


def stats(fake: FakeFlattr) -> tuple[int, int, int]:
    """Register requests, distinct thing URLs, all requests."""
    registers = len(fake.requests_to(REGISTER, "POST"))
    return registers, len({thing.url for thing in fake.things}), len(fake.requests)


def publish(
    base_url: str, credentials: tuple[str, str, str, str], feed: str, workers: int
) -> tuple[flattr.PublishReport, float]:
    key, secret, token_key, token_secret = credentials
    with flattr.FlattrClient(
        key, secret, (token_key, token_secret), base_url=base_url, timeout=30
    ) as client:
        started = time.perf_counter()
        report = flattr.publish_feed(client, feed, workers=workers)
        return report, time.perf_counter() - started


def run_once(feed: str, entries: int, workers: int, latency: float, in_process: bool) -> Run:
    if in_process:
        with FakeFlattr(latency=latency) as fake:
            token = fake.issue_access_token(scopes=("read", "publish"))
            credentials = (fake.consumer.key, fake.consumer.secret, token.key, token.secret)
            report, seconds = publish(fake.base_url, credentials, feed, workers)
            registers, urls, requests = stats(fake)
    else:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(target=serve, args=(child, latency), daemon=True)
        process.start()
        try:
            base_url, *credentials = parent.recv()
            report, seconds = publish(base_url, tuple(credentials), feed, workers)  # type: ignore[arg-type]
            parent.send("stats")
            registers, urls, requests = parent.recv()
        finally:
            parent.send("stop")
            process.join(10)
    if not report.ok or len(report.registered) != entries:
        raise SystemExit(f"workers={workers}: the run did not register every entry:\n{report}")
    if registers != entries or urls != entries:
        raise SystemExit(
            f"workers={workers}: {registers} register requests and {urls} things "
            f"for {entries} entries"
        )
    return Run(workers, seconds, len(report.registered), requests)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=500, help="feed entries (default 500)")
    parser.add_argument(
        "--latency",
        type=float,
        default=0.02,
        help="seconds FakeFlattr waits before each answer (default 0.02)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1, 8],
        help="worker counts to compare (default: 1 8)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs per worker count; the fastest counts, as with timeit (default 1)",
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run FakeFlattr in this process (its work then competes for the GIL)",
    )
    parser.add_argument(
        "--min-speedup",
        type=float,
        default=None,
        help="exit with status 1 when the speed-up is below this",
    )
    args = parser.parse_args(argv)

    feed = make_feed(args.entries)
    print(
        f"publish_feed: {args.entries} entries, FakeFlattr latency {args.latency * 1000:g} ms "
        f"per request, {'in this process' if args.in_process else 'in a child process'}; "
        f"Python {platform.python_version()} on {platform.machine()}"
    )
    runs: list[Run] = []
    for workers in args.workers:
        tries = [
            run_once(feed, args.entries, workers, args.latency, args.in_process)
            for _ in range(max(1, args.repeat))
        ]
        run = min(tries, key=lambda r: r.seconds)
        runs.append(run)
        others = ""
        if len(tries) > 1:
            others = "  all: " + ", ".join(f"{t.seconds:.2f}" for t in tries)
        print(
            f"  workers={run.workers:<3} {run.seconds:8.2f} s  "
            f"{run.registered / run.seconds:8.1f} entries/s  "
            f"({run.registered} registered, {run.requests} requests){others}"
        )
    slowest = min(runs, key=lambda r: r.workers)
    fastest = max(runs, key=lambda r: r.workers)
    speedup = slowest.seconds / fastest.seconds
    print(f"speed-up of workers={fastest.workers} over workers={slowest.workers}: {speedup:.1f}x")
    if args.min_speedup is not None and speedup < args.min_speedup:
        print(f"below the wanted {args.min_speedup:g}x", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
