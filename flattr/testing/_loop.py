"""Connections: one selector thread reads requests whole, a bounded pool answers them.

A connection costs a thread only while its request is being answered. The
selector thread accepts, does TLS handshakes, and buffers each request until
its head and body have arrived; only then does a worker of the pool get it.
A slow client therefore holds a buffer, never a worker, and idle keep-alive
connections hold nothing but their socket. A connection that sends nothing
for ``idle_timeout`` seconds, or takes longer than that to send one whole
request, is closed.

The selector thread is woken through a socket pair (to stop, or to take back
a connection a worker has answered), so stopping never waits on a poll.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import queue
import re
import selectors
import socket
import ssl
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Connection", "HeadResult", "Loop"]

log = logging.getLogger(__name__)

State = Literal["handshake", "idle", "reading", "busy", "closed"]
#: Bytes read from a plain socket per readiness event.
_CHUNK = 64 * 1024
#: Connections accepted per readiness event of the listener.
_ACCEPTS = 64
#: Pause before accepting again when the process is out of file descriptors.
_ACCEPT_PAUSE = 0.05
_FD_ERRORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
#: What the start of a request looks like: a method token, then a space (or more to come).
_METHOD = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]*(?: |$)")
_METHOD_PEEK = 32


@dataclass(eq=False)
class Connection:
    """One accepted connection; owned by the selector thread unless ``busy``.

    ``id`` is the public number (from 1, again after a reset); ``key`` never repeats.
    """

    id: int
    key: int
    sock: socket.socket
    tls: bool
    state: State = "idle"
    since: float = 0.0
    buf: bytearray = field(default_factory=bytearray)
    pending: HeadResult | None = None
    #: How much of ``buf`` is known to hold no end of head (a trickled head is scanned once).
    scanned: int = 0
    #: The token and body a worker is about to answer.
    job: tuple[Any, bytes] | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class HeadResult:
    """What the loop does with a request whose head has arrived.

    :param body_length: bytes of body to read before handing it over (0: at once).
    :param token: passed to the handler with the body.
    :param interim: bytes to send at once (``100 Continue``), or empty.
    """

    body_length: int
    token: Any
    interim: bytes = b""


#: ``(connection id, raw head) -> HeadResult``; runs on the selector thread, must not block.
HeadParser = Callable[[int, bytes], HeadResult]
#: ``(connection, token, body) -> keep alive?``; runs on a worker, may block.
Handler = Callable[[Connection, Any, bytes], bool]
#: ``(connection, refusal status, message)``: a head too big to parse.
Refuser = Callable[[Connection, int, str], None]


class _Pool:
    """At most ``size`` daemon threads, started when work arrives and none is free."""

    def __init__(self, size: int, name: str) -> None:
        if size < 1:
            raise ValueError("max_workers must be 1 or more")
        self.size = size
        self._name = name
        self._jobs: queue.SimpleQueue[tuple[Callable[..., None], tuple[Any, ...]] | None] = (
            queue.SimpleQueue()
        )
        self._free = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def submit(self, fn: Callable[..., None], *args: Any) -> None:
        self._jobs.put((fn, args))
        if self._free.acquire(blocking=False):
            return
        with self._lock:
            if len(self._threads) < self.size:
                thread = threading.Thread(
                    target=self._run, daemon=True, name=f"{self._name}-{len(self._threads) + 1}"
                )
                self._threads.append(thread)
                thread.start()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, args = job
            try:
                fn(*args)
            except Exception:  # a worker must survive any one job
                log.exception("FakeFlattr worker failed")
            del job, fn, args
            self._free.release()

    def shutdown(self) -> None:
        """Let every worker end after its current job (without waiting for it)."""
        with self._lock:
            for _ in self._threads:
                self._jobs.put(None)
            self._threads = []

    @property
    def threads(self) -> int:
        with self._lock:
            return len(self._threads)


class Loop:
    """Accepts and reads connections on one thread; hands whole requests to a pool.

    :param parse_head: called when a request's head (request line and
        headers, without the blank line) has arrived.
    :param handle: answers one request on a worker; returns whether the
        connection stays open.
    :param refuse: answers a head that grew past ``head_limit``.
    :param ssl_context: server-side TLS, or ``None``.
    :param max_workers: threads answering requests at once.
    :param idle_timeout: seconds a connection may stay silent, or take to send one request.
    :param head_limit: most bytes of request line and headers.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        parse_head: HeadParser,
        handle: Handler,
        refuse: Refuser,
        ssl_context: ssl.SSLContext | None,
        max_workers: int,
        idle_timeout: float,
        head_limit: int,
    ) -> None:
        if idle_timeout <= 0:
            raise ValueError("idle_timeout must be more than 0 seconds")
        self._host, self._port = host, port
        self._parse_head = parse_head
        self._handle = handle
        self._refuse = refuse
        self._ssl = ssl_context
        self.idle_timeout = idle_timeout
        self._head_limit = head_limit
        self._max_workers = max_workers
        self._pool = _Pool(max_workers, "FakeFlattr-worker")
        self._lock = threading.Lock()
        self._conns: dict[int, Connection] = {}
        self._opened = 0
        self._next_id = 0
        self._keys = 0
        # Owned by the selector thread: connections by the time their clock started.
        self._idle: OrderedDict[int, Connection] = OrderedDict()
        self._reading: OrderedDict[int, Connection] = OrderedDict()
        self._returned: deque[Connection] = deque()
        self._stopping = False
        self._accept_paused_until: float | None = None
        self._listener: socket.socket | None = None
        self._selector: selectors.BaseSelector | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------

    def start(self) -> int:
        """Bind, listen and start the selector thread.

        :returns: the bound port.
        """
        listener = socket.create_server((self._host, self._port), backlog=128)
        try:
            listener.setblocking(False)
            wake_r, wake_w = socket.socketpair()
        except BaseException:
            listener.close()
            raise
        wake_r.setblocking(False)
        wake_w.setblocking(False)
        selector = selectors.DefaultSelector()
        selector.register(listener, selectors.EVENT_READ, "listener")
        selector.register(wake_r, selectors.EVENT_READ, "wake")
        self._listener, self._selector = listener, selector
        self._wake_r, self._wake_w = wake_r, wake_w
        self._stopping = False
        # A fresh pool: the old one's end-of-work markers stay with its own threads.
        self._pool = _Pool(self._max_workers, "FakeFlattr-worker")
        port = int(listener.getsockname()[1])
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"FakeFlattr:{port}")
        self._thread.start()
        return port

    def stop(self) -> None:
        """Stop accepting, close every connection, and end the selector thread."""
        thread = self._thread
        if thread is None:
            return
        with self._lock:
            self._stopping = True
        self._wake()
        thread.join()
        self._thread = None
        while self._returned:  # handed back after the loop ended
            self._forget(self._returned.popleft())
        with self._lock:
            busy = [c for c in self._conns.values() if c.state == "busy"]
        for conn in busy:
            # Its worker is writing or sleeping: make its next write fail, it closes the socket.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(conn.sock, socket.SHUT_RDWR)
        self._pool.shutdown()
        for sock in (self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()
        self._wake_r = self._wake_w = None

    def _wake(self) -> None:
        wake = self._wake_w
        if wake is not None:
            with contextlib.suppress(OSError):  # full (already woken) or closed
                wake.send(b"\0")

    # -- counts and closing, from any thread -------------------------------

    @property
    def connections_opened(self) -> int:
        """Connections accepted since start (or the last :meth:`reset_count`)."""
        with self._lock:
            return self._opened

    @property
    def open_connections(self) -> int:
        """Connections open now."""
        with self._lock:
            return len(self._conns)

    @property
    def worker_threads(self) -> int:
        """Worker threads started (at most ``max_workers``)."""
        return self._pool.threads

    def reset_count(self) -> None:
        """Count connections (and number them) from 1 again."""
        with self._lock:
            self._opened = self._next_id = 0

    def close_connections(self, *, idle_only: bool) -> int:
        """Shut down kept-alive connections (all, or only the idle ones).

        :returns: how many were shut down.
        """
        with self._lock:
            victims = [c.sock for c in self._conns.values() if c.state == "idle" or not idle_only]
        for sock in victims:
            # The plain-socket method, so an SSLSocket keeps its state for the reader;
            # the selector thread sees the end of the stream and closes it.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
        return len(victims)

    # -- the selector thread ----------------------------------------------

    def _run(self) -> None:
        selector = self._selector
        assert selector is not None
        try:
            while not self._stopping:
                events = selector.select(self._next_timeout())
                for key, mask in events:
                    if key.data == "listener":
                        self._accept()
                    elif key.data == "wake":
                        self._drain_wake()
                    else:
                        self._ready(key.data, mask)
                self._take_returned()
                self._expire()
        except Exception:  # pragma: no cover - a bug here would hang every client
            log.exception("FakeFlattr connection loop failed")
        finally:
            for conn in [*self._idle.values(), *self._reading.values(), *self._returned]:
                self._close(conn)
            self._returned.clear()
            if self._listener is not None:
                self._listener.close()
            selector.close()
            self._selector = self._listener = None

    def _next_timeout(self) -> float | None:
        deadlines = [
            next(iter(od.values())).since + self.idle_timeout
            for od in (self._idle, self._reading)
            if od
        ]
        if self._accept_paused_until is not None:
            deadlines.append(self._accept_paused_until)
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - time.monotonic())

    def _drain_wake(self) -> None:
        assert self._wake_r is not None
        with contextlib.suppress(OSError):
            while self._wake_r.recv(4096):
                pass

    def _accept(self) -> None:
        listener, selector = self._listener, self._selector
        assert listener is not None
        assert selector is not None
        for _ in range(_ACCEPTS):
            try:
                sock, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in _FD_ERRORS:
                    # Out of descriptors: stop listening a moment instead of spinning.
                    log.warning("FakeFlattr cannot accept more connections: %s", exc)
                    selector.unregister(listener)
                    self._accept_paused_until = time.monotonic() + _ACCEPT_PAUSE
                else:
                    log.debug("accept failed", exc_info=True)
                return
            self._admit(sock)

    def _admit(self, sock: socket.socket) -> None:
        selector = self._selector
        assert selector is not None
        sock.setblocking(False)
        # Headers and body go out in one write, but the oversize fault streams:
        # without NODELAY, Nagle and delayed ACKs add ~40 ms to some answers.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        tls = self._ssl is not None
        if self._ssl is not None:
            try:
                sock = self._ssl.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
            except (OSError, ValueError):
                sock.close()
                return
        with self._lock:
            self._opened += 1
            self._next_id += 1
            self._keys += 1
            conn = Connection(self._next_id, self._keys, sock, tls, "handshake" if tls else "idle")
            self._conns[conn.key] = conn
        conn.since = time.monotonic()
        selector.register(sock, selectors.EVENT_READ, conn)
        (self._reading if tls else self._idle)[conn.key] = conn

    def _ready(self, conn: Connection, mask: int) -> None:
        try:
            if conn.state == "handshake":
                self._handshake(conn)
            elif conn.state in ("idle", "reading"):
                self._read(conn)
        except Exception:  # a bug with one connection must not stop the others
            log.exception("FakeFlattr failed reading connection %d", conn.id)
            self._close(conn)

    def _handshake(self, conn: Connection) -> None:
        assert isinstance(conn.sock, ssl.SSLSocket)
        assert self._selector is not None
        try:
            conn.sock.do_handshake()
        except ssl.SSLWantReadError:
            self._selector.modify(conn.sock, selectors.EVENT_READ, conn)
            return
        except ssl.SSLWantWriteError:
            self._selector.modify(conn.sock, selectors.EVENT_WRITE, conn)
            return
        except (OSError, ValueError):
            log.debug("TLS handshake failed", exc_info=True)
            self._close(conn)
            return
        self._selector.modify(conn.sock, selectors.EVENT_READ, conn)
        self._set_state(conn, "idle")
        self._read(conn)

    def _read(self, conn: Connection) -> None:
        limit = self._head_limit + _CHUNK
        try:
            while True:
                data = conn.sock.recv(_CHUNK)
                if not data:
                    self._close(conn)
                    return
                conn.buf += data
                # Level-triggered select sees what is left in a plain socket; a TLS
                # socket may hold decrypted bytes select cannot see, so drain it.
                if not conn.tls or (len(conn.buf) > limit and conn.pending is None):
                    break
        except (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            pass
        except (OSError, ValueError):
            self._close(conn)
            return
        self._progress(conn)
        sock = conn.sock
        if isinstance(sock, ssl.SSLSocket) and conn.state in ("idle", "reading") and sock.pending():
            self._read(conn)  # decrypted bytes that select() cannot see

    def _progress(self, conn: Connection) -> None:
        """Hand over the request in ``conn.buf`` once it is whole."""
        if conn.pending is None:
            buf = conn.buf
            while buf[:2] == b"\r\n":  # blank lines before a request are ignored
                del buf[:2]
            end = buf.find(b"\r\n\r\n", max(conn.scanned - 3, 0))
            if not _METHOD.match(buf[:_METHOD_PEEK]):
                # Not HTTP at all (a TLS hello to a plain port, say): answer now, do not wait.
                self._dispatch_refusal(conn, 400)
                return
            if end < 0:
                conn.scanned = len(buf)
                if len(buf) > self._head_limit:
                    status = 431 if b"\r\n" in buf else 414
                    self._dispatch_refusal(conn, status)
                else:
                    self._set_state(conn, "reading" if buf else "idle")
                return
            if end > self._head_limit:
                self._dispatch_refusal(conn, 431)
                return
            head = bytes(buf[:end])
            del buf[: end + 4]
            conn.scanned = 0
            result = self._parse_head(conn.id, head)
            conn.pending = result
            if result.interim:
                with contextlib.suppress(OSError):
                    conn.sock.send(result.interim)
        pending = conn.pending
        if len(conn.buf) < pending.body_length:
            self._set_state(conn, "reading")
            return
        body = bytes(conn.buf[: pending.body_length])
        del conn.buf[: pending.body_length]
        conn.pending = None
        self._hand_over(conn)
        conn.job = (pending.token, body)
        self._pool.submit(self._work, conn)

    def _dispatch_refusal(self, conn: Connection, status: int) -> None:
        conn.buf.clear()
        self._hand_over(conn)
        message = {400: "not an HTTP request", 414: "request line too long"}.get(
            status, "request head too large"
        )
        self._pool.submit(self._refuse_and_close, conn, status, message)

    def _set_state(self, conn: Connection, state: State) -> None:
        if conn.state != state:
            self._file(conn, state)

    def _file(self, conn: Connection, state: State) -> None:
        """Start ``conn``'s clock as idle (or as reading a request)."""
        self._idle.pop(conn.key, None)
        self._reading.pop(conn.key, None)
        conn.since = time.monotonic()
        (self._idle if state == "idle" else self._reading)[conn.key] = conn
        with self._lock:
            conn.state = state

    def _hand_over(self, conn: Connection) -> None:
        assert self._selector is not None
        self._selector.unregister(conn.sock)
        self._idle.pop(conn.key, None)
        self._reading.pop(conn.key, None)
        with self._lock:
            conn.state = "busy"

    def _take_returned(self) -> None:
        selector = self._selector
        assert selector is not None
        while self._returned:
            conn = self._returned.popleft()
            if self._stopping:
                self._close(conn)
                continue
            try:
                selector.register(conn.sock, selectors.EVENT_READ, conn)
            except (OSError, ValueError):  # closed meanwhile
                self._close(conn)
                continue
            try:
                self._file(conn, "reading" if conn.buf else "idle")
                if isinstance(conn.sock, ssl.SSLSocket) and conn.sock.pending():
                    self._read(conn)
                elif conn.buf:
                    self._progress(conn)  # a pipelined request already here
            except Exception:
                log.exception("FakeFlattr failed reading connection %d", conn.id)
                self._close(conn)

    def _expire(self) -> None:
        now = time.monotonic()
        for od in (self._idle, self._reading):
            while od:
                conn = next(iter(od.values()))
                if now - conn.since < self.idle_timeout:
                    break
                log.debug("closing connection %d after %.1f s", conn.id, self.idle_timeout)
                self._close(conn)
        paused = self._accept_paused_until
        if paused is not None and now >= paused and self._selector and self._listener:
            self._accept_paused_until = None
            self._selector.register(self._listener, selectors.EVENT_READ, "listener")

    def _close(self, conn: Connection) -> None:
        """Close a connection the selector thread owns."""
        if self._selector is not None:
            with contextlib.suppress(KeyError, ValueError, OSError):
                self._selector.unregister(conn.sock)
        self._idle.pop(conn.key, None)
        self._reading.pop(conn.key, None)
        self._forget(conn)

    def _forget(self, conn: Connection) -> None:
        with contextlib.suppress(OSError):
            conn.sock.close()
        with self._lock:
            conn.state = "closed"
            self._conns.pop(conn.key, None)

    # -- the workers ------------------------------------------------------

    def _work(self, conn: Connection) -> None:
        keep = False
        assert conn.job is not None
        token, body = conn.job
        conn.job = None
        try:
            # Writes may block (a client that does not read), but never forever.
            conn.sock.settimeout(self.idle_timeout)
            keep = self._handle(conn, token, body)
        except OSError:
            log.debug("client went away", exc_info=True)
        finally:
            # Let go of the body before the next request on this connection can be read.
            del token, body
            self._finish(conn, keep)

    def _refuse_and_close(self, conn: Connection, status: int, message: str) -> None:
        try:
            conn.sock.settimeout(self.idle_timeout)
            self._refuse(conn, status, message)
        except OSError:
            log.debug("client went away", exc_info=True)
        finally:
            self._finish(conn, False)

    def _finish(self, conn: Connection, keep: bool) -> None:
        if keep:
            try:
                conn.sock.setblocking(False)
            except OSError:
                keep = False
        with self._lock:
            # Under the lock, so stop() either sees this connection or makes us close it.
            keep = keep and not self._stopping
            if keep:
                self._returned.append(conn)
        if keep:
            self._wake()
        else:
            self._forget(conn)
