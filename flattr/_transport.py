"""The one seam where requests are signed (oauthlib) and sent (httplib2).

Nothing else in :mod:`flattr` imports httplib2 or builds OAuth signatures.
The steps stay separate: :func:`sign` builds the ``Authorization`` header from
oauthlib's RFC 5849 building blocks; :class:`Transport` sends, retries what is
safe to retry, and turns every socket, DNS, TLS and httplib2 failure into a
:class:`~flattr.errors.TransportError`. Mapping statuses to exceptions and
parsing bodies happen in the callers.

Reliability rules (see the project's reliability notes):

- one :class:`httplib2.Http` per thread (it is not thread-safe), kept alive;
- redirects are never followed, and no proxy is read from the environment;
- certificate validation is always on (``ca_certs`` may name a CA bundle);
- a request that is not idempotent (registering, clicking) goes out on a
  fresh connection and is never re-sent, neither by us nor by httplib2's own
  hidden retry; when it may have reached the server and no answer came back,
  :class:`~flattr.errors.UncertainResultError` says so;
- bodies larger than ``max_response_bytes`` are refused while reading.
"""

from __future__ import annotations

import binascii
import email.utils
import functools
import hashlib
import hmac
import http.client
import logging
import os
import random
import secrets
import select
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any, Final, cast
from urllib.parse import quote, urlencode, urlsplit

import httplib2
import httplib2.decode
from oauthlib.common import generate_timestamp
from oauthlib.oauth1.rfc5849 import parameters, signature, utils

from flattr._version import __version__ as _version
from flattr.errors import (
    ResponseError,
    ResponseTooLargeError,
    TLSError,
    TransportError,
    UncertainResultError,
)

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_TIMEOUT",
    "Credentials",
    "Request",
    "Response",
    "Signer",
    "Transport",
    "sign",
]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = 30.0
DEFAULT_MAX_RESPONSE_BYTES: Final = 8 * 1024 * 1024
USER_AGENT: Final = f"flattr-python/{_version}"
#: Statuses a GET is retried on: the gateway and overload answers.
RETRY_STATUSES: Final = frozenset({502, 503, 504})
FORM_CONTENT_TYPE: Final = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class Credentials:
    """The consumer and (optionally) token a request is signed with."""

    consumer_key: str
    consumer_secret: str = field(repr=False)
    token_key: str | None = None
    token_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Request:
    """One API request before signing.

    :ivar url: absolute URL without query; path segments already percent-encoded.
    :ivar query: query parameters (signed).
    :ivar form: form fields sent as an ``application/x-www-form-urlencoded`` body (signed).
    :ivar oauth: extra protocol parameters such as ``oauth_callback`` or ``oauth_verifier``.
    :ivar idempotent: whether re-sending it is harmless; ``False`` means never re-sent.
    """

    method: str
    url: str
    query: tuple[tuple[str, str], ...] = ()
    form: tuple[tuple[str, str], ...] | None = None
    oauth: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    idempotent: bool = True

    @property
    def path(self) -> str:
        """The URL path, for messages and logs (never the query)."""
        return urlsplit(self.url).path


@dataclass(frozen=True, slots=True)
class Response:
    """What came back: status, lower-cased headers and the raw body."""

    status: int
    headers: Mapping[str, str]
    body: bytes = field(repr=False)

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-cased (``""`` when absent)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """A request ready for the wire."""

    method: str
    uri: str
    headers: dict[str, str] = field(repr=False)
    body: bytes | None = field(repr=False)


#: Stand-ins for the per-call values while a request's signature base string
#: and ``Authorization`` header are built once. Letters and digits only, so
#: percent-encoding leaves them (and the real nonce and timestamp) unchanged;
#: random, so no real parameter contains them.
_NONCE_MARK: Final = "n" + secrets.token_hex(16)
_TIMESTAMP_MARK: Final = "t" + secrets.token_hex(16)
_SIGNATURE_MARK: Final = "s" + secrets.token_hex(16)
#: Parameters a request may not bring itself for its template to be exact.
_PER_CALL_PARAMETERS: Final = frozenset({"oauth_nonce", "oauth_timestamp", "oauth_signature"})
_TEMPLATE_CACHE_SIZE: Final = 256

