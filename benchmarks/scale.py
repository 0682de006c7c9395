"""Benchmark at real sizes: long feeds, large accounts.

    python benchmarks/scale.py [--quick] [--max-cell-seconds S]

Three sections, each against FakeFlattr in a child process:

1. publish_feed with 500 / 5,000 / 20,000 entries, at 0 and 20 ms latency,
   with 1, 8 and 32 workers: wall time, entries/s, wall and client CPU per
   entry, and the peak memory growth of the publishing process.
2. Parsing a ``thing/listbyuser`` answer of 1,000 / 10,000 / 100,000 things:
   flattr's streaming parse (every thing built and checked) beside bare
   ``xml.etree.ElementTree.fromstring`` and lxml's ``etree.fromstring`` (tree
   only, nothing checked) on the same bytes.
3. A publish re-run (every entry already registered) against accounts of
   those sizes: time and peak memory growth.

Every measurement runs in its own fresh process (spawned); peak memory is
the growth of its resident size during the work (the kernel's high-water
mark, reset just before), so what C libraries allocate (lxml, expat) counts
too. Linux only (``/proc/self/clear_refs``). A cell that would
take longer than ``--max-cell-seconds`` (estimated from entries x latency /
workers) is skipped, and the output says so.

Goals, printed as met or missed: client CPU per entry at 20,000 entries
within 1.3x of that at 500 (each latency and worker count); a re-run against
a 100,000-thing account under 150 MB peak growth; the streaming parse of
100,000 things no slower than bare ElementTree.

``--quick`` runs tiny sizes (a smoke run: the figures mean nothing). Not a
test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import flattr
from flattr.testing import FakeFlattr

REGISTER = "/rest/0.0.1/thing/register"
LIST = "/rest/0.0.1/thing/listbyuser/id/"
MB = 1_000_000

FULL = {
    "entries": (500, 5_000, 20_000),
    "latencies": (0.0, 0.02),
    "workers": (1, 8, 32),
    "things": (1_000, 10_000, 100_000),
    "rerun_entries": 500,
}
QUICK = {
    "entries": (20, 80),
    "latencies": (0.0, 0.005),
    "workers": (1, 4),
    "things": (200, 1_000),
    "rerun_entries": 20,
}


def entry_url(prefix: str, n: int) -> str:
    return f"https://{prefix}.example.org/posts/{n}"


def make_feed(prefix: str, entries: int) -> bytes:
    """An RSS 2.0 feed of ``entries`` items linking to :func:`entry_url`."""
    items = "".join(
        f"<item><title>Post {n} of the scale blog</title><link>{entry_url(prefix, n)}</link>"
        f"<description>&lt;p&gt;Post {n}, with &lt;b&gt;HTML&lt;/b&gt; to strip.&lt;/p&gt;"
        f"</description><category>scale</category></item>"
        for n in range(entries)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Scale blog</title><link>https://{prefix}.example.org/</link>"
        f"<language>en-gb</language>{items}</channel></rss>"
    ).encode()


def _status_bytes(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # kB
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak() -> int:
    """Start a new peak (Linux's clear_refs "5"); returns the resident size now.

    ``getrusage``'s ``ru_maxrss`` will not do: a spawned child starts with its
    parent's high-water mark, which a benchmark that built a 100 MB document
    had raised far above anything the child does.
    """
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    return _status_bytes("VmRSS")


def peak_since_reset() -> int:
    """The largest resident size since :func:`reset_peak`, in bytes."""
    return _status_bytes("VmHWM")


# -- the server child ---------------------------------------------------------------


def serve(conn: Connection, latency: float, things: int) -> None:
    """Child: a FakeFlattr whose alice owns ``things`` things; counts requests until "stop"."""
    with FakeFlattr(latency=latency) as fake:
        alice = fake.session_user
        for n in range(things):
            fake.add_thing(
                alice,
                url=entry_url("owned", n),
                title=f"Post {n} of the scale blog",
                description=f"Post {n}, with HTML to strip.",
                tags=("scale",),
            )
        token = fake.issue_access_token(scopes=("read", "publish"))
        conn.send((fake.base_url, fake.consumer.key, fake.consumer.secret, token.key, token.secret))
        while (message := conn.recv()) != "stop":
            conn.send(len(fake.requests_to(message)))


def in_child(target: Callable[..., None], *args: Any, timeout: float = 3600) -> Any:
    """Run ``target(conn, *args)`` in a fresh spawned process; return what it sends."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=target, args=(child, *args), daemon=True)
    process.start()
    child.close()
    try:
        if not parent.poll(timeout):
            raise SystemExit(f"{target.__name__} gave no answer in {timeout:g} s")
        return parent.recv()
    finally:
        process.join(30)
        if process.is_alive():
            process.terminate()
            process.join(5)
        if process.is_alive():
            process.kill()
            process.join(5)
        parent.close()


@dataclass
class Server:
    conn: Connection
    process: Any
    base_url: str
    credentials: tuple[str, str, str, str]

    def count(self, path: str) -> int:
        self.conn.send(path)
        return int(self.conn.recv())

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send("stop")
        self.process.join(30)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.conn.close()


def start_server(latency: float, things: int = 0) -> Server:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=serve, args=(child, latency, things), daemon=True)
    process.start()
    child.close()
    if not parent.poll(600):
        process.kill()
        raise SystemExit("the FakeFlattr child did not start")
    base_url, *credentials = parent.recv()
    return Server(parent, process, base_url, tuple(credentials))  # type: ignore[arg-type]


