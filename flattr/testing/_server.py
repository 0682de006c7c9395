"""The HTTP layer: HTTP/1.1 keep-alive serving with recording and fault injection.

:class:`HTTPEngine` serves through a :class:`~flattr.testing._loop.Loop` (one
selector thread that reads requests whole, a bounded pool of workers that
answer them), keeps connections alive (every answer has a
``Content-Length``), records each request in a bounded
:class:`~flattr.testing._log.RequestLog`, fires armed faults and hands
everything else to an application callable ``Incoming -> Outgoing``.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ._faults import REPLACING, Fault, FaultBook, oversize_body, replacement
from ._http1 import BadHead, Head, answer_head, parse_head
from ._limits import HEAD_LIMIT, MAX_BODY, ascii_int
from ._log import RecordedRequest, RequestLog
from ._loop import Connection, HeadResult, Loop
from ._wire import XML_TYPE, Incoming, Outgoing
from ._xmlout import error_document

__all__ = ["MAX_BODY", "HTTPEngine", "RecordedRequest"]

log = logging.getLogger(__name__)

App = Callable[[Incoming], Outgoing]
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


@dataclass(slots=True)
class _Request:
    """A request whose head has been read, waiting for its body and a worker."""

    method: str
    path: str
    query: str
    fields: bytes = field(repr=False)
    headers: dict[str, str] = field(repr=False)  # lower-cased names
    keep_alive: bool
    fault: Fault | None
    refusal: Outgoing | None


class HTTPEngine:
    """Serves ``app`` over HTTP(S) on background threads.

    :param app: answers each request that no fault replaces.
    :param host: address to bind.
    :param port: port to bind (0: any free port).
    :param ssl_context: server-side TLS context, or ``None`` for plain HTTP.
    :param latency: seconds to wait before every answer.
    :param max_recorded: requests the log keeps (``None``: all).
    :param max_recorded_body: bytes of each body the log keeps.
    :param record: whether to record requests at all.
    :param max_workers: requests answered at once.
    :param idle_timeout: seconds before a silent connection is closed.
    """

    def __init__(
        self,
        app: App,
        *,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext | None,
        latency: float,
        max_recorded: int | None = 5000,
        max_recorded_body: int = 4096,
        record: bool = True,
        max_workers: int = 32,
        idle_timeout: float = 60.0,
    ) -> None:
        self.app = app
        self.ssl_context = ssl_context
        self.latency = latency
        self.faults = FaultBook()
        self.log = RequestLog(max_recorded, max_recorded_body, record)
        self._host = host
        self._port: int | None = None
        self._loop = Loop(
            host=host,
            port=port,
            parse_head=self._parse_head,
            handle=self._serve,
            refuse=self._refuse,
            ssl_context=ssl_context,
            max_workers=max_workers,
            idle_timeout=idle_timeout,
            head_limit=HEAD_LIMIT,
        )
        self._bind_port = port

    # -- lifecycle --------------------------------------------------------

    def start(self) -> None:
        """Bind and serve on background threads."""
        if self._port is not None:
            raise RuntimeError("already started")
        self._port = self._loop.start()

    def stop(self) -> None:
        """Stop serving, close every connection and the listening socket."""
        if self._port is None:
            return
        self._loop.stop()
        self._port = None

    @property
    def port(self) -> int:
        """The bound port."""
        if self._port is None:
            raise RuntimeError("not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``scheme://host:port`` of the running server."""
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://{self._host}:{self.port}"

    # -- connections ------------------------------------------------------

    @property
    def connections_opened(self) -> int:
        """TCP connections accepted so far."""
        return self._loop.connections_opened

    @property
    def open_connections(self) -> int:
        """TCP connections open now."""
        return self._loop.open_connections

    @property
    def worker_threads(self) -> int:
        """Threads answering requests (at most ``max_workers``)."""
        return self._loop.worker_threads

    def close_connections(self, *, idle_only: bool) -> int:
        """Shut down kept-alive connections (all, or only idle ones).

        :returns: how many were shut down.
        """
        return self._loop.close_connections(idle_only=idle_only)

    def reset(self) -> None:
        """Clear the log and its counts, the faults, idle connections and the connection count."""
        self.log.clear(counts=True)
        self.faults.clear()
        self._loop.close_connections(idle_only=True)
        self._loop.reset_count()

    # -- recording --------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the request log, oldest first."""
        return self.log.entries

    def clear_requests(self) -> None:
        """Empty the request log."""
        self.log.clear()

    def _record(self, req: _Request, body: bytes, status: int | None, conn_id: int) -> None:
        self.log.add(
            method=req.method,
            path=req.path,
            query=req.query,
            fields=req.fields,
            body=body,
            status=status,
            connection_id=conn_id,
        )

    # -- reading a request (selector thread) ------------------------------

    def _parse_head(self, conn_id: int, raw: bytes) -> HeadResult:
        """Decide, from the head alone, how much body to read and whether to refuse."""
        try:
            head = parse_head(raw)
        except BadHead as bad:
            refused = _Request("GET", "", "", b"", {}, False, None, _plain(bad.status, bad.message))
            return HeadResult(0, refused)
        target = head.target
        if target.startswith(("http://", "https://")):
            try:
                parts = urlsplit(target)
            except ValueError:
                return HeadResult(0, self._bare_refusal(head, 400, "bad request target"))
            target = parts.path + (f"?{parts.query}" if parts.query else "")
        path, _, query = target.partition("?")
        headers = {k.lower(): v for k, v in head.headers.items()}
        fault = self.faults.take(path)
        req = _Request(head.method, path, query, head.fields, headers, head.keep_alive, fault, None)
        if fault is not None and fault.kind == "drop_before_read":
            return HeadResult(0, req)  # the body is never read
        length, refusal = _body_length(head.method, headers)
        if refusal is not None:
            req.refusal, req.keep_alive = refusal, False
            return HeadResult(0, req)
        expect = headers.get("expect", "").lower() == "100-continue"
        interim = _CONTINUE if expect and length and head.version == "HTTP/1.1" else b""
        return HeadResult(length, req, interim)

    @staticmethod
    def _bare_refusal(head: Head, status: int, message: str) -> _Request:
        return _Request(head.method, "", "", b"", {}, False, None, _plain(status, message))

    # -- answering (a worker) ---------------------------------------------

    def _serve(self, conn: Connection, req: _Request, body: bytes) -> bool:
        """Record, fault or answer one request; tell whether the connection stays open."""
        if not req.path and req.refusal is not None:  # not even a request line to record
            self._send(conn, "GET", req.refusal, close=True, truncate=False)
            return False
        fault = req.fault
        kind = fault.kind if fault else None
        if kind == "drop_before_read":
            self._record(req, b"", None, conn.id)
            return False
        if kind == "drop_after_read":
            self._record(req, body, None, conn.id)
            return False
        if self.latency:
            time.sleep(self.latency)
        if fault is not None and kind == "stall":
            time.sleep(fault.seconds)
        if req.refusal is not None:
            out = req.refusal
        elif fault is not None and kind == "oversize":
            self._record(req, body, 200, conn.id)
            self._stream_oversize(conn, fault, close=not req.keep_alive)
            return req.keep_alive
        elif fault is not None and kind in REPLACING:
            target = req.path + (f"?{req.query}" if req.query else "")
            out = replacement(fault, target, self.base_url)
        else:
            out = self._answer(self._incoming(req, body))
        if kind == "drop_after_processing":
            self._record(req, body, None, conn.id)
            return False
        if kind == "wrong_content_type":
            out.content_type = "text/plain; charset=utf-8"
        self._record(req, body, out.status, conn.id)
        truncate = kind == "truncate"
        close = not req.keep_alive or truncate
        # Before the answer goes out, so a client that has it can read the log line.
        # Path only: a query string may hold an oauth_verifier.
        log.debug("%s %s -> %s", req.method, req.path, out.status)
        self._send(conn, req.method, out, close=close, truncate=truncate)
        return not close

    def _incoming(self, req: _Request, body: bytes) -> Incoming:
        host = req.headers.get("host") or f"{self._host}:{self.port}"
        scheme = "https" if self.ssl_context else "http"
        return Incoming(req.method, scheme, host, req.path, req.query, req.headers, body)

    def _answer(self, req: Incoming) -> Outgoing:
        try:
            return self.app(req)
        except Exception:
            # A bug in the fake: say so loudly, but still answer like a server.
            log.exception("FakeFlattr failed on %s %s", req.method, req.path)
            return Outgoing(500, XML_TYPE, error_document(500, "internal error in FakeFlattr"))

    def _refuse(self, conn: Connection, status: int, message: str) -> None:
        self._send(conn, "GET", _plain(status, message), close=True, truncate=False)
        log.debug("refused a request head -> %s", status)

    @staticmethod
    def _send(conn: Connection, method: str, out: Outgoing, *, close: bool, truncate: bool) -> None:
        head = answer_head(
            out.status,
            out.headers,
            content_type=out.content_type,
            length=len(out.body),
            close=close,
        )
        if method == "HEAD":
            conn.sock.sendall(head)
        elif truncate:
            conn.sock.sendall(head + out.body[: len(out.body) // 2])
        else:
            conn.sock.sendall(head + out.body)

    @staticmethod
    def _stream_oversize(conn: Connection, fault: Fault, *, close: bool) -> None:
        head = answer_head(
            200, [], content_type="text/xml; charset=utf-8", length=fault.size, close=close
        )
        conn.sock.sendall(head)
        for piece in oversize_body(fault.size):
            conn.sock.sendall(piece)


def _body_length(method: str, headers: dict[str, str]) -> tuple[int, Outgoing | None]:
    """How many body bytes follow the head, or a refusal (411, 400, 413) that closes."""
    if "transfer-encoding" in headers:
        return 0, _plain(411, "send a Content-Length, not chunked encoding")
    length_text = headers.get("content-length")
    if length_text is None:
        if method in ("POST", "PUT"):
            return 0, _plain(411, "a POST needs a Content-Length header")
        return 0, None
    length = ascii_int(length_text.strip())
    if length is None:
        return 0, _plain(400, "bad Content-Length")
    if length > MAX_BODY:
        return 0, _plain(413, f"bodies are limited to {MAX_BODY} bytes")
    return length, None


def _plain(status: int, message: str) -> Outgoing:
    return Outgoing(status, "text/plain; charset=utf-8", message.encode())