# oauthlib's RFC 5849 building blocks, typed as oauthlib defines them: the
# stubs narrow the method to a Literal and the parameters to a dict (oauthlib
# takes a list of pairs, which may repeat a name) and leave prepare_headers untyped.
_signature_base_string = cast("Callable[[str, str, str], str]", signature.signature_base_string)
_normalize_parameters = cast(
    "Callable[[list[tuple[str, str]]], str]", signature.normalize_parameters
)
_prepare_headers = cast(
    "Callable[[list[tuple[str, str]]], dict[str, str]]", parameters.prepare_headers
)


@functools.cache
def _base64_escapes() -> tuple[tuple[str, str], ...]:
    """The base64 characters oauthlib's percent-encoding changes, with their escapes.

    Computed once from :func:`oauthlib.oauth1.rfc5849.utils.escape`: only
    ``+``, ``/`` and ``=`` are not unreserved, so escaping a signature is
    three ``str.replace`` calls.
    """
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
    return tuple((ch, utils.escape(ch)) for ch in alphabet if utils.escape(ch) != ch)


def _escape_base64(value: str) -> str:
    """``utils.escape(value)`` for a base64 string, without its per-call overhead."""
    for ch, escaped in _base64_escapes():
        value = value.replace(ch, escaped)
    return value


class _Nonces:
    """Fresh nonces from the operating system's CSPRNG, drawn in batches.

    One :func:`os.urandom` call yields 64 nonces of 128 bits (32 hex digits),
    so signing makes no system call for its nonce. ``list.pop`` is atomic, so
    no two threads get the same nonce, and a forked child starts with an
    empty pool rather than the parent's remaining nonces.
    """

    _BATCH: Final = 64

    def __init__(self) -> None:
        self._pool: list[str] = []
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._pool.clear)

    def __call__(self) -> str:
        try:
            return self._pool.pop()
        except IndexError:
            digits = os.urandom(16 * self._BATCH).hex()
            fresh = [digits[at : at + 32] for at in range(0, len(digits), 32)]
            nonce = fresh.pop()
            self._pool.extend(fresh)
            return nonce


_new_nonce: Final = _Nonces()


class _Template:
    """A request's base string and header, cut where the per-call values go.

    ``base`` is the three pieces around the nonce and the timestamp;
    ``header`` the four pieces around the nonce, timestamp and signature.
    """

    __slots__ = ("base", "header", "uri")

    def __init__(self, base: tuple[str, ...], header: tuple[str, ...], uri: str) -> None:
        self.base = base
        self.header = header
        self.uri = uri


_TemplateKey = tuple[str, str, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]


def _cut(text: str, *marks: str) -> tuple[str, ...] | None:
    """``text`` split at each mark in turn; ``None`` unless each occurs once, in order."""
    parts: list[str] = []
    for mark in marks:
        if text.count(mark) != 1:
            return None
        before, _, text = text.partition(mark)
        parts.append(before)
    parts.append(text)
    return tuple(parts)


def _unreserved(value: str) -> bool:
    """Whether percent-encoding leaves ``value`` as it is (ASCII letters and digits)."""
    return value.isascii() and value.isalnum()


