"""Every exception this library raises, in one tree rooted at :class:`FlattrError`.

.. code-block:: text

    FlattrError
    ├── ValidationError (also a ValueError)   bad input, raised before anything is sent
    ├── TransportError                        network, DNS, TLS, timeouts
    │   ├── TLSError                          the certificate could not be verified
    │   ├── TransportTimeout                  a time limit passed
    │   │   ├── ConnectTimeout                connecting took longer than the timeout
    │   │   ├── ReadTimeout                   one read waited longer than the timeout
    │   │   └── DeadlineExceeded              the whole call took longer than its deadline
    │   └── UncertainResultError              a state-changing call may have reached the server
    ├── OAuthError                            a token-protocol problem (``oauth_problem``)
    ├── TokenStoreError                       a stored token cannot be read, trusted or written
    ├── ResponseError                         a body that is not the XML we expect
    │   └── ResponseTooLargeError
    └── APIError                              the server answered with an error status
        ├── AuthenticationError   401
        ├── ForbiddenError        403
        ├── RateLimitError        too many calls (``rate_limit_exceeded``)
        ├── NotFoundError         404
        ├── ClientError           other 4xx
        ├── RegistrationError     500 on thing registration (invalid data, URL taken)
        └── ServerError           other 5xx

No message ever holds a consumer secret, token secret, verifier or signature:
the exceptions only ever receive the public facts (method, path, status, the
server's own message) from the code that raises them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

__all__ = [
    "APIError",
    "Advice",
    "AuthenticationError",
    "ClientError",
    "ConnectTimeout",
    "DeadlineExceeded",
    "FlattrError",
    "ForbiddenError",
    "NotFoundError",
    "OAuthError",
    "RateLimitError",
    "ReadTimeout",
    "RegistrationError",
    "ResponseError",
    "ResponseTooLargeError",
    "ServerError",
    "TLSError",
    "TokenStoreError",
    "TransportError",
    "TransportTimeout",
    "UncertainResultError",
    "ValidationError",
    "error_for_status",
]


class Advice(enum.StrEnum):
    """What kind of step can fix a failure, decided where the failure is understood.

    The message of each exception already says it in words; ``advice`` is the
    same decision for programs, such as the ``flattr`` command, which turns it
    into a command to run.
    """

    #: The token is unknown, revoked or expired, or the user said no: authorize again.
    AUTHORIZE_AGAIN = "authorize_again"
    #: The consumer key or secret (or the signature made with them) was refused.
    CHECK_CONSUMER = "check_consumer"
    #: The token lacks a scope the call needs: authorize again asking for it.
    ADD_SCOPE = "add_scope"
    #: The server refused the request's timestamp: set the computer's clock.
    CHECK_CLOCK = "check_clock"
    #: Too many calls: wait (``retry_after`` or ``reset`` say how long when known).
    WAIT = "wait"
    #: The server failed or the network did: trying again later can help.
    TRY_AGAIN = "try_again"
    #: The call can never succeed as asked (your own thing, flattred already, inactive owner).
    NOT_ALLOWED = "not_allowed"
    #: A state-changing call may have been carried out: look the result up first.
    LOOK_UP_RESULT = "look_up_result"
    #: The thing is registered already: fetch it instead of registering it.
    ALREADY_REGISTERED = "already_registered"
    #: An argument or field was refused: correct it.
    CHECK_INPUT = "check_input"
    #: No such user or thing: check the id or name.
    CHECK_ID = "check_id"
    #: The server's certificate is not trusted: give the CA bundle that signed it.
    TRUST_CA = "trust_ca"
    #: The server cannot be reached, or does not answer like Flattr: check its address.
    CHECK_SERVER = "check_server"
    #: A feed cannot be read from where it was said to be: check the feed's address.
    CHECK_FEED = "check_feed"


class FlattrError(Exception):
    """Root of every exception raised by :mod:`flattr`.

    Catch this one to handle every failure of a call in one place::

        try:
            client.me()
        except flattr.FlattrError as exc:
            print(f"Flattr said no: {exc}")

    :ivar advice: what kind of step can fix it (an :class:`Advice`), when known.
    """

    advice: Advice | None = None


class ValidationError(FlattrError, ValueError):
    """An argument is invalid; raised before any request is sent.

    :ivar field: the name of the offending argument or field (``"title"``,
        ``"scopes"``, ...).
    """

    advice = Advice.CHECK_INPUT

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class TransportError(FlattrError):
    """The request could not be completed: DNS, refused connection, TLS, timeout, reset.

    :ivar method: the HTTP method of the failed request.
    :ivar url: the URL without its query string (the query may carry OAuth parameters).
    """

    advice = Advice.CHECK_SERVER

    def __init__(self, message: str, *, method: str = "", url: str = "") -> None:
        where = f"{method} {url}: " if method or url else ""
        super().__init__(f"{where}{message}")
        self.method = method
        self.url = url
        self.reason = message


class TLSError(TransportError):
    """The server's TLS certificate could not be verified.

    Verification cannot be turned off. Pass ``ca_certs=`` with the CA bundle
    that signed the server's certificate instead.
    """

    advice = Advice.TRUST_CA


class TransportTimeout(TransportError):
    """A time limit passed before the call completed.

    Catch this one for every kind of timeout; a request that changes state
    and timed out after it was sent raises :class:`UncertainResultError`
    instead, since it may have been carried out.
    """

    advice = Advice.TRY_AGAIN


class ConnectTimeout(TransportTimeout):
    """Connecting to the server took longer than the timeout; nothing was sent."""


class ReadTimeout(TransportTimeout):
    """The server sent nothing for longer than the timeout."""


class DeadlineExceeded(TransportTimeout):
    """The whole call, retries and slow answers included, took longer than its deadline."""


class UncertainResultError(TransportError):
    """A state-changing request was sent, but no answer came back.

    The server may or may not have carried it out (registered the thing,
    counted the click). It is never re-sent automatically: look the result
    up first (for a registration, :meth:`flattr.FlattrClient.thing_by_url`).
    """

    advice = Advice.LOOK_UP_RESULT


class OAuthError(FlattrError):
    """The OAuth token protocol failed.

    :ivar problem: the server's ``oauth_problem`` name (``"token_rejected"``,
        ``"permission_denied"``, ...) or a name of our own such as
        ``"callback_not_confirmed"``, ``"token_mismatch"`` or ``"denied"``.
    :ivar status: the HTTP status, or ``None`` when no request was involved.
    """

    def __init__(
        self,
        problem: str,
        message: str,
        *,
        status: int | None = None,
        advice: Advice | None = None,
    ) -> None:
        super().__init__(message)
        self.problem = problem
        self.status = status
        self.advice = advice


class ResponseError(FlattrError):
    """The server answered with something that is not the response we expect.

    :ivar status: the HTTP status of the answer.
    :ivar content_type: its ``Content-Type`` header, if any.
    :ivar excerpt: at most the first 200 characters of the body, for diagnosis.
    """

    advice = Advice.CHECK_SERVER

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        content_type: str | None = None,
        excerpt: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.content_type = content_type
        self.excerpt = excerpt


class ResponseTooLargeError(ResponseError):
    """The response body was larger than the client's ``max_response_bytes``."""


