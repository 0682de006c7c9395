"""A small loopback HTTP server for the v2 client tests: routes to scripted answers.

Each route is ``(method, path)`` mapped to a function that receives the
recorded request and returns ``(status, headers, body)``. The examples server
built on it serves the official example bodies from ``tests/data/v2-examples``
byte for byte.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from tests.kit import DATA

EXAMPLES = DATA / "v2-examples"
JSON_TYPE = "application/json;charset=utf-8"


def example(name: str) -> bytes:
    """The raw bytes of an official example body."""
    return (EXAMPLES / name).read_bytes()


def example_json(name: str) -> dict[str, object]:
    """An official example body, decoded."""
    data = json.loads(example(name))
    assert isinstance(data, dict)
    return data


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


Answer = tuple[int, dict[str, str], bytes]
Route = Callable[[Seen], Answer]


def ok(body: bytes, status: int = 200, **headers: str) -> Answer:
    return status, {"Content-Type": JSON_TYPE, **headers}, body


def error(status: int, code: str, description: str, **headers: str) -> Answer:
    body = json.dumps(
        {
            "error": code,
            "error_description": description,
            "error_uri": "http://developers.flattr.net/api/",
        }
    ).encode()
    return ok(body, status, **headers)


class V2Server:
    """Answers ``routes`` on 127.0.0.1 (port 0); anything else is a 404 JSON error."""

    def __init__(self, routes: dict[tuple[str, str], Route]) -> None:
        self.routes = routes
        self.seen: list[Seen] = []
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def _any(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(
                    self.command,
                    parts.path,
                    dict(parse_qsl(parts.query, keep_blank_values=True)),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                server.seen.append(seen)
                route = server.routes.get((self.command, parts.path))
                if route is None:
                    status, headers, payload = error(404, "not_found", "No such route")
                else:
                    status, headers, payload = route(seen)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _any

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)

    def paths(self) -> list[str]:
        return [f"{s.method} {s.path}" for s in self.seen]


@contextmanager
def serving(routes: dict[tuple[str, str], Route]) -> Iterator[V2Server]:
    server = V2Server(routes)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def static(name: str, status: int = 200, **headers: str) -> Route:
    body = example(name)
    return lambda seen: ok(body, status, **headers)


P = "/rest/v2"


def example_routes() -> dict[tuple[str, str], Route]:
    """Every documented resource answered with its official example, verbatim."""
    return {
        ("POST", "/oauth/token"): static("token_response.json"),
        ("GET", f"{P}/user"): static("user_extended.json"),
        ("GET", f"{P}/users/flattr"): static("user.json"),
        ("GET", f"{P}/things/423405"): static("thing.json"),
        ("GET", f"{P}/things/423405,450287"): static("thing_many.json"),
        ("GET", f"{P}/things/lookup"): static(
            "thing_lookup.json", 302, Location="https://api.flattr.com/rest/v2/things/423405"
        ),
        ("POST", f"{P}/things"): static("thing_create.json", 201),
        ("PATCH", f"{P}/things/423405"): static("thing_update.json"),
        ("DELETE", f"{P}/things/423405"): lambda seen: (204, {}, b""),
        ("GET", f"{P}/things/search"): static("search.json"),
        ("GET", f"{P}/users/flattr/things"): static("user_things.json"),
        ("GET", f"{P}/user/things"): static("user_things.json"),
        ("GET", f"{P}/users/qzio/flattrs"): static("flattrs.json"),
        ("GET", f"{P}/user/flattrs"): static("flattrs.json"),
        ("POST", f"{P}/things/423405/flattr"): static("flattr_create.json"),
        ("POST", f"{P}/flattr"): static("flattr_create.json"),
        ("GET", f"{P}/user/subscriptions"): static("subscriptions.json"),
        ("POST", f"{P}/things/423405/subscriptions"): static("subscription_create.json"),
        ("DELETE", f"{P}/things/423405/subscriptions"): lambda seen: (204, {}, b""),
        ("GET", f"{P}/categories"): static("categories.json"),
        ("GET", f"{P}/languages"): static("languages.json"),
        ("GET", f"{P}/rate_limit"): static("rate_limit.json"),
    }