class Signer:
    """Signs requests for one :class:`Credentials` with HMAC-SHA1 (RFC 5849).

    What does not change between calls is computed once, with oauthlib's
    RFC 5849 building blocks: the HMAC key (from the two escaped secrets),
    and for each distinct request without a form body, its
    signature base string and ``Authorization`` header with the nonce,
    timestamp and signature left out. A call then fills in those values and
    runs HMAC-SHA1 over the base string. The result is exactly what the
    building blocks give when run in full, which is what happens for any
    other request. Safe to share between threads.

    :param credentials: the consumer and token to sign with.
    """

    __slots__ = ("_mac", "_templates", "credentials")

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        consumer_secret = utils.escape(credentials.consumer_secret)
        token_secret = utils.escape(credentials.token_secret or "")
        key = f"{consumer_secret}&{token_secret}"
        # The HMAC keyed once; each signature continues a copy of it, which
        # skips hashing the key and looking the digest up again.
        self._mac = hmac.new(key.encode("utf-8"), digestmod=hashlib.sha1)
        # Keyed by what a template depends on (a form body never gets one):
        # a tuple of strings hashes and compares in C, a dataclass in Python.
        self._templates: dict[_TemplateKey, _Template | None] = {}

    def __repr__(self) -> str:
        return f"<Signer for consumer key {self.credentials.consumer_key[:4]}…>"

    def sign(
        self, request: Request, *, nonce: str | None = None, timestamp: str | None = None
    ) -> SignedRequest:
        """Sign ``request``; see :func:`sign`."""
        # Our own nonce and timestamp are letters and digits only, as a
        # template requires; values a caller passes in are checked.
        ours = nonce is None and timestamp is None
        nonce = nonce or _new_nonce()
        timestamp = timestamp or generate_timestamp()
        template = None
        if request.form is None and (ours or (_unreserved(nonce) and _unreserved(timestamp))):
            template = self._template(request)
        if template is None:
            return self._sign_in_full(request, nonce, timestamp)
        b1, b2, b3 = template.base
        h1, h2, h3, h4 = template.header
        mac = self._hmac_sha1(f"{b1}{nonce}{b2}{timestamp}{b3}")
        authorization = f"{h1}{nonce}{h2}{timestamp}{h3}{_escape_base64(mac)}{h4}"
        return SignedRequest(request.method, template.uri, {"Authorization": authorization}, None)

    def base_string(self, request: Request, *, nonce: str, timestamp: str) -> str:
        """The signature base string (RFC 5849 §3.4.1) that :meth:`sign` signs.

        :param request: the request.
        :param nonce: the ``oauth_nonce``.
        :param timestamp: the ``oauth_timestamp``.
        :returns: method, base string URI and normalised parameters, each escaped.
        """
        return self._base_string(request, self._oauth_params(request, nonce, timestamp))

    def _hmac_sha1(self, base_string: str) -> str:
        """RFC 5849 §3.4.2: base64 of HMAC-SHA1 over the base string, with the stored key."""
        mac = self._mac.copy()
        mac.update(base_string.encode("utf-8"))
        return binascii.b2a_base64(mac.digest(), newline=False).decode("ascii")

    def _oauth_params(self, request: Request, nonce: str, timestamp: str) -> list[tuple[str, str]]:
        credentials = self.credentials
        oauth_params = [
            ("oauth_consumer_key", credentials.consumer_key),
            ("oauth_nonce", nonce),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", timestamp),
            ("oauth_version", "1.0"),
        ]
        if credentials.token_key is not None:
            oauth_params.append(("oauth_token", credentials.token_key))
        oauth_params.extend(request.oauth)
        return oauth_params

    @staticmethod
    def _base_string(request: Request, oauth_params: list[tuple[str, str]]) -> str:
        signed_params = [*oauth_params, *request.query, *(request.form or ())]
        return _signature_base_string(
            request.method,
            signature.base_string_uri(request.url),
            _normalize_parameters(signed_params),
        )

    @staticmethod
    def _uri(request: Request) -> str:
        if request.query:
            return f"{request.url}?{urlencode(request.query, quote_via=quote)}"
        return request.url

    def _sign_in_full(self, request: Request, nonce: str, timestamp: str) -> SignedRequest:
        oauth_params = self._oauth_params(request, nonce, timestamp)
        base_string = self._base_string(request, oauth_params)
        oauth_params.append(("oauth_signature", self._hmac_sha1(base_string)))
        headers = _prepare_headers(oauth_params)
        body: bytes | None = None
        if request.form is not None:
            headers["Content-Type"] = FORM_CONTENT_TYPE
            body = urlencode(request.form, quote_via=quote).encode("ascii")
        return SignedRequest(request.method, self._uri(request), headers, body)

    def _template(self, request: Request) -> _Template | None:
        key = (request.method, request.url, request.query, request.oauth)
        try:
            return self._templates[key]
        except KeyError:
            pass
        template = self._build_template(request)
        if len(self._templates) >= _TEMPLATE_CACHE_SIZE:
            self._templates.clear()
        self._templates[key] = template
        return template

    def _build_template(self, request: Request) -> _Template | None:
        names = {name for name, _ in (*request.oauth, *request.query)}
        if names & _PER_CALL_PARAMETERS:
            return None  # their sort position could depend on the per-call values
        oauth_params = self._oauth_params(request, _NONCE_MARK, _TIMESTAMP_MARK)
        base = _cut(self._base_string(request, oauth_params), _NONCE_MARK, _TIMESTAMP_MARK)
        oauth_params.append(("oauth_signature", _SIGNATURE_MARK))
        header = _cut(
            _prepare_headers(oauth_params)["Authorization"],
            _NONCE_MARK,
            _TIMESTAMP_MARK,
            _SIGNATURE_MARK,
        )
        if base is None or header is None:
            return None
        return _Template(base, header, self._uri(request))


