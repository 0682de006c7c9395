#!/usr/bin/env python
"""Measure flattr side by side with the ways people called Flattr's API before it.

Run it from the repository root (no network: everything is on 127.0.0.1)::

    python benchmarks/run.py            # full run, about a minute
    python benchmarks/run.py --smoke    # tiny counts: checks the script works

It starts its own keep-alive server (``loopback_server.py``) in a separate
process and measures, per call of a GET of ``user/me``:

- the floor: ``http.client`` on a kept-alive connection, no signing, no parsing;
- ``httplib2`` on a reused connection, no signing, no parsing;
- the classic tutorial's ``oauth2.Client`` (signed, httplib2) + defusedxml;
- a naive stack: httplib2 + ``oauthlib.oauth1.Client.sign()`` + defusedxml;
- ``requests_oauthlib.OAuth1Session`` + defusedxml;
- ``flattr.FlattrClient(...).me()`` through the public API;

and, against a second such server answering API v2's JSON, a parsed
``flattr.v2.FlattrClient(token).me()`` beside ``requests`` + ``.json()``
doing the same bearer-token call.

The rows run interleaved, one batch of each per run with the order rotated, so
drift of the machine hits every row alike; medians over runs are printed, and
ratios are taken within a run against that run's floor. Then: signing alone,
flattr's own work per ``me()`` call with httplib2 replaced by a stand-in that
answers at once (no round trip: what a change to flattr's hot path moves),
parsing a list of things into models against a bare ``ElementTree`` parse, the
import time of ``flattr`` against that of its dependencies, and the number of
TCP connections the server saw. The last lines say which goals were met.

oauth2 and requests-oauthlib are optional (``pip install -e '.[bench]'``);
a row whose library is missing is skipped with a note.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hmac
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from hashlib import sha1
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from documents import things_document, user_document, v2_user_document  # noqa: E402

CONSUMER_KEY, CONSUMER_SECRET = "bench-consumer-key", "bench-consumer-secret"
TOKEN_KEY, TOKEN_SECRET = "bench-token-key-0123456789", "bench-token-secret-0123456789"
PATH = "/rest/0.0.1/user/me"

# Goals from the performance issue.
GOAL_ME_VS_FLOOR = 1.9
GOAL_PARSE_VS_ETREE = 2.5
GOAL_IMPORT_VS_DEPS = 1.2
# Goal from the API v2 issue: a parsed v2 me() against the same keep-alive floor.
GOAL_V2_ME_VS_FLOOR = 1.5
V2_TOKEN = "bench-bearer-token-0123456789abcdef0123"


# ---------------------------------------------------------------------------
# The loopback server, in its own process.


class LoopbackServer:
    """Starts ``loopback_server.py`` answering every request with ``body``.

    :param cpu: pin the server to this CPU (see :func:`pin`).
    """

    def __init__(self, body: bytes, cpu: int | None = None, *, suffix: str = ".xml") -> None:
        # the server answers with the Content-Type the suffix names (.json: JSON)
        handle, self._body_path = tempfile.mkstemp(prefix="flattr-bench-", suffix=suffix)
        with os.fdopen(handle, "wb") as out:
            out.write(body)
        pin = [] if cpu is None else [str(cpu)]
        self._process = subprocess.Popen(
            [sys.executable, str(HERE / "loopback_server.py"), self._body_path, *pin],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().split()
        if len(line) != 2 or line[0] != "port":
            self.close()
            raise RuntimeError(f"the benchmark server did not start: {line!r}")
        self.port = int(line[1])
        self.base_url = f"http://127.0.0.1:{self.port}"

    def _ask(self, command: str) -> str:
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._process.stdin.write(command + "\n")
        self._process.stdin.flush()
        return self._process.stdout.readline().strip()

    def reset(self) -> None:
        """Zero the connection and request counters."""
        self._ask("reset")

    def stats(self) -> tuple[int, int]:
        """``(connections accepted, requests answered)`` since the last reset."""
        words = self._ask("stats").split()
        return int(words[1]), int(words[3])

    def close(self) -> None:
        """Stop the server process and remove the body file."""
        if self._process.poll() is None:
            with contextlib.suppress(OSError):
                self._ask("quit")
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe is not None:
                pipe.close()
        os.unlink(self._body_path)

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------
# The rows: each factory returns a zero-argument call, or raises _Skip.


class _Skip(Exception):
    """A row whose library is not installed."""


def _peer_parse(body: bytes) -> dict[str, str]:
    """What the peers do with the answer: a defusedxml parse read into a dict."""
    import defusedxml.ElementTree as DefusedET

    user = DefusedET.fromstring(body).find("user")
    assert user is not None
    return {child.tag: (child.text or "").strip() for child in user}


def row_floor(server: LoopbackServer) -> Callable[[], object]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port)

    def call() -> bytes:
        conn.request("GET", PATH)
        return conn.getresponse().read()

    return call


def row_httplib2(server: LoopbackServer) -> Callable[[], object]:
    import httplib2

    http_ = httplib2.Http()
    url = server.base_url + PATH

    def call() -> bytes:
        body: bytes = http_.request(url)[1]
        return body

    return call


def row_oauth2(server: LoopbackServer) -> Callable[[], object]:
    try:
        import oauth2
    except ImportError as exc:  # distutils is gone on 3.12+ without setuptools
        raise _Skip(f"oauth2 not importable ({exc}); pip install oauth2 setuptools") from exc
    client = oauth2.Client(
        oauth2.Consumer(CONSUMER_KEY, CONSUMER_SECRET), oauth2.Token(TOKEN_KEY, TOKEN_SECRET)
    )
    url = server.base_url + PATH

    def call() -> dict[str, str]:
        return _peer_parse(client.request(url, "GET")[1])

    return call


def row_naive(server: LoopbackServer) -> Callable[[], object]:
    import httplib2
    import oauthlib.oauth1

    signer = oauthlib.oauth1.Client(
        CONSUMER_KEY,
        client_secret=CONSUMER_SECRET,
        resource_owner_key=TOKEN_KEY,
        resource_owner_secret=TOKEN_SECRET,
    )
    http_ = httplib2.Http()
    url = server.base_url + PATH

    def call() -> dict[str, str]:
        uri, headers, _ = signer.sign(url)
        return _peer_parse(http_.request(uri, "GET", headers=headers)[1])

    return call


def row_requests_oauthlib(server: LoopbackServer) -> Callable[[], object]:
    try:
        from requests_oauthlib import OAuth1Session
    except ImportError as exc:
        raise _Skip(f"requests-oauthlib not installed ({exc})") from exc
    session = OAuth1Session(
        CONSUMER_KEY,
        client_secret=CONSUMER_SECRET,
        resource_owner_key=TOKEN_KEY,
        resource_owner_secret=TOKEN_SECRET,
    )
    session.trust_env = False  # no proxy look-ups: the peer's best case
    url = server.base_url + PATH

    def call() -> dict[str, str]:
        return _peer_parse(session.get(url).content)

    return call


def row_flattr(server: LoopbackServer) -> Callable[[], object]:
    import flattr

    client = flattr.FlattrClient(
        CONSUMER_KEY, CONSUMER_SECRET, (TOKEN_KEY, TOKEN_SECRET), base_url=server.base_url
    )
    return client.me


@dataclass
class Row:
    key: str
    label: str
    factory: Callable[[LoopbackServer], Callable[[], object]] | None = None
    call: Callable[[], object] | None = None
    note: str = ""
    samples: list[float] = field(default_factory=list)
    #: this row's time over the floor's, batch by batch (paired design only)
    ratios: list[float] = field(default_factory=list)


def call_rows() -> list[Row]:
    return [
        Row("floor", "floor: http.client keep-alive GET, no signing, no parsing", row_floor),
        Row("httplib2", "httplib2 reused connection, no signing, no parsing", row_httplib2),
        Row("oauth2", "oauth2.Client (classic tutorial) + defusedxml", row_oauth2),
        Row("naive", "httplib2 + oauthlib Client.sign() + defusedxml", row_naive),
        Row("requests", "requests-oauthlib OAuth1Session + defusedxml", row_requests_oauthlib),
        Row("flattr", "flattr: FlattrClient(...).me()", row_flattr),
    ]


# ---------------------------------------------------------------------------
# Timing helpers.


def time_batch(call: Callable[[], object], n: int) -> float:
    """Microseconds per call over ``n`` calls."""
    gc.collect()
    started = time.perf_counter_ns()
    for _ in range(n):
        call()
    return (time.perf_counter_ns() - started) / n / 1000


def interleave(rows: list[Row], runs: int, n: int) -> None:
    """One batch of every live row per run, the order rotated each run."""
    live = [row for row in rows if row.call is not None]
    for run in range(runs):
        shift = run % len(live)
        for row in live[shift:] + live[:shift]:
            assert row.call is not None
            row.samples.append(time_batch(row.call, n))


def interleave_paired(floor: Row, rows: list[Row], runs: int, n: int) -> None:
    """Each batch of a row right after a batch of the floor, the order rotated each run.

    A row's ratio is taken against the floor batch just before it, so that a
    burst of load elsewhere on the machine hits both sides of a ratio alike.
    """
    live = [row for row in rows if row.call is not None]
    assert floor.call is not None
    for run in range(runs):
        shift = run % len(live)
        for row in live[shift:] + live[:shift]:
            assert row.call is not None
            base = time_batch(floor.call, n)
            this = time_batch(row.call, n)
            floor.samples.append(base)
            row.samples.append(this)
            row.ratios.append(this / base)


def run_ratios(row: Row, floor: Row) -> list[float]:
    if row is floor:
        return [1.0]
    if row.ratios:
        return row.ratios
    return [a / b for a, b in zip(row.samples, floor.samples, strict=True)]


def print_table(title: str, rows: list[Row], floor: Row, unit: str = "µs/call") -> dict[str, float]:
    """Print medians and in-run ratios; return the median ratio per live row."""
    print(f"\n{title}")
    width = max(len(row.label) for row in rows)
    print(f"  {'way'.ljust(width)}  {unit:>10}  {'vs floor':>8}")
    ratios: dict[str, float] = {}
    for row in rows:
        if row.call is None:
            print(f"  {row.label.ljust(width)}  {'skipped':>10}  {'':>8}  ({row.note})")
            continue
        ratio = statistics.median(run_ratios(row, floor))
        ratios[row.key] = ratio
        print(f"  {row.label.ljust(width)}  {statistics.median(row.samples):10.1f}  {ratio:8.2f}")
    return ratios


# ---------------------------------------------------------------------------
# Sections.


def calls_section(
    args: argparse.Namespace, server: LoopbackServer
) -> tuple[dict[str, float], float]:
    """The main table; returns the median ratios and the floor's median µs per call."""
    rows = call_rows()
    for row in rows:
        assert row.factory is not None
        try:
            row.call = row.factory(server)
        except _Skip as exc:
            row.note = str(exc)
            continue
        result = row.call()  # warm up the connection and check the answer
        if isinstance(result, bytes):
            ok = result == server_body()
        elif isinstance(result, dict):
            ok = result["username"] == "alice"
        else:
            ok = getattr(result, "username", None) == "alice"
        if not ok:
            raise RuntimeError(f"{row.label}: unexpected answer {result!r}")
    floor, others = rows[0], rows[1:]
    interleave_paired(floor, others, 1, max(1, args.calls // 10))  # warm-up, discarded
    for row in rows:
        row.samples.clear()
        row.ratios.clear()
    interleave_paired(floor, others, args.runs, args.calls)
    ratios = print_table(
        f"Signed GET user/me + parse, {args.runs} runs of {args.calls} calls per row, each "
        "batch right after a floor batch (median µs per call; ratio = median over batches "
        "of the batch's time over the floor batch before it)",
        rows,
        floor,
    )
    return ratios, statistics.median(floor.samples)


_SERVER_BODY: list[bytes] = []


def server_body() -> bytes:
    if not _SERVER_BODY:
        _SERVER_BODY.append(user_document())
    return _SERVER_BODY[0]


def signing_section(args: argparse.Namespace, floor_us: float) -> None:
    """Signing alone (no network): informational, where the time of a call goes."""
    import oauthlib.oauth1

    from flattr._http import Credentials, Request, Signer, sign

    url = "https://api.flattr.com" + PATH
    peer = oauthlib.oauth1.Client(
        CONSUMER_KEY,
        client_secret=CONSUMER_SECRET,
        resource_owner_key=TOKEN_KEY,
        resource_owner_secret=TOKEN_SECRET,
    )
    credentials = Credentials(CONSUMER_KEY, CONSUMER_SECRET, TOKEN_KEY, TOKEN_SECRET)
    signer = Signer(credentials)
    # The base string of a user/me call: HMAC-SHA1 alone, without building it.
    base_string = signer.base_string(
        Request("GET", url), nonce="1" * 30, timestamp="1300000000"
    ).encode()
    key = f"{CONSUMER_SECRET}&{TOKEN_SECRET}".encode()
    rows = [
        Row("oauthlib", "oauthlib.oauth1.Client.sign()", call=lambda: peer.sign(url)),
        Row(
            "flattr",
            "flattr Signer.sign(Request(...)), as in each call",
            call=lambda: signer.sign(Request("GET", url)),
        ),
        Row(
            "first",
            "flattr sign(), a new Signer each time",
            call=lambda: sign(Request("GET", url), credentials),
        ),
        Row(
            "hmac",
            "plain HMAC-SHA1 over a base string",
            call=lambda: hmac.new(key, base_string, sha1).digest(),
        ),
    ]
    n = max(1, args.calls * 5)
    interleave(rows, args.runs, n)
    print(f"\nSigning alone, {args.runs} interleaved runs of {n} signatures (no network)")
    width = max(len(row.label) for row in rows)
    for row in rows:
        median = statistics.median(row.samples)
        share = f"  {median / floor_us:5.2f}x a floor round trip"
        print(f"  {row.label.ljust(width)}  {median:8.2f} µs{share}")


class _InstantHttp:
    """Stands in for ``httplib2.Http``: answers every request at once with ``user/me``.

    Only for :func:`own_work_section`, which measures what flattr itself does
    per call, without the round trip and without httplib2.
    """

    def __init__(
        self, body: bytes | None = None, content_type: str = "text/xml; charset=utf-8"
    ) -> None:
        import httplib2

        body = server_body() if body is None else body
        self.connections: dict[str, object] = {}
        self._answer = (
            httplib2.Response(
                {
                    "status": "200",
                    "content-type": content_type,
                    "content-length": str(len(body)),
                }
            ),
            body,
        )

    def request(self, uri: str, **kwargs: object) -> tuple[object, bytes]:
        return self._answer


def own_work_section(args: argparse.Namespace, floor_us: float) -> None:
    """flattr's own work per me() call (no network, no httplib2): informational."""
    import flattr
    from flattr._http import Transport

    client = flattr.FlattrClient(
        CONSUMER_KEY,
        CONSUMER_SECRET,
        (TOKEN_KEY, TOKEN_SECRET),
        base_url="http://127.0.0.1:9",  # never contacted: the stand-in answers
        transport=Transport(http_factory=_InstantHttp),  # type: ignore[arg-type]
    )
    if client.me().username != "alice":
        raise RuntimeError("the stand-in's answer did not parse")
    row = Row(
        "own",
        "flattr: FlattrClient(...).me(), httplib2 replaced by an instant stand-in",
        call=client.me,
    )
    n = max(1, args.calls * 5)
    interleave([row], args.runs, n)
    median = statistics.median(row.samples)
    print(
        f"\nflattr's own work per me() call, {args.runs} runs of {n} calls (no network, no "
        "httplib2: signing, the transport's checks, parsing, the model)"
    )
    print(f"  {row.label}  {median:8.2f} µs  {median / floor_us:5.2f}x a floor round trip")


def parsing_section(args: argparse.Namespace) -> float:
    from xml.etree import ElementTree

    import defusedxml.ElementTree as DefusedET

    from flattr import _xml

    def parse_rows(body: bytes, name: str, parse: Callable[[bytes], object]) -> list[Row]:
        return [
            Row(
                "etree",
                "floor: xml.etree.ElementTree.fromstring",
                call=lambda: ElementTree.fromstring(body),
            ),
            Row(
                "defused",
                "defusedxml fromstring(forbid_dtd=True), no models",
                call=lambda: DefusedET.fromstring(body, forbid_dtd=True),
            ),
            Row("flattr", f"flattr: {name}() into models", call=lambda: parse(body)),
        ]

    # Informational first: the user document of the main table, where parser
    # set-up weighs more than the parsing.
    user_body = user_document()
    small = parse_rows(user_body, "parse_user", _xml.parse_user)
    n = max(1, args.calls * 5)
    interleave(small, args.parse_runs, n)
    print_table(
        f"Parsing the user/me document ({len(user_body)} bytes), {args.parse_runs} interleaved "
        f"runs of {n} parses (median µs per parse)",
        small,
        small[0],
        unit="µs/parse",
    )

    body = things_document(args.things)
    things = _xml.parse_things(body)
    if len(things) != args.things or things[-1].tags[0] != "python":
        raise RuntimeError("parse_things did not read the benchmark document")
    rows = parse_rows(body, "parse_things", _xml.parse_things)
    interleave(rows, args.parse_runs, args.parse_calls)
    for row in rows:  # µs per parse -> ms per parse
        row.samples = [s / 1000 for s in row.samples]
    ratios = print_table(
        f"Parsing a {args.things}-thing list ({len(body)} bytes), {args.parse_runs} interleaved "
        f"runs of {args.parse_calls} parses (median ms per parse)",
        rows,
        rows[0],
        unit="ms/parse",
    )
    return ratios["flattr"]


_IMPORT_DEPS = r"""
import json, sys
before = set(sys.modules)
import flattr
flattr.FlattrClient  # its names load on first use: count what using it loads
print(json.dumps([m for m in sys.modules if m not in before
                  and m != "flattr" and not m.startswith("flattr.")]))
"""

_IMPORT_SPLIT = r"""
import json, sys, time
deps = json.loads(sys.stdin.read())
t0 = time.perf_counter()
for name in deps:
    try:
        __import__(name)
    except Exception:
        pass
t1 = time.perf_counter()
import flattr
flattr.FlattrClient
t2 = time.perf_counter()
print(json.dumps([t1 - t0, t2 - t1]))
"""

_IMPORT_WHOLE = r"""
import time
t0 = time.perf_counter()
import flattr
flattr.FlattrClient
print(time.perf_counter() - t0)
"""


def _python(
    code: str, stdin: str = "", *options: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *options, "-c", code],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        cwd=HERE.parent,
        env=env,
    )


def _importtime_self(trace: str) -> dict[str, int]:
    """Self time in µs per module from ``python -X importtime`` output."""
    times: dict[str, int] = {}
    for line in trace.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[0].isdigit():
            times[parts[2]] = int(parts[0])
    return times


def import_section(args: argparse.Namespace) -> float:
    # Byte code is cached, as it is after `pip install` (which compiles every
    # module); a private PYTHONPYCACHEPREFIX keeps the source tree clean and
    # PYTHONDONTWRITEBYTECODE, if set, would compile flattr on every import.
    with tempfile.TemporaryDirectory(prefix="flattr-bench-pyc-") as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        deps_json = _python(_IMPORT_DEPS, env=env).stdout  # also fills the cache
        deps = json.loads(deps_json)
        _python(_IMPORT_SPLIT, deps_json, env=env)
        deps_times: list[float] = []
        own_times: list[float] = []
        whole: list[float] = []
        traces: list[dict[str, int]] = []
        for _ in range(args.import_runs):
            d, o = json.loads(_python(_IMPORT_SPLIT, deps_json, env=env).stdout)
            deps_times.append(d * 1000)
            own_times.append(o * 1000)
            whole.append(float(_python(_IMPORT_WHOLE, env=env).stdout) * 1000)
            traces.append(
                _importtime_self(
                    _python(
                        "import flattr; flattr.FlattrClient", "", "-X", "importtime", env=env
                    ).stderr
                )
            )
    ratios = [(d + o) / d for d, o in zip(deps_times, own_times, strict=True)]
    ratio = statistics.median(ratios)
    print(
        f"\n`import flattr` and its first use (flattr.FlattrClient), "
        f"{args.import_runs} fresh interpreters each (byte code cached)"
    )
    lines = [
        (f"its dependencies alone ({len(deps)} modules, imported first)", deps_times),
        ("then flattr's own modules on top", own_times),
        ("`import flattr` from scratch", whole),
    ]
    for label, samples in lines:
        print(f"  {label:<56} {statistics.median(samples):7.2f} ms")
    print(f"  {'(dependencies + flattr) / dependencies':<56} {ratio:7.2f}x")
    # `python -X importtime`: which of flattr's modules cost what (median self time).
    names = {name for trace in traces for name in trace if name.split(".")[0] == "flattr"}
    own = sorted(
        ((statistics.median(trace.get(name, 0) for trace in traces), name) for name in names),
        reverse=True,
    )
    listed = ", ".join(f"{name} {us / 1000:.1f}" for us, name in own[:6])
    print(f"  -X importtime self ms, flattr's modules: {listed}")
    heavy = sorted(set(deps) - set(sys.stdlib_module_names) - {m for m in deps if "." in m})
    print(f"  third-party top-level imports: {', '.join(heavy)}")
    return ratio


def connections_section(args: argparse.Namespace, server: LoopbackServer) -> tuple[bool, str]:
    import flattr

    def client() -> flattr.FlattrClient:
        return flattr.FlattrClient(
            CONSUMER_KEY, CONSUMER_SECRET, (TOKEN_KEY, TOKEN_SECRET), base_url=server.base_url
        )

    server.reset()
    with client() as api:
        for _ in range(args.connection_calls):
            api.me()
    sequential = server.stats()

    server.reset()
    threads = args.threads
    per_thread = max(1, args.connection_calls // threads)
    failures: list[BaseException] = []
    with client() as api:

        def work() -> None:
            try:
                for _ in range(per_thread):
                    api.me()
            except BaseException as exc:  # reported below
                failures.append(exc)

        workers = [threading.Thread(target=work) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    threaded = server.stats()
    print("\nTCP connections counted by the server")
    print(
        f"  {args.connection_calls} sequential me() calls, one client: "
        f"{sequential[0]} connection(s), {sequential[1]} requests"
    )
    print(
        f"  {threads} threads x {per_thread} me() calls, one shared client: "
        f"{threaded[0]} connection(s), {threaded[1]} requests"
        + (f", {len(failures)} thread(s) failed: {failures[0]!r}" if failures else "")
    )
    ok = (
        sequential == (1, args.connection_calls)
        and threaded == (threads, threads * per_thread)
        and not failures
    )
    detail = (
        f"{sequential[0]} connection for {sequential[1]} sequential calls, "
        f"{threaded[0]} for {threads} threads"
    )
    return ok, detail


def row_v2_requests_json(server: LoopbackServer) -> Callable[[], object]:
    try:
        import requests
    except ImportError as exc:
        raise _Skip(f"requests not installed ({exc})") from exc
    session = requests.Session()
    session.trust_env = False  # no proxy look-ups: the peer's best case
    session.headers["Authorization"] = f"Bearer {V2_TOKEN}"
    url = server.base_url + "/rest/v2/user"

    def call() -> object:
        return session.get(url).json()

    return call


def row_v2_flattr(server: LoopbackServer) -> Callable[[], object]:
    from flattr import v2

    return v2.FlattrClient(V2_TOKEN, base_url=server.base_url).me


def v2_section(args: argparse.Namespace, server_cpu: int | None) -> dict[str, float]:
    """A parsed API v2 me() (bearer token, JSON) against the keep-alive floor."""
    with LoopbackServer(v2_user_document(), server_cpu, suffix=".json") as server:
        rows = [
            Row("floor", "floor: http.client keep-alive GET, no token, no parsing", row_floor),
            Row("requests", "requests.Session + bearer header + .json()", row_v2_requests_json),
            Row("flattr", "flattr: v2.FlattrClient(token).me()", row_v2_flattr),
        ]
        for row in rows:
            assert row.factory is not None
            try:
                row.call = row.factory(server)
            except _Skip as exc:
                row.note = str(exc)
                continue
            result = row.call()  # warm up the connection and check the answer
            if isinstance(result, bytes):
                ok = result == v2_user_document()
            elif isinstance(result, dict):
                ok = result.get("username") == "alice"
            else:
                ok = getattr(result, "username", None) == "alice"
            if not ok:
                raise RuntimeError(f"{row.label}: unexpected answer {result!r}")
        floor, others = rows[0], rows[1:]
        interleave_paired(floor, others, 1, max(1, args.calls // 10))  # warm-up, discarded
        for row in rows:
            row.samples.clear()
            row.ratios.clear()
        interleave_paired(floor, others, args.runs, args.calls)
        ratios = print_table(
            f"API v2: GET /user with a bearer token + JSON parse, {args.runs} runs of "
            f"{args.calls} calls per row, each batch right after a floor batch (median µs "
            "per call; ratio against the floor batch before it)",
            rows,
            floor,
        )
        floor_us = statistics.median(floor.samples)
    v2_own_work(args, floor_us)
    return ratios


def v2_own_work(args: argparse.Namespace, floor_us: float) -> None:
    """flattr's own work per v2 me() call (no network, no httplib2): informational."""
    from flattr import v2
    from flattr._http import Transport

    def stand_in() -> _InstantHttp:
        return _InstantHttp(v2_user_document(), "application/json;charset=utf-8")

    client = v2.FlattrClient(
        V2_TOKEN,
        base_url="http://127.0.0.1:9",  # never contacted: the stand-in answers
        transport=Transport(http_factory=stand_in),  # type: ignore[arg-type]
    )
    if client.me().username != "alice":
        raise RuntimeError("the stand-in's answer did not parse")
    row = Row("own", "flattr: v2.FlattrClient(token).me(), httplib2 replaced", call=client.me)
    n = max(1, args.calls * 5)
    interleave([row], args.runs, n)
    median = statistics.median(row.samples)
    print(f"  {row.label}  {median:8.2f} µs  {median / floor_us:5.2f}x a floor round trip")


# ---------------------------------------------------------------------------


def pin(args: argparse.Namespace) -> tuple[int | None, int | None]:
    """Put this process and the server on two different CPUs, when there are two.

    Left to itself, the scheduler sometimes runs both on one CPU and sometimes
    on two, and a round trip costs very differently in each case; every row
    would shift from one run to the next. Two CPUs is also what a client
    talking to a server elsewhere looks like.
    """
    if args.no_pin or not hasattr(os, "sched_setaffinity"):
        return None, None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    os.sched_setaffinity(0, {cpus[0]})
    return cpus[0], cpus[1]


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )


def versions() -> str:
    from importlib import metadata

    found = []
    for name in (
        "flattr",
        "httplib2",
        "oauthlib",
        "defusedxml",
        "oauth2",
        "requests",
        "requests-oauthlib",
    ):
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (missing)")
    return ", ".join(found)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100, help="calls per batch (100)")
    parser.add_argument("--runs", type=int, default=50, help="interleaved runs (50)")
    parser.add_argument("--things", type=int, default=1000, help="things in the parsed list (1000)")
    parser.add_argument("--parse-calls", type=int, default=5, help="parses per batch (5)")
    parser.add_argument("--parse-runs", type=int, default=15, help="interleaved parse runs (15)")
    parser.add_argument("--import-runs", type=int, default=15, help="fresh interpreters (15)")
    parser.add_argument(
        "--connection-calls", type=int, default=1000, help="sequential calls (1000)"
    )
    parser.add_argument("--threads", type=int, default=4, help="threads sharing a client (4)")
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="let the scheduler place client and server (by default each gets its own CPU)",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny counts: does the script work?")
    args = parser.parse_args(argv)
    if args.smoke:
        args.calls, args.runs, args.things = 5, 2, 20
        args.parse_calls, args.parse_runs, args.import_runs = 1, 2, 1
        args.connection_calls, args.threads = 20, 2
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"flattr benchmarks: {machine()}")
    print(f"versions: {versions()}")
    print(f"command: python benchmarks/run.py {' '.join(sys.argv[1:])}".rstrip())
    client_cpu, server_cpu = pin(args)
    if server_cpu is None:
        print("CPUs: not pinned (the scheduler places client and server)")
    else:
        print(f"CPUs: this process on CPU {client_cpu}, the server on CPU {server_cpu}")
    with LoopbackServer(server_body(), server_cpu) as server:
        ratios, floor_us = calls_section(args, server)
        connections_ok, connections_detail = connections_section(args, server)
    v2_ratios = v2_section(args, server_cpu)
    signing_section(args, floor_us)
    own_work_section(args, floor_us)
    parse_ratio = parsing_section(args)
    import_ratio = import_section(args)

    goals: list[tuple[bool | None, str]] = []
    me = ratios.get("flattr")
    goals.append(
        (
            me is not None and me <= GOAL_ME_VS_FLOOR,
            f"me() {me:.2f}x the floor (goal <= {GOAL_ME_VS_FLOOR})",
        )
    )
    for peer, name in (("oauth2", "oauth2.Client"), ("requests", "requests-oauthlib")):
        if peer in ratios:
            goals.append(
                (
                    ratios["flattr"] < ratios[peer],
                    f"me() {me:.2f}x vs {name} {ratios[peer]:.2f}x (goal: faster)",
                )
            )
        else:
            goals.append((None, f"me() vs {name}: not measured, the library is missing"))
    goals.append(
        (
            parse_ratio <= GOAL_PARSE_VS_ETREE,
            f"parse_things {parse_ratio:.2f}x ElementTree (goal <= {GOAL_PARSE_VS_ETREE})",
        )
    )
    goals.append(
        (
            import_ratio <= GOAL_IMPORT_VS_DEPS,
            f"import flattr {import_ratio:.2f}x its dependencies (goal <= {GOAL_IMPORT_VS_DEPS})",
        )
    )
    goals.append((connections_ok, f"connections: {connections_detail} (goal: one per thread)"))
    v2_me = v2_ratios.get("flattr")
    goals.append(
        (
            v2_me is not None and v2_me <= GOAL_V2_ME_VS_FLOOR,
            f"v2 me() {v2_me or 0:.2f}x the floor (goal <= {GOAL_V2_ME_VS_FLOOR})",
        )
    )
    if "requests" in v2_ratios and v2_me is not None:
        goals.append(
            (
                v2_me < v2_ratios["requests"],
                f"v2 me() {v2_me:.2f}x vs requests + json {v2_ratios['requests']:.2f}x "
                "(goal: faster)",
            )
        )
    else:
        goals.append((None, "v2 me() vs requests + json: not measured, requests is missing"))
    print("\nGoals")
    for ok, text in goals:
        mark = "n/a " if ok is None else ("met " if ok else "MISSED")
        print(f"  [{mark}] {text}")
    missed = [text for ok, text in goals if ok is False]
    print("all goals met" if not missed else f"{len(missed)} goal(s) missed")
    if args.smoke:
        return 0 if connections_ok else 1
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())
