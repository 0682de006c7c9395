"""Signing: OAuth 1.0a HMAC-SHA1 for API 0.0.1, bearer tokens for API v2, or nothing.

Every signer turns a :class:`~flattr._http.messages.Request` into a
:class:`~flattr._http.messages.SignedRequest` (the URI with its query, the
headers and the body); the transport signs each attempt afresh, so a retried
request never repeats a nonce. Nothing outside :mod:`flattr._http` builds a
signature or an ``Authorization`` header.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Protocol, cast
from urllib.parse import quote, urlencode

from oauthlib.common import generate_timestamp
from oauthlib.oauth1.rfc5849 import parameters, signature, utils

from flattr._http.messages import FORM_CONTENT_TYPE, Request, SignedRequest
from flattr._redact import Secret, reveal

__all__ = [
    "BasicSigner",
    "BearerSigner",
    "Credentials",
    "RequestSigner",
    "Signer",
    "Unsigned",
    "sign",
]


class RequestSigner(Protocol):
    """Anything that turns a request into one ready for the wire."""

    def sign(self, request: Request) -> SignedRequest:
        """The request with its credentials applied, ready to send."""
        ...


@dataclass(frozen=True, slots=True)
class Credentials:
    """The consumer and (optionally) token a request is signed with."""

    consumer_key: str
    consumer_secret: str | Secret = field(repr=False)
    token_key: str | None = None
    token_secret: str | Secret | None = field(default=None, repr=False)


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


#: Characters per nonce, and the table that turns a random byte into one.
_NONCE_LENGTH: Final = 26
_NONCE_TABLE: Final = bytes.maketrans(bytes(range(256)), b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" * 8)


class _Nonces:
    """Fresh nonces from the operating system's CSPRNG, drawn in batches.

    One :func:`os.urandom` call yields 64 nonces of 26 characters from the
    base32 alphabet (``A``-``Z``, ``2``-``7``). Each random byte picks one
    character by its low five bits (256 is a multiple of 32, so every
    character is equally likely): 130 random bits per nonce. Providers built
    on oauthlib's defaults accept only 20 to 30 characters, and the signer's
    templates need letters and digits only. Signing makes no system call for
    its nonce. ``list.pop`` is atomic, so no two threads get the same nonce,
    and a forked child starts with an empty pool rather than the parent's
    remaining nonces.
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
            size = _NONCE_LENGTH
            text = os.urandom(size * self._BATCH).translate(_NONCE_TABLE).decode("ascii")
            fresh = [text[at : at + size] for at in range(0, len(text), size)]
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


_TemplateKey = tuple[str, str, tuple[tuple[str, str], ...]]


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
        # The HMAC keyed once; each signature continues a copy of it, which
        # skips hashing the key and looking the digest up again. The secrets
        # are revealed inside one expression, never bound to a local.
        self._mac = hmac.new(
            (
                f"{utils.escape(reveal(credentials.consumer_secret))}&"
                f"{utils.escape(reveal(credentials.token_secret or ''))}"
            ).encode(),
            digestmod=hashlib.sha1,
        )
        # Keyed by what a template depends on (a form body or token-leg
        # parameters never get one):
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
        # The token legs (with a callback or verifier) are signed in full.
        if (
            request.form is None
            and not request.oauth
            and (ours or (_unreserved(nonce) and _unreserved(timestamp)))
        ):
            template = self._template(request)
        if template is None:
            return self._sign_in_full(request, nonce, timestamp)
        b1, b2, b3 = template.base
        h1, h2, h3, h4 = template.header
        mac = self._hmac_sha1(f"{b1}{nonce}{b2}{timestamp}{b3}")
        authorization = f"{h1}{nonce}{h2}{timestamp}{h3}{_escape_base64(mac)}{h4}"
        headers = {"Authorization": authorization}
        if request.headers or request.body is not None:
            return _with_extras(request, template.uri, headers, None)
        return SignedRequest(request.method, template.uri, headers, None)

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
        oauth_params.extend((name, reveal(value)) for name, value in request.oauth)
        return oauth_params

    @staticmethod
    def _base_string(request: Request, oauth_params: list[tuple[str, str]]) -> str:
        signed_params = [*oauth_params, *request.query, *(request.form or ())]
        return _signature_base_string(
            request.method,
            signature.base_string_uri(request.url),
            _normalize_parameters(signed_params),
        )

    def _sign_in_full(self, request: Request, nonce: str, timestamp: str) -> SignedRequest:
        oauth_params = self._oauth_params(request, nonce, timestamp)
        base_string = self._base_string(request, oauth_params)
        oauth_params.append(("oauth_signature", self._hmac_sha1(base_string)))
        return _with_extras(request, _uri(request), _prepare_headers(oauth_params), _form(request))

    def _template(self, request: Request) -> _Template | None:
        key = (request.method, request.url, request.query)
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
        return _Template(base, header, _uri(request))


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