class APIError(FlattrError):
    """The server answered with an HTTP error status.

    :ivar status: the HTTP status code.
    :ivar code: the ``<code>`` of the server's ``<error>`` body when it sent one,
        or the OAuth problem name on a 401; else ``None``.
    :ivar message: the server's own message (or the HTTP reason phrase).
    :ivar method: the HTTP method of the request.
    :ivar path: the request path, without query string.
    :ivar retry_after: the seconds the server asked to wait (``Retry-After``)
        before trying again, or ``None`` when it did not say. A 503 whose wait
        is longer than the client's ``max_retry_after`` arrives here at once.
    :ivar headers: the answer's headers, names lower-cased.
    :ivar hint: what to try, in words (also the end of ``str(exc)``); ``""`` when
        nothing specific helps.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        method: str = "",
        path: str = "",
        hint: str = "",
        advice: Advice | None = None,
        retry_after: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.method = method
        self.path = path
        self.retry_after = retry_after
        self.hint = hint
        self.advice = advice
        self.headers: Mapping[str, str] = dict(headers or {})
        where = f"{method} {path}: " if method or path else ""
        text = f"{where}{status} {message}".rstrip()
        if hint:
            text = f"{text}. {hint}"
        if retry_after is not None:
            text = f"{text} (the server asked to wait {retry_after:.0f} s)"
        super().__init__(text)


class AuthenticationError(APIError):
    """401: the signature, consumer or access token was not accepted.

    ``code`` holds the OAuth problem when the server named one
    (``"signature_invalid"``, ``"token_rejected"``, ``"timestamp_refused"`` ...).
    """


class ForbiddenError(APIError):
    """403: the call is not allowed (missing scope, own thing, repeat click, inactive user).

    :ivar missing_scope: the scope the server said the token lacks, when it said so.
    """

    def __init__(
        self, status: int, message: str, *, missing_scope: str | None = None, **kwargs: Any
    ) -> None:
        self.missing_scope = missing_scope
        super().__init__(status, message, **kwargs)


class RateLimitError(APIError):
    """The server refused the call because too many were made (``rate_limit_exceeded``).

    :ivar reset: when the limit resets, as a Unix time, when the server said
        (API v2's ``X-RateLimit-Reset``); else ``None``. ``retry_after``
        holds the seconds to wait when the server sent ``Retry-After``.
    """

    def __init__(
        self, status: int, message: str, *, reset: float | None = None, **kwargs: Any
    ) -> None:
        self.reset = reset
        super().__init__(status, message, **kwargs)


class NotFoundError(APIError):
    """404: the user or thing does not exist."""


class ClientError(APIError):
    """Any other 4xx answer: the request was malformed."""


class RegistrationError(APIError):
    """500 on ``thing/register``: the server refused to register the thing.

    Flattr answered this way both for invalid data and for a URL that is
    already registered; :attr:`duplicate` tells the second case when the
    server said so.
    """

    @property
    def duplicate(self) -> bool:
        """Whether the server said the URL is already registered."""
        return "already" in self.message.lower()


class ServerError(APIError):
    """Any 5xx answer other than a failed registration."""


_STATUS_CLASSES: dict[int, type[APIError]] = {
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
}


def error_for_status(status: int) -> type[APIError]:
    """The :class:`APIError` subclass for an HTTP error status.

    :param status: an HTTP status of 400 or above.
    :returns: the exact class for 401/403/404, else :class:`ClientError` for
        other 4xx and :class:`ServerError` for 5xx.
    """
    exact = _STATUS_CLASSES.get(status)
    if exact is not None:
        return exact
    return ServerError if status >= 500 else ClientError


class TokenStoreError(FlattrError):
    """A stored token could not be read, trusted or written.

    The message says which file (or keyring entry) and what to do about it.

    :ivar location: the file path or keyring entry concerned.
    :ivar reason: what kind of problem: ``"damaged"`` (unreadable content;
        remove it and log in again), ``"insecure"`` (a mode wider than
        ``0600``, another owner, a symlink), ``"unavailable"`` (no keyring
        package or backend) or ``"io"`` (the system refused to read or write).
    """

    def __init__(self, message: str, *, location: str = "", reason: str = "io") -> None:
        super().__init__(message)
        self.location = location
        self.reason = reason
