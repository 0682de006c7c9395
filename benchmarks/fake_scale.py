#!/usr/bin/env python
"""FakeFlattr as a long-running server: memory, threads, fixture cost, plugin import.

Run it from the repository root (no network: everything is on 127.0.0.1)::

    python benchmarks/fake_scale.py           # full size, a few minutes
    python benchmarks/fake_scale.py --quick   # tiny counts: checks the script works

Sections, each printed as a table:

- memory over passes of 20,000 signed GETs of ``user/me`` on one
  kept-alive connection: RSS growth over the first pass (the bounded log and
  nonce book filling up) and over the second (steady state), then traced
  growth (``tracemalloc``) over a third, after the log and nonces have turned
  over once under tracing; the log's length and dropped count, the nonces
  remembered and the threads;
- 300 unauthenticated POSTs of 1 MiB each: RSS and traced growth;
- 1,000 idle keep-alive connections (each answered once, then silent):
  threads, RSS growth and open connections; the open-file limit is raised
  for them when the hard limit allows;
- start+stop of a FakeFlattr (construction included) beside a bare
  ``http.server.ThreadingHTTPServer`` started and shut down in a thread,
  with its default 0.5 s poll and with a 1 ms poll (medians of many);
- what the pytest plugin adds to every pytest start (``-X importtime`` of
  ``flattr.testing.pytest_plugin`` once pytest is loaded), and what the
  first fixture use then loads.

The client runs in the same process as the server (as in a test suite), so
the figures include nothing but what the server keeps: the client holds one
connection and no history.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import os
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from oauthlib.oauth1 import Client

from flattr.testing import FakeFlattr

ME = "/rest/0.0.1/user/me"
MIB = 1024 * 1024


def rss() -> int:
    """Resident set size of this process now, in bytes (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def mb(n: float) -> str:
    return f"{n / MIB:8.2f} MB"


def table(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n{title}")
    width = max(len(label) for label, _ in rows)
    print(f"  {'-' * width}  {'-' * 24}")
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")


# -- requests ---------------------------------------------------------------


class Caller:
    """Signed GETs of user/me on one kept-alive connection."""

    def __init__(self, fake: FakeFlattr) -> None:
        token = fake.issue_access_token()
        self.client = Client(fake.consumer.key, fake.consumer.secret, token.key, token.secret)
        self.url = fake.base_url + ME
        self.conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=30)

    def get(self) -> int:
        _, headers, _ = self.client.sign(self.url)
        self.conn.request("GET", ME, headers=headers)
        answer = self.conn.getresponse()
        answer.read()
        return answer.status

    def run(self, count: int) -> None:
        for _ in range(count):
            status = self.get()
            if status != 200:
                raise SystemExit(f"user/me answered {status}")

    def close(self) -> None:
        self.conn.close()


@contextmanager
def traced() -> Iterator[Callable[[], int]]:
    """Yields a function giving the traced growth since entering."""
    gc.collect()
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    try:
        yield lambda: tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()


def memory_section(count: int, warmup: int) -> None:
    with FakeFlattr() as fake:
        caller = Caller(fake)
        try:
            caller.run(warmup)
            gc.collect()
            threads0, rss0 = threading.active_count(), rss()
            started = time.perf_counter()
            caller.run(count)
            elapsed = time.perf_counter() - started
            gc.collect()
            rss_fill = rss() - rss0
            threads = threading.active_count() - threads0
            rss1 = rss()
            caller.run(count)
            gc.collect()
            rss_steady = rss() - rss1
            # Traced from here; first turn the log and the nonces over once, so that what
            # they hold was allocated under tracing too (else freeing it would not count).
            with traced() as growth:
                caller.run(min(count, 10_000))
                gc.collect()
                turned = growth()
                caller.run(count)
                gc.collect()
                traced_steady = growth() - turned
        finally:
            caller.close()
        rows = [
            ("requests per pass", f"{count:,} after {warmup:,} to warm up"),
            ("RSS growth, 1st pass", f"{mb(rss_fill)}  (the log and the nonces filling up)"),
            ("RSS growth, 2nd pass", f"{mb(rss_steady)}"),
            ("traced growth, 3rd pass", f"{mb(traced_steady)}  (tracemalloc)"),
            ("log length / dropped", f"{len(fake.requests):,} / {fake.requests_dropped:,}"),
            ("nonces remembered", f"{len(fake._provider.nonces):,}"),
            ("worker threads", f"{fake._engine.worker_threads} (threads added: {threads})"),
            ("requests per second", f"{count / elapsed:,.0f} (client in the same process)"),
        ]
    table(
        f"Memory over {count:,}-request passes (defaults: max_recorded=5000, max_nonces=10000)",
        rows,
    )


def unauthenticated_section(count: int) -> None:
    body = b"x" * MIB
    with FakeFlattr() as fake:
        conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=30)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}

        def post(n: int) -> None:
            for _ in range(n):
                conn.request("POST", "/oauth/request_token", body=body, headers=headers)
                answer = conn.getresponse()
                answer.read()
                if answer.status != 401:
                    raise SystemExit(f"request_token answered {answer.status}")

        def post_small() -> None:
            conn.request("GET", "/nowhere")
            conn.getresponse().read()

        try:
            post(2)
            gc.collect()
            rss0 = rss()
            post(count)
            post_small()  # answered only once the last big body is let go
            gc.collect()
            rss_growth = rss() - rss0
            with traced() as growth:
                post(count)
                post_small()
                gc.collect()
                traced_growth = growth()
        finally:
            conn.close()
        kept = max(len(r.body) for r in fake.requests)
    table(
        f"{count} unauthenticated 1 MiB POSTs (answered 401)",
        [
            ("RSS growth", mb(rss_growth)),
            ("traced growth (2nd pass)", mb(traced_growth)),
            ("body bytes kept per request", f"at most {kept}"),
        ],
    )