def sign(
    request: Request,
    credentials: Credentials,
    *,
    nonce: str | None = None,
    timestamp: str | None = None,
) -> SignedRequest:
    """Sign ``request`` with HMAC-SHA1 and put the OAuth parameters in the header.

    The signature base string covers the method, the base string URI, the
    query, the form body and the protocol parameters (RFC 5849 §3.4.1). A
    fixed ``nonce`` and ``timestamp`` make the result reproducible for tests.
    To sign many requests with the same credentials, keep a :class:`Signer`.
    """
    return Signer(credentials).sign(request, nonce=nonce, timestamp=timestamp)


# ---------------------------------------------------------------------------
# httplib2 plumbing: connection classes that report *where* a failure happened.


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

    def connect(self) -> None:
        try:
            self._open()
        except (OSError, httplib2.HttpLib2Error) as exc:
            raise _NotSent(exc) from exc

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


def _connection_types(max_bytes: int, one_shot: bool) -> dict[str, type[Any]]:
    response_class = type("_Response", (_CappedResponse,), {"max_bytes": max_bytes})
    attrs = {"response_class": response_class, "one_shot": one_shot}
    return {
        "http": type(
            "_HTTPConnection", (_ConnectionMixin, httplib2.HTTPConnectionWithTimeout), attrs
        ),
        "https": type(
            "_HTTPSConnection", (_TLSConnectionMixin, httplib2.HTTPSConnectionWithTimeout), attrs
        ),
    }


def _retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta or HTTP date)."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


_TRANSPORT_EXCEPTIONS: Final = (
    OSError,
    http.client.HTTPException,
    httplib2.HttpLib2Error,
)


