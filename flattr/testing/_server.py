"""The HTTP layer: a threaded HTTP/1.1 server with recording and fault injection.

:class:`HTTPEngine` runs a :class:`~http.server.ThreadingHTTPServer` on a
daemon thread, keeps connections alive (every answer has a
``Content-Length``), records each request, fires armed faults and hands
everything else to an application callable ``Incoming -> Outgoing``.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ._faults import REPLACING, Fault, FaultBook, oversize_body, replacement
from ._oauth import lenient_params
from ._wire import XML_TYPE, Incoming, Outgoing
from ._xmlout import error_document

log = logging.getLogger(__name__)

#: Largest request body the fake reads (bigger ones get 413).
MAX_BODY = 1024 * 1024

App = Callable[[Incoming], Outgoing]


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the fake received, as it arrived.

    ``query`` maps each name to all its values; ``oauth_params`` holds the
    OAuth parameters from wherever they came (header, query or form);
    ``status`` is what the fake answered (``None`` when a fault dropped the
    connection); ``connection_id`` numbers the TCP connection, from 1.
    Its :func:`repr` shows no header, body or OAuth value.
    """

    method: str
    path: str
    query: dict[str, list[str]] = field(repr=False)
    headers: dict[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    oauth_params: dict[str, str] = field(repr=False)
    status: int | None
    connection_id: int

    def header(self, name: str) -> str | None:
        """One header's value by case-insensitive name, or ``None``."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 resets a burst of parallel clients.
    request_queue_size = 128
    engine: HTTPEngine

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = self.socket.accept()
        context = self.engine.ssl_context
        if context is not None:
            sock = context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeFlattr/0.1"
    sys_version = ""
    timeout = 60
    server: _Server
    conn_id = 0

    def setup(self) -> None:
        # Headers and body go out in separate writes; without NODELAY, Nagle's
        # algorithm and the client's delayed ACK add ~40 ms per kept-alive answer.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn_id = self.server.engine.opened(self.request)
        if isinstance(self.request, ssl.SSLSocket):
            # Handshake before setup() makes the socket's file objects, so a
            # failed handshake leaves nothing holding the socket open.
            try:
                self.request.do_handshake()
            except BaseException:
                self.request.close()
                self.server.engine.closed(self.conn_id)  # finish() will not run
                raise
        super().setup()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.engine.closed(self.conn_id)

    def handle_one_request(self) -> None:
        engine = self.server.engine
        engine.set_idle(self.conn_id, True)
        try:
            self.raw_requestline = self.rfile.readline(65537)
        except (OSError, ValueError):
            self.close_connection = True
            return
        finally:
            engine.set_idle(self.conn_id, False)
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > 65536:
            self.send_error(414)
            return
        if not self.parse_request():
            return
        try:
            engine.serve(self)
        except OSError:
            log.debug("client went away", exc_info=True)
            self.close_connection = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Path only: a query string may hold an oauth_verifier.
        log.debug("%s %s -> %s", self.command, self.path.split("?", 1)[0], code)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http: " + format, *args)


class HTTPEngine:
    """Serves ``app`` over HTTP(S) on a background thread.

    :param app: answers each request that no fault replaces.
    :param host: address to bind.
    :param port: port to bind (0: any free port).
    :param ssl_context: server-side TLS context, or ``None`` for plain HTTP.
    :param latency: seconds to wait before every answer.
    """

    def __init__(
        self,
        app: App,
        *,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext | None,
        latency: float,
    ) -> None:
        self.app = app
        self.ssl_context = ssl_context
        self.latency = latency
        self.faults = FaultBook()
        self._host, self._port = host, port
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._conns: dict[int, tuple[socket.socket, bool]] = {}
        self._opened = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------

    def start(self) -> None:
        """Bind and serve on a daemon thread."""
        if self._server is not None:
            raise RuntimeError("already started")
        server = _Server((self._host, self._port), _Handler)
        server.engine = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            daemon=True,
            name=f"FakeFlattr:{self.port}",
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, close every connection and the listening socket."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        self.close_connections(idle_only=False)
        server.server_close()
        thread.join()
        self._server = self._thread = None

    @property
    def port(self) -> int:
        """The bound port."""
        if self._server is None:
            raise RuntimeError("not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``scheme://host:port`` of the running server."""
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://{self._host}:{self.port}"

    # -- connections ------------------------------------------------------

    def opened(self, sock: socket.socket) -> int:
        """Count a new connection; returns its id."""
        with self._lock:
            self._opened += 1
            self._conns[self._opened] = (sock, False)
            return self._opened

    def closed(self, conn_id: int) -> None:
        """Forget a finished connection."""
        with self._lock:
            self._conns.pop(conn_id, None)

    def set_idle(self, conn_id: int, idle: bool) -> None:
        """Mark a connection as waiting for its next request (or not)."""
        with self._lock:
            if conn_id in self._conns:
                self._conns[conn_id] = (self._conns[conn_id][0], idle)

    @property
    def connections_opened(self) -> int:
        """TCP connections accepted so far."""
        with self._lock:
            return self._opened

    def close_connections(self, *, idle_only: bool) -> int:
        """Shut down kept-alive connections (all, or only idle ones).

        :returns: how many were shut down.
        """
        with self._lock:
            victims = [s for s, idle in self._conns.values() if idle or not idle_only]
        for sock in victims:
            # The plain-socket method, so an SSLSocket keeps its state for the reader.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
        return len(victims)

    # -- recording --------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the request log, oldest first."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Empty the request log."""
        with self._lock:
            self._requests.clear()

    def _record(
        self, req: Incoming, raw_headers: Mapping[str, str], status: int | None, conn_id: int
    ) -> None:
        entry = RecordedRequest(
            method=req.method,
            path=req.path,
            query=parse_qs(req.query, keep_blank_values=True),
            headers=dict(raw_headers),
            body=req.body,
            oauth_params=lenient_params(req),
            status=status,
            connection_id=conn_id,
        )
        with self._lock:
            self._requests.append(entry)

    # -- serving one request ----------------------------------------------

    def serve(self, handler: _Handler) -> None:
        """Read, record, fault or answer one parsed request."""
        target = handler.path
        if target.startswith(("http://", "https://")):
            parts = urlsplit(target)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
        path, _, query = target.partition("?")
        raw_headers = dict(handler.headers.items())
        headers = {k.lower(): v for k, v in raw_headers.items()}
        host = headers.get("host") or f"{self._host}:{self.port}"
        scheme = "https" if self.ssl_context else "http"
        fault = self.faults.take(path)
        kind = fault.kind if fault else None

        def incoming(body: bytes) -> Incoming:
            return Incoming(handler.command, scheme, host, path, query, headers, body)

        if kind == "drop_before_read":
            self._record(incoming(b""), raw_headers, None, handler.conn_id)
            handler.close_connection = True
            return
        body, refusal = self._read_body(handler, headers)
        req = incoming(body)
        if kind == "drop_after_read":
            self._record(req, raw_headers, None, handler.conn_id)
            handler.close_connection = True
            return
        if self.latency:
            time.sleep(self.latency)
        if fault is not None and kind == "stall":
            time.sleep(fault.seconds)
        if refusal is not None:
            out = refusal
        elif fault is not None and kind == "oversize":
            self._record(req, raw_headers, 200, handler.conn_id)
            self._stream_oversize(handler, fault)
            return
        elif fault is not None and kind in REPLACING:
            out = replacement(fault, target, self.base_url)
        else:
            out = self._answer(req)
        if kind == "drop_after_processing":
            self._record(req, raw_headers, None, handler.conn_id)
            handler.close_connection = True
            return
        if kind == "wrong_content_type":
            out.content_type = "text/plain; charset=utf-8"
        self._record(req, raw_headers, out.status, handler.conn_id)
        self._send(handler, out, truncate=kind == "truncate")

    def _answer(self, req: Incoming) -> Outgoing:
        try:
            return self.app(req)
        except Exception:
            # A bug in the fake: say so loudly, but still answer like a server.
            log.exception("FakeFlattr failed on %s %s", req.method, req.path)
            return Outgoing(500, XML_TYPE, error_document(500, "internal error in FakeFlattr"))

    @staticmethod
    def _read_body(handler: _Handler, headers: dict[str, str]) -> tuple[bytes, Outgoing | None]:
        """The request body, or a refusal (411, 413) that also closes the connection."""
        if "transfer-encoding" in headers:
            handler.close_connection = True
            return b"", _plain(411, "send a Content-Length, not chunked encoding")
        length_text = headers.get("content-length")
        if length_text is None:
            if handler.command in ("POST", "PUT"):
                handler.close_connection = True
                return b"", _plain(411, "a POST needs a Content-Length header")
            return b"", None
        if not length_text.isdigit():
            handler.close_connection = True
            return b"", _plain(400, "bad Content-Length")
        length = int(length_text)
        if length > MAX_BODY:
            handler.close_connection = True
            return b"", _plain(413, f"bodies are limited to {MAX_BODY} bytes")
        return handler.rfile.read(length), None

    @staticmethod
    def _send(handler: _Handler, out: Outgoing, *, truncate: bool) -> None:
        handler.send_response(out.status)
        for name, value in out.headers:
            handler.send_header(name, value)
        handler.send_header("Content-Type", out.content_type)
        handler.send_header("Content-Length", str(len(out.body)))
        if handler.close_connection or truncate:
            handler.send_header("Connection", "close")
        handler.end_headers()
        if handler.command == "HEAD":
            return
        if truncate:
            handler.wfile.write(out.body[: len(out.body) // 2])
            handler.close_connection = True
        else:
            handler.wfile.write(out.body)

    @staticmethod
    def _stream_oversize(handler: _Handler, fault: Fault) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/xml; charset=utf-8")
        handler.send_header("Content-Length", str(fault.size))
        handler.end_headers()
        for piece in oversize_body(fault.size):
            handler.wfile.write(piece)


def _plain(status: int, message: str) -> Outgoing:
    return Outgoing(status, "text/plain; charset=utf-8", message.encode())
