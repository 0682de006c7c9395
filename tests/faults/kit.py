"""A tiny scripted socket server, for the faults FakeFlattr cannot produce.

Each accepted connection reads one HTTP request (head and ``Content-Length``
body) and hands the socket to a handler that writes whatever raw bytes the
test wants: a chunked body without end, a gzip bomb, a reset, nothing at all.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import flattr
from flattr._http import Transport
from flattr.testing import FakeFlattr


@dataclass(frozen=True)
class RawRequest:
    """The request line, the lower-cased headers and the body, as received."""

    line: str
    headers: dict[str, str]
    body: bytes

    @property
    def method(self) -> str:
        return self.line.split(" ", 1)[0]

    @property
    def path(self) -> str:
        return self.line.split(" ")[1].split("?", 1)[0]


Handler = Callable[[socket.socket, RawRequest, threading.Event], None]


def read_request(sock: socket.socket) -> RawRequest | None:
    """Read one request from ``sock``; ``None`` when the peer closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return RawRequest(lines[0], headers, body)


def reset(sock: socket.socket) -> None:
    """Close with a TCP RST instead of a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class ScriptedServer:
    """Serves each connection with ``handler(sock, request, stopping)``.

    :param handler: writes the answer; it must return when ``stopping`` is set.
    :param ssl_context: serve TLS with this server-side context.
    :param read: read the request before calling the handler (``False``: the
        handler gets an empty request and reads nothing).
    """

    def __init__(
        self,
        handler: Handler,
        *,
        ssl_context: ssl.SSLContext | None = None,
        read: bool = True,
    ) -> None:
        self.handler = handler
        self.ssl_context = ssl_context
        self.read = read
        self.requests: list[RawRequest] = []
        self.connections = 0
        self.errors: list[BaseException] = []
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._threads: list[threading.Thread] = []

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def base_url(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self) -> None:
        thread = threading.Thread(target=self._accept, daemon=True, name="scripted-accept")
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        for thread in list(self._threads):
            thread.join(5)

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, sock: socket.socket) -> None:
        try:
            if self.ssl_context is not None:
                sock = self.ssl_context.wrap_socket(sock, server_side=True)
            sock.settimeout(10)
            if self.read:
                request = read_request(sock)
                if request is None:
                    return
            else:
                request = RawRequest("- - -", {}, b"")
            with self._lock:
                self.requests.append(request)
            self.handler(sock, request, self._stopping)
        except (OSError, ssl.SSLError) as exc:
            with self._lock:
                self.errors.append(exc)
        finally:
            with contextlib.suppress(OSError):
                sock.close()


def answer(
    status: int,
    body: bytes,
    headers: dict[str, str] | None = None,
    *,
    length: int | None = None,
) -> bytes:
    """Raw bytes of an HTTP/1.1 answer (``Content-Length`` defaults to the body's)."""
    fields = {"Content-Type": "text/xml; charset=utf-8", "Connection": "close"}
    fields.update(headers or {})
    if "Transfer-Encoding" not in fields:
        fields.setdefault("Content-Length", str(len(body) if length is None else length))
    head = f"HTTP/1.1 {status} X\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items())
    return head.encode("latin-1") + b"\r\n" + body


def client_for(base_url: str, **options: object) -> tuple[flattr.FlattrClient, list[float]]:
    """A client with made-up credentials for a scripted server, and its recorded waits."""
    waits: list[float] = []
    options.setdefault("timeout", 5.0)
    transport = Transport(sleep=waits.append, **options)  # type: ignore[arg-type]
    api = flattr.FlattrClient(
        "consumer-key",
        "consumer-secret",
        ("token-key", "token-secret"),
        base_url=base_url,
        transport=transport,
    )
    return api, waits


USER_XML = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<flattr><version>0.0.1</version>'
    b"<user><id>7</id><username>scripted</username></user></flattr>\n"
)


ALL_SCOPES = ("read", "click", "publish", "extendedread")


@dataclass
class Rig:
    """A FakeFlattr, a client for alice on it, and the waits its transport slept."""

    fake: FakeFlattr
    client: flattr.FlattrClient
    transport: Transport
    waits: list[float] = field(default_factory=list)


RigFactory = Callable[..., Rig]


def close_idle(fake: FakeFlattr, expected: int = 1) -> None:
    """Make the server close its idle keep-alive connections, as a server's idle timeout does.

    The server marks a connection idle a moment after answering, so this polls.
    """
    closed = 0
    deadline = time.monotonic() + 5
    while closed < expected and time.monotonic() < deadline:
        closed += fake.close_idle_connections()
        if closed < expected:
            time.sleep(0.005)
    assert closed == expected, f"closed {closed} idle connections, expected {expected}"
    # let the FIN arrive before the next request, as it would after an idle timeout
    time.sleep(0.05)