# -- publishing -----------------------------------------------------------------------


def publish_child(
    conn: Connection,
    base_url: str,
    credentials: tuple[str, str, str, str],
    feed: bytes,
    workers: int,
) -> None:
    """Child: one publish_feed run; sends (wall, cpu, peak growth, report counts)."""
    key, secret, token_key, token_secret = credentials
    with flattr.FlattrClient(
        key, secret, (token_key, token_secret), base_url=base_url, timeout=120
    ) as client:
        client.me()
        base = reset_peak()
        wall, cpu = time.perf_counter(), time.process_time()
        report = flattr.publish_feed(client, feed, workers=workers)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        peak = peak_since_reset() - base
    conn.send((wall, cpu, peak, len(report.registered), len(report.skipped), len(report.failed)))


@dataclass
class Cell:
    entries: int
    latency: float
    workers: int
    wall: float
    cpu: float
    peak: int


def publish_section(sizes: dict[str, Any], max_cell: float) -> list[Cell]:
    print("\n## publish_feed: entries x latency x workers (fresh FakeFlattr each)\n")
    print(
        f"{'entries':>8} {'latency':>8} {'workers':>8} {'wall s':>8} {'entries/s':>10} "
        f"{'wall ms/entry':>14} {'CPU us/entry':>13} {'peak MB':>8}"
    )
    cells: list[Cell] = []
    for latency in sizes["latencies"]:
        for workers in sizes["workers"]:
            for entries in sizes["entries"]:
                estimate = entries * latency / workers
                label = f"{entries:>8} {latency * 1000:>6g}ms {workers:>8}"
                if estimate > max_cell:
                    print(f"{label}  skipped (would take about {estimate:.0f} s)")
                    continue
                server = start_server(latency)
                try:
                    feed = make_feed(f"w{workers}", entries)
                    wall, cpu, peak, registered, _skipped, failed = in_child(
                        publish_child, server.base_url, server.credentials, feed, workers
                    )
                    registers = server.count(REGISTER)
                finally:
                    server.stop()
                if registered != entries or registers != entries or failed:
                    raise SystemExit(
                        f"{label}: {registered} registered, {failed} failed, "
                        f"{registers} register requests for {entries} entries"
                    )
                cells.append(Cell(entries, latency, workers, wall, cpu, peak))
                print(
                    f"{label} {wall:8.2f} {entries / wall:10.1f} {wall / entries * 1000:14.2f} "
                    f"{cpu / entries * 1e6:13.0f} {peak / MB:8.1f}",
                    flush=True,
                )
    return cells


# -- parsing ----------------------------------------------------------------------------


def list_document(things: int) -> bytes:
    """The ``thing/listbyuser`` answer FakeFlattr sends for ``things`` things."""
    from flattr.testing import _xmlout

    fake = FakeFlattr()
    alice = fake.session_user
    for n in range(things):
        fake.add_thing(
            alice,
            url=entry_url("owned", n),
            title=f"Post {n} of the scale blog",
            description=f"Post {n}, with HTML to strip.",
            tags=("scale",),
        )
    return _xmlout.envelope([_xmlout.thing_node(t, "owner") for t in fake.things])


def parse_child(conn: Connection, path: str, how: str) -> None:
    """Child: parse the file's bytes one way; sends (seconds, peak growth, count)."""
    body = Path(path).read_bytes()
    if how == "flattr":
        from flattr import _xml

        def parse() -> int:
            return sum(1 for _ in _xml.iter_things(body))
    elif how == "ElementTree":
        from xml.etree import ElementTree

        def parse() -> int:
            return len(ElementTree.fromstring(body).findall("thing"))
    else:
        from lxml import etree  # type: ignore[import-untyped]

        def parse() -> int:
            return len(etree.fromstring(body).findall("thing"))

    base = reset_peak()
    started = time.perf_counter()
    count = parse()
    seconds = time.perf_counter() - started
    conn.send((seconds, peak_since_reset() - base, count))