def _uri(request: Request) -> str:
    """The request's URL with its query, each parameter percent-encoded (RFC 3986)."""
    if request.query:
        return f"{request.url}?{urlencode(request.query, quote_via=quote)}"
    return request.url


def _form(request: Request) -> bytes | None:
    """The form body, encoded as OAuth 1 signs it, or ``None``."""
    if request.form is None:
        return None
    return urlencode(request.form, quote_via=quote).encode("ascii")


def _with_extras(
    request: Request, uri: str, headers: dict[str, str], form: bytes | None
) -> SignedRequest:
    """A :class:`SignedRequest` with the request's own headers and body added."""
    headers.update(request.headers)
    body = form
    if form is not None:
        headers["Content-Type"] = FORM_CONTENT_TYPE
    elif request.body is not None:
        body = request.body
        if request.content_type:
            headers["Content-Type"] = request.content_type
    return SignedRequest(request.method, uri, headers, body)


class BearerSigner:
    """Applies an OAuth 2 bearer token (RFC 6750 §2.1), or nothing for anonymous calls.

    :param token: the access token, or ``None`` to send no ``Authorization`` header.
    """

    __slots__ = ("_authorization",)

    def __init__(self, token: str | None) -> None:
        self._authorization = None if token is None else f"Bearer {token}"

    def __repr__(self) -> str:
        kind = "anonymous" if self._authorization is None else "bearer token ****"
        return f"<BearerSigner {kind}>"

    @property
    def anonymous(self) -> bool:
        """Whether requests go without a token."""
        return self._authorization is None

    def sign(self, request: Request) -> SignedRequest:
        """The request with ``Authorization: Bearer ...`` (when there is a token)."""
        headers = {} if self._authorization is None else {"Authorization": self._authorization}
        return _with_extras(request, _uri(request), headers, _form(request))


class BasicSigner:
    """Applies HTTP Basic client authentication (RFC 2617), for the OAuth 2 token request.

    The ``Authorization`` value is built once; the secret is kept nowhere
    else, and neither ``repr`` nor any error shows it.

    :param client_id: the application's client id (no ``:``, which Basic cannot carry).
    :param client_secret: the application's client secret.
    """

    __slots__ = ("_authorization", "client_id")

    def __init__(self, client_id: str, client_secret: str) -> None:
        if ":" in client_id:
            raise ValueError("a client id used with HTTP Basic must not contain ':'")
        self.client_id = client_id
        self._authorization = "Basic " + base64.b64encode(
            f"{client_id}:{client_secret}".encode()
        ).decode("ascii")

    def __repr__(self) -> str:
        return f"<BasicSigner client {self.client_id[:4]}… secret ****>"

    def sign(self, request: Request) -> SignedRequest:
        """The request with ``Authorization: Basic ...``."""
        headers = {"Authorization": self._authorization}
        return _with_extras(request, _uri(request), headers, _form(request))


class Unsigned:
    """Sends requests as they are, with no credentials (fetching a feed)."""

    __slots__ = ()

    def sign(self, request: Request) -> SignedRequest:
        """The request with its query, headers and body, and no ``Authorization``."""
        return _with_extras(request, _uri(request), {}, _form(request))
