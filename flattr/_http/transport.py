"""The transport: sign each attempt, send it on a kept-alive connection, retry what is safe.

Reliability rules (each is tested in ``tests/faults``):

- one :class:`httplib2.Http` per thread (it is not thread-safe), kept alive;
- redirects are never followed, and no proxy is read from the environment;
- certificate validation is always on (``ca_certs`` may name a CA bundle);
- a request that is not idempotent (registering, clicking) goes out on a
  fresh connection and is never re-sent, neither by us nor by httplib2's own
  hidden retry; when it may have reached the server and no answer came back,
  :class:`~flattr.errors.UncertainResultError` says so;
- bodies larger than ``max_response_bytes`` (or the request's own
  ``max_bytes``) are refused while reading;
- a whole call, retries and waits included, ends by its ``deadline``
  (:mod:`flattr._http.deadlines`), however slowly the answer trickles in.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, Final

import httplib2

from flattr._http import connections
from flattr._http.connections import DEFAULT_MAX_RESPONSE_BYTES, Failure
from flattr._http.deadlines import WATCHDOG, running_until
from flattr._http.messages import Request, Response
from flattr._http.proxies import check_proxy_url, chooser, describe_proxy
from flattr._http.signing import Credentials, RequestSigner, Signer
from flattr._redact import scrub
from flattr._version import USER_AGENT
from flattr.errors import DeadlineExceeded, FlattrError, UncertainResultError, ValidationError

__all__ = [
    "DEADLINE_FACTOR",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_TIMEOUT",
    "RETRY_STATUSES",
    "Transport",
]

# The name users configure logging with; stable across the modules' layout.
log = logging.getLogger("flattr._transport")

DEFAULT_TIMEOUT: Final = 30.0
#: A call's deadline is this many times its timeout unless given.
DEADLINE_FACTOR: Final = 4.0
#: Statuses a GET is retried on: the gateway and overload answers.
RETRY_STATUSES: Final = frozenset({502, 503, 504})


class Transport:
    """Signs, sends and (where safe) retries requests; one connection per thread.

    :param timeout: seconds allowed for connecting and for each read.
    :param connect_timeout: seconds allowed for connecting (and the TLS
        handshake), when that should differ from ``timeout``.
    :param deadline: seconds allowed for a whole call, retries and waits
        included (default: four times ``timeout``); past it the call fails
        with :class:`~flattr.DeadlineExceeded`, or
        :class:`~flattr.UncertainResultError` for a request that changes
        state and was sent.
    :param ca_certs: path to a PEM bundle of CAs to trust instead of the default
        ones (for a private deployment or a test server).
    :param retries: how many times an idempotent request is re-sent after a
        connection failure or a 502/503/504 answer (any request is re-sent
        after a refused connection, since nothing reached the server). A
        timeout is never retried, so a call fails close to ``timeout``.
    :param max_response_bytes: the largest body accepted, compressed or not,
        unless a request sets its own ``max_bytes``.
    :param backoff: base of the exponential backoff, in seconds (full jitter).
    :param max_backoff: the longest single wait between attempts.
    :param max_retry_after: the longest ``Retry-After`` honoured; a longer one
        is not waited for, and the error answer is returned at once.
    :param proxy: a proxy for every request (``http://host:port`` for an HTTP
        ``CONNECT`` proxy, ``socks5://`` or ``socks4://``); without it the
        environment's ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY`` and
        ``NO_PROXY`` decide, as in requests and httpx. Loopback hosts are
        always reached directly.
    :param trust_env: whether the ``*_PROXY`` environment variables are read.
    :param http_factory: builds the per-thread :class:`httplib2.Http`; for
        tests that must inject a fault a real server cannot produce.
    :param sleep: the sleep function (tests pass a fake clock).
    """

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float | None = None,
        deadline: float | None = None,
        ca_certs: str | None = None,
        retries: int = 2,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        max_retry_after: float = 60.0,
        proxy: str | None = None,
        trust_env: bool = True,
        http_factory: Callable[[], httplib2.Http] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.timeout = _seconds("timeout", timeout)
        self.connect_timeout = (
            None if connect_timeout is None else _seconds("connect_timeout", connect_timeout)
        )
        self.deadline = (
            DEADLINE_FACTOR * self.timeout if deadline is None else _seconds("deadline", deadline)
        )
        self.proxy = None if proxy is None else check_proxy_url(proxy)
        self._proxies = chooser(self.proxy, trust_env=trust_env)
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
        # Connection classes per (cap, one-shot): a class attribute carries the
        # cap, so that httplib2 builds capped connections itself.
        self._connection_types: dict[tuple[int, bool], dict[str, type[Any]]] = {}
        # The signer of the credentials seen last (a client sends the same
        # Credentials object every time); one attribute, so threads swap it whole.
        self._signer: Signer | None = None

    def __repr__(self) -> str:
        proxy = f" proxy={describe_proxy(self.proxy)}" if self.proxy else ""
        return (
            f"<Transport timeout={self.timeout:g}s deadline={self.deadline:g}s "
            f"retries={self.retries}{proxy}>"
        )

    def _default_http(self) -> httplib2.Http:
        return connections.new_http(
            timeout=self.timeout,
            ca_certs=self.ca_certs,
            max_response_bytes=self.max_response_bytes,
            proxy=self._proxies,
        )

    def _http(self) -> httplib2.Http:
        http: httplib2.Http | None = getattr(self._local, "http", None)
        if http is None:
            http = self._http_factory()
            # Close the sockets when the Http goes (its thread ended, or the
            # transport was dropped without close()), not at the socket's GC.
            weakref.finalize(http, connections.close_connections, http.connections)
            with self._lock:
                self._all_http.add(http)
            self._local.http = http
        return http

    def _types(self, max_bytes: int, one_shot: bool) -> dict[str, type[Any]]:
        key = (max_bytes, one_shot)
        types = self._connection_types.get(key)
        if types is None:
            types = connections.connection_types(max_bytes, one_shot, self.connect_timeout)
            if len(self._connection_types) < 16:  # requests choose among a few caps
                self._connection_types[key] = types
        return types

    def close(self) -> None:
        """Close every thread's idle connections; call it when no request is in flight.

        The transport stays usable: the next request opens a new connection.
        """
        with self._lock:
            everything = list(self._all_http)
        for each in everything:
            connections.close_connections(each.connections)

    def send(self, request: Request, auth: Credentials | RequestSigner) -> Response:
        """Sign and send ``request``, retrying only what is safe to retry.

        :param request: what to send.
        :param auth: OAuth 1 credentials (a :class:`Signer` is kept for them),
            or any signer (a bearer token, or none).
        :returns: the response, whatever its status (callers map statuses).
        :raises TransportError: the request could not be completed.
        :raises UncertainResultError: a non-idempotent request was sent and no
            answer came back; it was not re-sent.
        :raises ResponseTooLargeError: the body exceeded the size limit.
        """
        signer = self._signer_for(auth) if isinstance(auth, Credentials) else auth
        try:
            return self._send(request, signer)
        except BaseException as error:
            # httplib2's frames and ours hold the signed headers as locals; a
            # traceback shown with its locals must not carry them to the caller.
            scrub(error)
            raise

    def _send(self, request: Request, signer: RequestSigner) -> Response:
        until = time.monotonic() + self.deadline
        attempt = 0
        while True:
            attempt += 1
            can_retry = attempt <= self.retries
            started = time.perf_counter()
            try:
                response = self._send_once(request, signer, until)
            except Failure as failure:
                if log.isEnabledFor(logging.DEBUG):
                    log.debug(
                        "%s %s -> failed (%s) after %.1f ms",
                        request.method,
                        request.path,
                        type(failure.cause).__name__,
                        (time.perf_counter() - started) * 1000,
                    )
                if time.monotonic() >= until:
                    raise self._deadline_error(request, failure) from failure.cause
                if can_retry and failure.retryable(request):
                    why = "connect failed" if not failure.sent else "no answer"
                    if self._wait(attempt, None, request, f"{why} ({failure.cause!r})", until):
                        continue
                limit = self.timeout
                if not failure.sent and self.connect_timeout is not None:
                    limit = self.connect_timeout
                raise failure.error(request, timeout=limit) from failure.cause
            if request.idempotent and can_retry and response.status in RETRY_STATUSES:
                delay = response.retry_after(time.time())
                if delay is not None and delay > self.max_retry_after:
                    return response
                if self._wait(attempt, delay, request, f"status {response.status}", until):
                    continue
            return response

    def _deadline_error(self, request: Request, failure: Failure) -> FlattrError:
        what = f"the call took longer than its {self.deadline:g}s deadline"
        if failure.sent and not request.idempotent:
            return UncertainResultError(
                f"{what} after the request was sent; it may or may not have been carried "
                "out, and it was not re-sent",
                method=request.method,
                url=request.url,
            )
        return DeadlineExceeded(what, method=request.method, url=request.url)

    def _wait(
        self, attempt: int, retry_after: float | None, request: Request, why: str, until: float
    ) -> bool:
        """Sleep before the next attempt; ``False`` (no sleep) when it would pass the deadline."""
        if retry_after is not None:
            delay = retry_after
        else:
            ceiling = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
            delay = random.uniform(0, ceiling)  # noqa: S311 - jitter, not security
        if time.monotonic() + delay >= until:
            return False
        log.info(
            "retrying %s %s in %.2fs (%s, attempt %d)",
            request.method,
            request.path,
            delay,
            why,
            attempt + 1,
        )
        self._sleep(delay)
        return True

    def _signer_for(self, credentials: Credentials) -> Signer:
        signer = self._signer
        if signer is None or signer.credentials is not credentials:
            signer = self._signer = Signer(credentials)
        return signer

    def _send_once(self, request: Request, signer: RequestSigner, until: float) -> Response:
        # The signed headers stay inside `signed` (whose repr hides them), never in
        # a local of their own: a traceback rendered with its locals shows no signature.
        signed = signer.sign(request)
        signed.headers["User-Agent"] = USER_AGENT
        http = self._http()
        # The base URL was validated as http(s); no need to parse the URL again.
        scheme = "https" if request.url.startswith("https:") else "http"
        max_bytes = request.max_bytes or self.max_response_bytes
        if request.idempotent:
            # A kept-alive socket the server has closed meanwhile would fail
            # after sending; notice it now, while reconnecting is free.
            connections.close_stale(http.connections)
            connection_type = self._types(max_bytes, one_shot=False)[scheme]
        else:
            # A fresh connection: a stale keep-alive socket can't be the cause of
            # a failure, so any failure after sending really is uncertain.
            connections.close_connections(http.connections)
            connection_type = self._types(max_bytes, one_shot=True)[scheme]
        # httplib2 reuses a kept-alive connection whatever connection_type says,
        # so a request with its own cap puts it on the connections it may use
        # and puts the transport's back afterwards.
        own_cap = max_bytes != self.max_response_bytes
        if own_cap:
            connections.set_response_class(http.connections, connection_type.response_class)
        started = time.perf_counter()
        ticket = WATCHDOG.watch(until, http.connections)
        in_time = False
        try:
            with running_until(until):
                raw, content = http.request(
                    signed.uri,
                    method=signed.method,
                    body=signed.body,
                    headers=signed.headers,
                    redirections=0,
                    connection_type=connection_type,
                )
        except connections.EXPECTED as exc:
            connections.close_connections(http.connections)
            raise connections.map_failure(exc) from exc
        finally:
            in_time = WATCHDOG.cancel(ticket)
            if own_cap:
                default = self._types(self.max_response_bytes, one_shot=False)[scheme]
                connections.set_response_class(http.connections, default.response_class)
        if not in_time:  # cut off at the deadline: the answer may be a fragment
            connections.close_connections(http.connections)
            raise connections.map_failure(TimeoutError("the deadline passed during the answer"))
        if not request.idempotent:
            connections.close_connections(http.connections)
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


def _seconds(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(name, "must be a number of seconds")
    if value <= 0:
        raise ValidationError(name, "must be more than 0 seconds")
    return float(value)
