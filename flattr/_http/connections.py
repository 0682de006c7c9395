"""httplib2 connections: capped reads, stale sockets, and one table of failures.

The connection classes report *where* a failure happened (connecting, or
after the request went out), read at most a set number of bytes, and never
let httplib2 send a request twice. :func:`map_failure` turns whatever the
socket, TLS, http.client or httplib2 raised into a :class:`Failure` from one
table (:data:`FAILURE_RULES`): whether another attempt could help, and the
:mod:`flattr.errors` exception to raise when none will.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import httplib2
import httplib2.decode

from flattr._http import deadlines
from flattr._http.messages import Request
from flattr._http.proxies import ProxyChooser
from flattr.errors import (
    ConnectTimeout,
    FlattrError,
    ReadTimeout,
    ResponseError,
    ResponseTooLargeError,
    TLSError,
    TransportError,
    UncertainResultError,
)

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "FAILURE_RULES",
    "Failure",
    "close_connections",
    "close_stale",
    "connection_types",
    "describe",
    "map_failure",
    "new_http",
    "set_response_class",
]

DEFAULT_MAX_RESPONSE_BYTES: Final = 8 * 1024 * 1024


class _NotSent(Exception):
    """Connecting failed: nothing reached the server, so a retry is always safe."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class _NoAnswer(Exception):
    """The request went out but no (complete) answer came back."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class _TooLarge(Exception):
    """The body is larger than the connection's cap."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


class _CappedResponse(http.client.HTTPResponse):
    """An HTTP response that refuses to read more than ``max_bytes``.

    It also refuses a body shorter than its ``Content-Length`` (the server
    closed mid-body): :meth:`http.client.HTTPResponse.read` with a size
    quietly returns what it got, which would hand partial XML to the parser.
    """

    max_bytes: int = DEFAULT_MAX_RESPONSE_BYTES

    def read(self, amt: int | None = None) -> bytes:
        if amt is not None:
            return super().read(amt)
        limit = self.max_bytes
        expected = self.length
        if expected is not None and expected > limit:
            self.close()
            raise _TooLarge(limit)
        if expected is not None:
            # A known length within the limit (never chunked): one read, the
            # way http.client reads it, which raises IncompleteRead if short.
            # (Reading in 64 KiB slices costs a zeroed 64 KiB buffer per call.)
            try:
                return super().read()
            except BaseException:
                self.close()
                raise
        chunks: list[bytes] = []
        size = 0
        while True:
            try:
                chunk = super().read(min(65536, limit + 1 - size))
            except BaseException:
                # Release the socket now (a timeout, a reset), not at garbage
                # collection, where it would warn about an unclosed socket.
                self.close()
                raise
            if not chunk:  # no length given: the body ends where the connection does
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                self.close()
                raise _TooLarge(limit)


