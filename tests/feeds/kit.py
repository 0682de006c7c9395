"""Feed-test helpers: the shipped feed files, register bookkeeping, a loopback feed server."""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs
from xml.etree import ElementTree

from flattr.testing import FakeFlattr

DATA = Path(__file__).parent / "data"
REGISTER = "/rest/0.0.1/thing/register"


def feed_file(name: str) -> Path:
    """A feed shipped under tests/feeds/data/."""
    return DATA / name


def registered_url(body: bytes) -> str:
    """The <url> of a recorded thing/register request body."""
    document = parse_qs(body.decode("ascii"))["data"][0]
    url = ElementTree.fromstring(document.encode("utf-8")).findtext("url")
    assert url is not None
    return url


def register_attempts(fake: FakeFlattr) -> list[tuple[str, int | None]]:
    """``(url, status)`` of every register request the fake received, in order."""
    return [(registered_url(r.body), r.status) for r in fake.requests_to(REGISTER, "POST")]


@dataclass
class Route:
    """What the feed server answers on one path."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    #: Send no Content-Length: the body ends when the connection closes.
    omit_length: bool = False


class FeedServer:
    """A stdlib HTTP server on 127.0.0.1 that serves feeds from a dict of routes."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[tuple[str, Message]] = []
        routes, hits = self.routes, self.hits

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                hits.append((self.path, self.headers))
                route = routes.get(self.path)
                if route is None:
                    route = Route(b"not here", 404, {"Content-Type": "text/plain"})
                if route.delay:
                    time.sleep(route.delay)
                self.send_response(route.status)
                headers = {"Content-Type": "application/rss+xml", **route.headers}
                if not route.omit_length:
                    headers.setdefault("Content-Length", str(len(route.body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Connection", "close")
                self.end_headers()
                with contextlib.suppress(OSError):
                    self.wfile.write(route.body)
                self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.scheme = "http"
        if ssl_context is not None:
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def serve(self, path: str, body: bytes, **options: object) -> str:
        """Serve ``body`` at ``path`` and return its URL."""
        self.routes[path] = Route(body, **options)  # type: ignore[arg-type]
        return self.url(path)

    def __enter__(self) -> FeedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