def raise_file_limit(needed: int) -> str:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return f"{soft} (enough)"
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return f"raised from {soft} to {target}"


def read_answer(sock: socket.socket) -> bytes:
    """One whole answer (headers and Content-Length bytes of body)."""
    data = b""
    while True:
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            fields = dict(line.split(b":", 1) for line in head.split(b"\r\n")[1:] if b":" in line)
            length = int(fields.get(b"Content-Length", b"0"))
            if len(body) >= length:
                return data
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit("connection closed early")
        data += chunk


def idle_section(count: int) -> None:
    limit = raise_file_limit(2 * count + 200)  # both ends of every connection are ours
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    count = min(count, (soft - 200) // 2)
    with FakeFlattr() as fake, ExitStack() as stack:
        gc.collect()
        threads0, rss0 = threading.active_count(), rss()
        for _ in range(count):
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", fake.port)))
            sock.sendall(b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
            read_answer(sock)
        time.sleep(0.2)  # let the last answered connections go back to idle
        gc.collect()
        rows = [
            ("idle connections", f"{fake._engine.open_connections:,} open"),
            ("threads added", f"{threading.active_count() - threads0}"),
            ("worker threads", f"{fake._engine.worker_threads} (max_workers=32)"),
            ("RSS growth (both ends)", mb(rss() - rss0)),
            ("open-file limit", limit),
        ]
    table(f"{count:,} idle keep-alive connections", rows)


# -- start and stop ---------------------------------------------------------


def median_ms(fn: Callable[[], None], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def bare(poll: float) -> Callable[[], None]:
    def run() -> None:
        server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": poll}, daemon=True
        )
        thread.start()
        server.shutdown()
        server.server_close()
        thread.join()

    return run


def fake_start_stop() -> None:
    with FakeFlattr():
        pass


def fake_one_request() -> None:
    with FakeFlattr() as fake:
        conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
        conn.request("GET", "/nowhere")
        conn.getresponse().read()
        conn.close()


def lifecycle_section(runs: int, slow_runs: int) -> None:
    for fn in (fake_start_stop, bare(0.001)):
        fn()  # warm up imports and caches
    fake_ms = median_ms(fake_start_stop, runs)
    fake_req_ms = median_ms(fake_one_request, runs)
    fast_ms = median_ms(bare(0.001), runs)
    default_ms = median_ms(bare(0.5), slow_runs)
    table(
        "Start+stop (median)",
        [
            (f"FakeFlattr() start+stop ({runs} runs)", f"{fake_ms:8.3f} ms"),
            (f"FakeFlattr() start, 1 request, stop ({runs})", f"{fake_req_ms:8.3f} ms"),
            (f"bare ThreadingHTTPServer, 1 ms poll ({runs})", f"{fast_ms:8.3f} ms"),
            (f"bare ThreadingHTTPServer, 0.5 s poll ({slow_runs})", f"{default_ms:8.3f} ms"),
            ("FakeFlattr / bare (1 ms poll)", f"{fake_ms / fast_ms:8.2f}x   (goal: about 3x)"),
            ("FakeFlattr / bare (0.5 s poll)", f"{fake_ms / default_ms:8.3f}x"),
        ],
    )


# -- the plugin import ------------------------------------------------------


def cumulative_us(code: str, module: str) -> int:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    for line in result.stderr.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1])
    raise SystemExit(f"{module} not in the import times")


def import_section(runs: int) -> None:
    plugin = statistics.median(
        cumulative_us(
            "import pytest; import flattr.testing.pytest_plugin", "flattr.testing.pytest_plugin"
        )
        for _ in range(runs)
    )
    first_use = statistics.median(
        cumulative_us(
            "import pytest, flattr.testing.pytest_plugin; import flattr.testing._fake",
            "flattr.testing._fake",
        )
        for _ in range(runs)
    )
    table(
        f"pytest plugin import (median of {runs}, -X importtime, pytest already loaded)",
        [
            ("added to every pytest start", f"{plugin / 1000:8.2f} ms   (goal: under 40 ms)"),
            ("loaded at the first fixture use", f"{first_use / 1000:8.2f} ms"),
        ],
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="tiny counts: check the script")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quick = args.quick
    note = " (--quick: tiny counts, the figures mean nothing)" if quick else ""
    print(f"FakeFlattr scale benchmark{note}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    memory_section(count=300 if quick else 20_000, warmup=50 if quick else 1000)
    unauthenticated_section(count=5 if quick else 300)
    idle_section(count=50 if quick else 1000)
    lifecycle_section(runs=10 if quick else 300, slow_runs=2 if quick else 10)
    import_section(runs=2 if quick else 7)
    return 0


if __name__ == "__main__":
    sys.exit(main())