class _ConnectionMixin:
    """Reports where a failure happened, so that httplib2 never re-sends anything.

    httplib2's ``_conn_request`` silently sends a request again after a socket
    error or ``BadStatusLine`` (a dropped connection), with the *same*
    signature: a read then fails with ``401 nonce_used``, a registration could
    happen twice, and ``retries=`` would not bound anything. So a connect
    failure becomes :class:`_NotSent` and every failure while sending or
    waiting for the status line becomes :class:`_NoAnswer`; httplib2 catches
    neither, and :meth:`Transport.send` alone decides what is sent again. This
    does not touch httplib2's module globals (``httplib2.RETRIES``).
    """

    #: When true, the connection refuses to send a second request at all: a
    #: last guard for calls that must never be repeated.
    one_shot: bool = False
    _sent: bool = False

    #: The socket last checked by :meth:`peer_closed` and its poller, made
    #: once per socket rather than once per request.
    _polled: tuple[object, Any] | None = None

    timeout: float | None
    #: Seconds allowed for connecting, when they differ from the read timeout.
    connect_timeout: float | None = None

    def connect(self) -> None:
        # Connecting takes at most connect_timeout, and never longer than what
        # is left of the call; each read afterwards gets the read timeout.
        timeout, left = self.timeout, deadlines.remaining()
        bound = self.connect_timeout if self.connect_timeout is not None else timeout
        if left is not None:
            if left <= 0:
                raise _NotSent(TimeoutError("no time left to connect"))
            bound = left if bound is None else min(bound, left)
        if bound is not None:
            self.timeout = bound
        try:
            self._open()
        except (OSError, httplib2.HttpLib2Error) as exc:
            raise _NotSent(exc) from exc
        finally:
            self.timeout = timeout
        sock = self.sock  # type: ignore[attr-defined]
        if sock is not None:
            sock.settimeout(timeout)

    # http.client and httplib2 print every request, headers included, when
    # their debug level is raised; ours carry signatures and tokens, so the
    # switch is ignored (``--debug`` logs what is safe instead).
    @property
    def debuglevel(self) -> int:
        """Always 0: these connections never print what they send."""
        return 0

    @debuglevel.setter
    def debuglevel(self, level: int) -> None:
        pass

    def set_debuglevel(self, level: int) -> None:
        """Ignored; see :attr:`debuglevel`."""

    def peer_closed(self) -> bool:
        """Whether the server has closed this idle connection (its socket is readable)."""
        sock = self.sock  # type: ignore[attr-defined]
        if sock is None:
            return False
        polled = self._polled
        if polled is None or polled[0] is not sock:
            polled = self._polled = (sock, _poller_for(sock))
        return _readable(polled[1])

    def _open(self) -> None:
        super().connect()  # type: ignore[misc]

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.one_shot:
            if self._sent:
                raise _NoAnswer(http.client.CannotSendRequest("refusing to send a request twice"))
            self._sent = True
        try:
            super().request(*args, **kwargs)  # type: ignore[misc]
        except (OSError, http.client.HTTPException) as exc:
            raise _NoAnswer(exc) from exc

    def getresponse(self) -> http.client.HTTPResponse:
        try:
            return super().getresponse()  # type: ignore[misc, no-any-return]
        except (OSError, http.client.HTTPException) as exc:
            raise _NoAnswer(exc) from exc