def parse_section(sizes: dict[str, Any], workdir: Path) -> dict[tuple[int, str], float]:
    print("\n## Parsing a thing/listbyuser answer (same bytes for each parser)\n")
    print(f"{'things':>8} {'MB':>7} {'parser':<34} {'seconds':>8} {'peak MB':>8}")
    try:
        import lxml  # type: ignore[import-untyped]  # noqa: F401

        parsers = ["flattr", "ElementTree", "lxml"]
    except ImportError:
        parsers = ["flattr", "ElementTree"]
    names = {
        "flattr": "flattr (streamed, Things checked)",
        "ElementTree": "xml.etree fromstring (tree only)",
        "lxml": "lxml.etree fromstring (tree only)",
    }
    times: dict[tuple[int, str], float] = {}
    for things in sizes["things"]:
        body = list_document(things)
        path = workdir / f"things-{things}.xml"
        path.write_bytes(body)
        for how in parsers:
            seconds, peak, count = in_child(parse_child, str(path), how)
            if count != things:
                raise SystemExit(f"{how} found {count} of {things} things")
            times[(things, how)] = seconds
            print(
                f"{things:>8} {len(body) / MB:7.1f} {names[how]:<34} {seconds:8.2f} "
                f"{peak / MB:8.1f}",
                flush=True,
            )
        if "lxml" not in parsers:
            print(f"{things:>8} {len(body) / MB:7.1f} {names['lxml']:<34}  skipped (no lxml)")
        path.unlink()
    return times


def rerun_section(sizes: dict[str, Any]) -> dict[int, int]:
    entries = sizes["rerun_entries"]
    print(f"\n## A publish re-run: {entries} entries, all already owned\n")
    print(f"{'things':>8} {'seconds':>8} {'peak MB':>8}")
    peaks: dict[int, int] = {}
    for things in sizes["things"]:
        server = start_server(0.0, things)
        try:
            feed = make_feed("owned", min(entries, things))
            wall, _cpu, peak, registered, skipped, failed = in_child(
                publish_child, server.base_url, server.credentials, feed, 4
            )
            registers = server.count(REGISTER)
        finally:
            server.stop()
        if registered or failed or registers or skipped != min(entries, things):
            raise SystemExit(f"re-run against {things}: not everything was skipped")
        peaks[things] = peak
        print(f"{things:>8} {wall:8.2f} {peak / MB:8.1f}", flush=True)
    return peaks


# -- goals ------------------------------------------------------------------------------


def goals(
    sizes: dict[str, Any],
    cells: list[Cell],
    times: dict[tuple[int, str], float],
    peaks: dict[int, int],
) -> None:
    print("\n## Goals\n")
    small, large = sizes["entries"][0], sizes["entries"][-1]
    by_key = {(c.entries, c.latency, c.workers): c for c in cells}
    for latency in sizes["latencies"]:
        for workers in sizes["workers"]:
            first = by_key.get((small, latency, workers))
            last = by_key.get((large, latency, workers))
            where = f"{latency * 1000:g} ms, {workers} workers"
            if first is None or last is None:
                print(f"[skip] CPU per entry at {large} vs {small} entries ({where}): not run")
                continue
            ratio = (last.cpu / last.entries) / (first.cpu / first.entries)
            mark = "met " if ratio <= 1.3 else "MISSED"
            print(
                f"[{mark}] CPU per entry at {large} entries is {ratio:.2f}x that at {small} "
                f"({where}; goal <= 1.3x)"
            )
    biggest = sizes["things"][-1]
    if biggest in peaks:
        peak = peaks[biggest] / MB
        mark = "met " if peak < 150 else "MISSED"
        print(
            f"[{mark}] re-run against {biggest} things: {peak:.1f} MB peak growth (goal < 150 MB)"
        )
    ours, bare = times.get((biggest, "flattr")), times.get((biggest, "ElementTree"))
    if ours is not None and bare is not None:
        mark = "met " if ours <= bare else "MISSED"
        print(
            f"[{mark}] parse of {biggest} things: {ours:.2f} s, bare ElementTree {bare:.2f} s "
            "(goal: no slower)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a smoke run")
    parser.add_argument(
        "--max-cell-seconds",
        type=float,
        default=150.0,
        help="skip a publish cell estimated to take longer (default 150)",
    )
    parser.add_argument(
        "--sections",
        nargs="+",
        choices=("publish", "parse", "rerun"),
        default=["publish", "parse", "rerun"],
        help="which sections to run (default: all)",
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    print(
        f"flattr scale benchmark{' (--quick: tiny sizes)' if args.quick else ''}; "
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPUs; FakeFlattr in a child process"
    )
    started = time.perf_counter()
    cells: list[Cell] = []
    times: dict[tuple[int, str], float] = {}
    peaks: dict[int, int] = {}
    with tempfile.TemporaryDirectory(prefix="flattr-scale-") as workdir:
        if "publish" in args.sections:
            cells = publish_section(sizes, args.max_cell_seconds)
        if "parse" in args.sections:
            times = parse_section(sizes, Path(workdir))
        if "rerun" in args.sections:
            peaks = rerun_section(sizes)
    goals(sizes, cells, times, peaks)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