class Transport:
    """Signs, sends and (where safe) retries requests; one connection per thread.

    :param timeout: seconds allowed for connecting and for each read.
    :param ca_certs: path to a PEM bundle of CAs to trust instead of the default
        ones (for a private deployment or a test server).
    :param retries: how many times an idempotent request is re-sent after a
        connection failure or a 502/503/504 answer (any request is re-sent
        after a refused connection, since nothing reached the server). A
        timeout is never retried, so a call fails close to ``timeout``.
    :param max_response_bytes: the largest body accepted, compressed or not.
    :param backoff: base of the exponential backoff, in seconds (full jitter).
    :param max_backoff: the longest single wait between attempts.
    :param max_retry_after: the longest ``Retry-After`` honoured; a longer one
        is not waited for, and the error answer is returned at once.
    :param http_factory: builds the per-thread :class:`httplib2.Http`; for
        tests that must inject a fault a real server cannot produce.
    :param sleep: the sleep function (tests pass a fake clock).
    """

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        ca_certs: str | None = None,
        retries: int = 2,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        max_retry_after: float = 60.0,
        http_factory: Callable[[], httplib2.Http] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.timeout = timeout
        self.ca_certs = ca_certs
        self.retries = retries
        self.max_response_bytes = max_response_bytes
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self._http_factory = http_factory or self._default_http
        self._sleep = sleep
        self._local = threading.local()
        # Every thread's Http, so close() can reach them all; weak, so a
        # finished thread's Http (and its sockets) can go.
        self._all_http: weakref.WeakSet[httplib2.Http] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._reusable = _connection_types(max_response_bytes, one_shot=False)
        self._one_shot = _connection_types(max_response_bytes, one_shot=True)
        # The signer of the credentials seen last (a client sends the same
        # Credentials object every time); one attribute, so threads swap it whole.
        self._signer: Signer | None = None

    def _default_http(self) -> httplib2.Http:
        http = httplib2.Http(
            timeout=self.timeout,
            ca_certs=self.ca_certs,
            proxy_info=None,
            tls_minimum_version=ssl.TLSVersion.TLSv1_2,
            decode_limit_hard=self.max_response_bytes,
        )
        http.follow_redirects = False
        http.follow_all_redirects = False
        return http

    def _http(self) -> httplib2.Http:
        http: httplib2.Http | None = getattr(self._local, "http", None)
        if http is None:
            http = self._http_factory()
            # Close the sockets when the Http goes (its thread ended, or the
            # transport was dropped without close()), not at the socket's GC.
            weakref.finalize(http, _close_connections, http.connections)
            with self._lock:
                self._all_http.add(http)
            self._local.http = http
        return http

    def _drop_connections(self, http: httplib2.Http) -> None:
        _close_connections(http.connections)

    def close(self) -> None:
        """Close every thread's idle connections; call it when no request is in flight.

        The transport stays usable: the next request opens a new connection.
        """
        with self._lock:
            everything = list(self._all_http)
        for each in everything:
            self._drop_connections(each)

    def send(self, request: Request, credentials: Credentials) -> Response:
        """Sign and send ``request``, retrying only what is safe to retry.

        :returns: the response, whatever its status (callers map statuses).
        :raises TransportError: the request could not be completed.
        :raises UncertainResultError: a non-idempotent request was sent and no
            answer came back; it was not re-sent.
        :raises ResponseTooLargeError: the body exceeded ``max_response_bytes``.
        """
        attempt = 0
        while True:
            attempt += 1
            can_retry = attempt <= self.retries
            try:
                response = self._send_once(request, credentials)
            except _NotSent as exc:
                # Quick refusals are retried; a TLS failure will not heal, and
                # a timeout is not multiplied: timeout= is the caller's bound.
                if can_retry and not isinstance(
                    exc.cause, ssl.SSLError | httplib2.HttpLib2Error | TimeoutError
                ):
                    self._wait(attempt, None, request, f"connect failed ({exc.cause!r})")
                    continue
                raise self._connect_error(request, exc.cause) from exc.cause
            except _NoAnswer as exc:
                # A read timeout is not retried: timeout= is the caller's bound.
                if request.idempotent and can_retry and not isinstance(exc.cause, TimeoutError):
                    self._wait(attempt, None, request, f"no answer ({exc.cause!r})")
                    continue
                raise self._no_answer_error(request, exc.cause) from exc.cause
            if request.idempotent and can_retry and response.status in RETRY_STATUSES:
                delay = _retry_after(response.headers, time.time())
                if delay is not None and delay > self.max_retry_after:
                    return response
                self._wait(attempt, delay, request, f"status {response.status}")
                continue
            return response

    def _wait(self, attempt: int, retry_after: float | None, request: Request, why: str) -> None:
        if retry_after is not None:
            delay = retry_after
        else:
            ceiling = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
            delay = random.uniform(0, ceiling)  # noqa: S311 - jitter, not security
        log.info(
            "retrying %s %s in %.2fs (%s, attempt %d)",
            request.method,
            request.path,
            delay,
            why,
            attempt + 1,
        )
        self._sleep(delay)

    def _signer_for(self, credentials: Credentials) -> Signer:
        signer = self._signer
        if signer is None or signer.credentials is not credentials:
            signer = self._signer = Signer(credentials)
        return signer

    def _send_once(self, request: Request, credentials: Credentials) -> Response:
        signed = self._signer_for(credentials).sign(request)
        headers = signed.headers
        headers["User-Agent"] = USER_AGENT
        http = self._http()
        # The base URL was validated as http(s); no need to parse the URL again.
        scheme = "https" if request.url.startswith("https:") else "http"
        if request.idempotent:
            # A kept-alive socket the server has closed meanwhile would fail
            # after sending; notice it now, while reconnecting is free.
            _close_stale(http.connections)
            connection_type = self._reusable[scheme]
        else:
            # A fresh connection: a stale keep-alive socket can't be the cause of
            # a failure, so any failure after sending really is uncertain.
            self._drop_connections(http)
            connection_type = self._one_shot[scheme]
        started = time.perf_counter()
        try:
            raw, content = http.request(
                signed.uri,
                method=signed.method,
                body=signed.body,
                headers=headers,
                redirections=0,
                connection_type=connection_type,
            )
        except (_NotSent, _NoAnswer):
            self._drop_connections(http)
            raise
        except _TooLarge as exc:
            self._drop_connections(http)
            raise ResponseTooLargeError(
                f"{request.method} {request.path}: the response is larger than "
                f"{exc.limit} bytes (max_response_bytes)"
            ) from None
        except (httplib2.decode.DecodeRatioError, httplib2.decode.DecodeLimitError) as exc:
            self._drop_connections(http)
            raise ResponseTooLargeError(
                f"{request.method} {request.path}: the compressed response expands "
                f"beyond the limit ({exc})"
            ) from exc
        except httplib2.FailedToDecompressContent as exc:
            self._drop_connections(http)
            raise ResponseError(
                f"{request.method} {request.path}: the response claims compression "
                "but does not decompress"
            ) from exc
        except TimeoutError as exc:
            self._drop_connections(http)
            raise self._no_answer_error(request, exc) from exc
        except _TRANSPORT_EXCEPTIONS as exc:
            self._drop_connections(http)
            if request.idempotent:
                raise _NoAnswer(exc) from exc
            raise self._no_answer_error(request, exc) from exc
        if not request.idempotent:
            self._drop_connections(http)
        if log.isEnabledFor(logging.DEBUG):  # request.path parses the URL: only when logged
            log.debug(
                "%s %s -> %d (%d bytes, %.1f ms)",
                request.method,
                request.path,
                raw.status,
                len(content),
                (time.perf_counter() - started) * 1000,
            )
        return Response(raw.status, dict(raw), content)

    def _connect_error(self, request: Request, cause: BaseException) -> TransportError:
        url = request.url
        if isinstance(cause, ssl.SSLCertVerificationError):
            return TLSError(
                f"the server's TLS certificate is not trusted ({_describe(cause)}); "
                "pass ca_certs= with the CA bundle that signed it",
                method=request.method,
                url=url,
            )
        if isinstance(cause, ssl.SSLError):
            return TLSError(
                f"TLS handshake failed ({_describe(cause)})", method=request.method, url=url
            )
        if isinstance(cause, TimeoutError):
            return TransportError(
                f"timed out connecting after {self.timeout:g}s", method=request.method, url=url
            )
        return TransportError(
            f"could not connect ({_describe(cause)}); check the base URL and the network",
            method=request.method,
            url=url,
        )

    def _no_answer_error(self, request: Request, cause: BaseException) -> TransportError:
        what = (
            f"timed out after {self.timeout:g}s"
            if isinstance(cause, TimeoutError)
            else f"the connection failed ({_describe(cause)})"
        )
        if request.idempotent:
            return TransportError(what, method=request.method, url=request.url)
        return UncertainResultError(
            f"{what} after the request was sent; it may or may not have been carried "
            "out, and it was not re-sent",
            method=request.method,
            url=request.url,
        )


def _close_stale(connections: dict[str, Any]) -> None:
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


def _close_connections(connections: dict[str, Any]) -> None:
    for conn in list(connections.values()):
        conn.close()
    connections.clear()


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text != type(exc).__name__ else text