class _TLSConnectionMixin(_ConnectionMixin):
    """Connects without leaving a socket behind when connecting fails.

    httplib2's HTTPS ``connect`` closes only ``self.sock`` on failure, which
    is not set until TLS is up: a refused or timed-out connection leaves its
    socket to the garbage collector (a ``ResourceWarning``, an error under
    ``-W error``). :func:`socket.create_connection` closes on failure; the
    TLS wrapping uses httplib2's own context (CA bundle, minimum version,
    hostname check).
    """

    host: str
    port: int
    timeout: float | None
    sock: socket.socket | None
    proxy_info: Any
    _context: ssl.SSLContext

    def _open(self) -> None:
        if self.proxy_info:
            super()._open()
            return
        sock = socket.create_connection((self.host, self.port), self.timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock = self._context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def connection_types(
    max_bytes: int, one_shot: bool, connect_timeout: float | None = None
) -> dict[str, type[Any]]:
    """The connection classes httplib2 builds for a transport, by scheme.

    :param max_bytes: the largest body their answers may have.
    :param one_shot: whether a connection refuses to send a second request.
    :param connect_timeout: seconds allowed for connecting (and the TLS
        handshake); ``None``: the same as for each read.
    """
    response_class = type("_Response", (_CappedResponse,), {"max_bytes": max_bytes})
    attrs = {
        "response_class": response_class,
        "one_shot": one_shot,
        "connect_timeout": connect_timeout,
    }
    return {
        "http": type(
            "_HTTPConnection", (_ConnectionMixin, httplib2.HTTPConnectionWithTimeout), attrs
        ),
        "https": type(
            "_HTTPSConnection", (_TLSConnectionMixin, httplib2.HTTPSConnectionWithTimeout), attrs
        ),
    }


def close_stale(connections: dict[str, Any]) -> None:
    """Close every idle connection whose socket is readable (closed by the peer).

    An idle HTTP/1.1 connection has nothing to read; if its socket is
    readable, the server has closed it (or sent garbage), so it is useless.
    """
    for conn in connections.values():
        # Each request names one of flattr's connection classes (connection_type),
        # so every connection has peer_closed(); anything else is left alone.
        peer_closed = getattr(conn, "peer_closed", None)
        if peer_closed is not None and peer_closed():
            conn.close()


def _poller_for(sock: Any) -> Any:
    """Something :func:`_readable` can ask, over and over, whether ``sock`` is readable."""
    if not hasattr(select, "poll"):  # pragma: no cover - Windows
        return sock
    poller = select.poll()
    try:
        poller.register(sock, select.POLLIN)
    except (OSError, ValueError):
        return sock  # closed already: select() reports that
    return poller


def _readable(poller: Any) -> bool:
    """Whether the socket behind ``poller`` (from :func:`_poller_for`) is readable now."""
    try:
        if isinstance(poller, socket.socket):
            return bool(select.select([poller], [], [], 0)[0])
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


def set_response_class(connections: dict[str, Any], response_class: type[Any]) -> None:
    """Make every connection read its next answers with ``response_class`` (and its cap)."""
    for conn in connections.values():
        conn.response_class = response_class


def close_connections(connections: dict[str, Any]) -> None:
    for conn in list(connections.values()):
        conn.close()
    connections.clear()


def new_http(
    *,
    timeout: float,
    ca_certs: str | None,
    max_response_bytes: int,
    proxy: ProxyChooser | None = None,
) -> httplib2.Http:
    """An :class:`httplib2.Http` the way the seam uses one.

    Certificates are always verified (``ca_certs`` only adds a bundle), TLS 1.2
    is the minimum, the proxy is the one ``proxy`` chooses (none without it),
    redirects are never followed, and a compressed body may not expand past
    ``max_response_bytes``.
    """
    http = httplib2.Http(
        timeout=timeout,
        ca_certs=ca_certs,
        proxy_info=proxy,
        tls_minimum_version=ssl.TLSVersion.TLSv1_2,
        decode_limit_hard=max_response_bytes,
    )
    http.follow_redirects = False
    http.follow_all_redirects = False
    return http


def describe(exc: BaseException) -> str:
    """``exc`` for a message: its type and text (a TLS error's verify message)."""
    text = getattr(exc, "verify_message", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text != type(exc).__name__ else text


# ---------------------------------------------------------------------------
# One table of failures


class Failure(Exception):
    """One attempt's failure, classified: the transport decides what happens next.

    :ivar cause: what the socket, TLS, http.client or httplib2 raised.
    :ivar sent: whether the request may have reached the server.
    :ivar rule: the row of :data:`FAILURE_RULES` that matched.
    """

    def __init__(self, cause: BaseException, sent: bool, rule: FailureRule) -> None:
        super().__init__(describe(cause))
        self.cause = cause
        self.sent = sent
        self.rule = rule

    def retryable(self, request: Request) -> bool:
        """Whether another attempt is safe and could succeed."""
        return self.rule.retry and (not self.sent or request.idempotent)

    def error(self, request: Request, *, timeout: float) -> FlattrError:
        """The exception for the caller once no attempt is left."""
        return self.rule.error(self, request, timeout)


def _too_large(failure: Failure, request: Request, timeout: float) -> FlattrError:
    limit = getattr(failure.cause, "limit", None)
    if limit is None:  # httplib2's decoder: the compressed body expands too far
        return ResponseTooLargeError(
            f"{request.method} {request.path}: the compressed response expands "
            f"beyond the limit ({failure.cause})"
        )
    return ResponseTooLargeError(
        f"{request.method} {request.path}: the response is larger than "
        f"{limit} bytes ({request.limit_name})"
    )


def _undecodable(failure: Failure, request: Request, timeout: float) -> FlattrError:
    return ResponseError(
        f"{request.method} {request.path}: the response claims compression but does not decompress"
    )


def _untrusted(failure: Failure, request: Request, timeout: float) -> FlattrError:
    return TLSError(
        f"the server's TLS certificate is not trusted ({describe(failure.cause)}); "
        "pass ca_certs= with the CA bundle that signed it",
        method=request.method,
        url=request.url,
    )


def _handshake(failure: Failure, request: Request, timeout: float) -> FlattrError:
    return TLSError(
        f"TLS handshake failed ({describe(failure.cause)})",
        method=request.method,
        url=request.url,
    )


def _timed_out(failure: Failure, request: Request, timeout: float) -> FlattrError:
    if not failure.sent:
        return ConnectTimeout(
            f"timed out connecting after {timeout:g}s", method=request.method, url=request.url
        )
    if not request.idempotent:
        return _uncertain(f"timed out after {timeout:g}s", request)
    return ReadTimeout(
        f"timed out after {timeout:g}s waiting for the answer",
        method=request.method,
        url=request.url,
    )


def _connection(failure: Failure, request: Request, timeout: float) -> FlattrError:
    if not failure.sent:
        return TransportError(
            f"could not connect ({describe(failure.cause)}); check the base URL and the network",
            method=request.method,
            url=request.url,
        )
    what = f"the connection failed ({describe(failure.cause)})"
    if not request.idempotent:
        return _uncertain(what, request)
    return TransportError(what, method=request.method, url=request.url)


def _uncertain(what: str, request: Request) -> UncertainResultError:
    return UncertainResultError(
        f"{what} after the request was sent; it may or may not have been carried "
        "out, and it was not re-sent",
        method=request.method,
        url=request.url,
    )


@dataclass(frozen=True, slots=True)
class FailureRule:
    """A row of :data:`FAILURE_RULES`.

    :ivar types: the exception classes it matches.
    :ivar retry: whether another attempt could succeed (the transport still
        re-sends only what is safe: anything not sent, or an idempotent request).
    :ivar error: builds the exception for the caller.
    """

    types: tuple[type[BaseException], ...]
    retry: bool
    error: Callable[[Failure, Request, float], FlattrError]


#: Socket, TLS, http.client and httplib2 failures, most specific first. A
#: timeout is never retried (``timeout=`` is the caller's bound, not to be
#: multiplied), nor is a TLS failure (it will not heal) or a body that is
#: too large or undecodable (the same answer would come again).
FAILURE_RULES: Final[tuple[FailureRule, ...]] = (
    FailureRule(
        (_TooLarge, httplib2.decode.DecodeRatioError, httplib2.decode.DecodeLimitError),
        retry=False,
        error=_too_large,
    ),
    FailureRule((httplib2.FailedToDecompressContent,), retry=False, error=_undecodable),
    FailureRule((ssl.SSLCertVerificationError,), retry=False, error=_untrusted),
    FailureRule((ssl.SSLError,), retry=False, error=_handshake),
    FailureRule((TimeoutError,), retry=False, error=_timed_out),
    # DNS failures and the like: httplib2's own errors while connecting.
    FailureRule((httplib2.HttpLib2Error,), retry=False, error=_connection),
    FailureRule((OSError, http.client.HTTPException), retry=True, error=_connection),
)

#: What :func:`map_failure` understands; anything else is a bug and propagates.
EXPECTED: Final[tuple[type[BaseException], ...]] = (
    _NotSent,
    _NoAnswer,
    *(t for rule in FAILURE_RULES for t in rule.types),
)


def map_failure(exc: BaseException) -> Failure:
    """Classify what an attempt raised (one of :data:`EXPECTED`).

    :param exc: the exception; :class:`_NotSent` and :class:`_NoAnswer` say
        where it happened, anything else happened after the request went out.
    """
    sent = not isinstance(exc, _NotSent)
    cause = exc.cause if isinstance(exc, _NotSent | _NoAnswer) else exc
    # A body that was too large is the answer's fault whether or not it says _NoAnswer.
    for rule in FAILURE_RULES:
        if isinstance(cause, rule.types):
            return Failure(cause, sent, rule)
    return Failure(cause, sent, FAILURE_RULES[-1])
