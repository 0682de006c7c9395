"""The OAuth 1.0a provider: signature checks and the two token endpoints.

Signatures are recomputed with the RFC 5849 building blocks of
:mod:`oauthlib.oauth1.rfc5849.signature`, from the scheme and ``Host`` the
request really arrived with. OAuth parameters may come in the
``Authorization`` header, the query string or the form body of a POST (PHP
filled its form fields for POST only, so a GET's body is never read); when
one appears in more than one place, the copies must agree (the 2010 PHP
library sent them twice).

Failures follow the OAuth Problem Reporting extension: ``oauth_problem``,
and each of its other parameters (``oauth_acceptable_timestamps``,
``oauth_parameters_absent``, ...) as a parameter of its own.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlencode, urlsplit

from oauthlib.oauth1.rfc5849 import signature, utils

from ._limits import ascii_int
from ._nonces import NonceBook
from ._store import AccessToken, Consumer, RequestToken, Store
from ._wire import FORM_TYPE, Incoming, Outgoing

TokenKind = Literal["none", "request", "access"]

_REQUIRED = (
    "oauth_consumer_key",
    "oauth_signature_method",
    "oauth_signature",
    "oauth_timestamp",
    "oauth_nonce",
)


@dataclass(frozen=True, slots=True)
class _Secrets:
    """The two secrets, shaped as ``sign_hmac_sha1_with_client`` reads them."""

    client_secret: str = field(repr=False)
    resource_owner_secret: str = field(repr=False)


class OAuthProblem(Exception):
    """A request failed OAuth; ``problem`` is the Problem Reporting name.

    :param problem: e.g. ``signature_invalid``.
    :param advice: optional plain-words hint (never a secret), sent as
        ``oauth_problem_advice``.
    :param reported: the extension's other parameters, without the
        ``oauth_`` prefix: ``acceptable_timestamps="low-high"``,
        ``acceptable_versions``, ``parameters_absent`` and
        ``parameters_rejected`` (names joined with ``&``).
    """

    def __init__(self, problem: str, advice: str = "", **reported: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.advice = advice
        self.reported = {f"oauth_{name}": value for name, value in reported.items()}

    def as_form(self) -> Outgoing:
        """The answer on the OAuth endpoints: 401 with a form-encoded body."""
        fields = {"oauth_problem": self.problem, **self.reported}
        if self.advice:
            fields["oauth_problem_advice"] = self.advice
        return Outgoing(401, FORM_TYPE, urlencode(fields).encode())


@dataclass(frozen=True, slots=True)
class Verified:
    """What a correctly signed request proved."""

    consumer: Consumer
    request_token: RequestToken | None
    access_token: AccessToken | None
    params: dict[str, str] = field(repr=False)


def _header_pairs(req: Incoming) -> list[tuple[str, str]]:
    value = req.header("authorization")
    if not value or value[:6].lower() != "oauth ":
        return []
    try:
        pairs = utils.parse_authorization_header(value)
    except ValueError:
        raise OAuthProblem(
            "parameter_rejected",
            "malformed Authorization header",
            parameters_rejected="Authorization",
        ) from None
    return [(k, utils.unescape(v)) for k, v in pairs if k != "realm"]


def split_params(req: Incoming) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Collect the OAuth parameters and the other signed parameters of ``req``.

    :returns: ``(oauth, others)``: the ``oauth_*`` values merged from all
        places, and the non-OAuth query and form pairs (for the base string).
    :raises OAuthProblem: ``parameter_rejected`` when a parameter repeats
        within one place or disagrees between places.
    """
    try:
        form = req.form_pairs() if req.method == "POST" else []
    except UnicodeDecodeError:
        raise OAuthProblem("parameter_rejected", "the form body is not UTF-8") from None
    oauth: dict[str, str] = {}
    others: list[tuple[str, str]] = []
    for source in (_header_pairs(req), req.query_pairs(), form):
        seen: set[str] = set()
        for name, value in source:
            if not name.startswith("oauth_"):
                others.append((name, value))
                continue
            if name in seen:
                raise OAuthProblem(
                    "parameter_rejected", f"{name} given twice", parameters_rejected=name
                )
            seen.add(name)
            if oauth.setdefault(name, value) != value:
                raise OAuthProblem(
                    "parameter_rejected", f"{name} differs between places", parameters_rejected=name
                )
    return oauth, others


def lenient_params(req: Incoming) -> dict[str, str]:
    """The OAuth parameters of ``req`` for the request log; never raises."""
    try:
        return split_params(req)[0]
    except OAuthProblem:
        return {}


def valid_callback(callback: str) -> bool:
    """Tell whether ``callback`` is ``oob`` or an absolute http(s) URL.

    :param callback: the ``oauth_callback`` value as received.
    """
    if callback == "oob":
        return True
    if not callback.isascii() or any(ord(c) <= 32 or ord(c) == 127 for c in callback):
        return False  # a URL is ASCII, without spaces or controls: it ends up in a Location header
    try:
        parts = urlsplit(callback)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


class Provider:
    """Checks signed requests against one :class:`Store`.

    :param store: the shared state.
    :param timestamp_tolerance: seconds a timestamp may differ from
        ``store.clock()``; also how long a nonce is remembered.
    :param max_nonces: nonces remembered at once (see :class:`NonceBook`).
    """

    def __init__(self, store: Store, timestamp_tolerance: float, max_nonces: int = 10_000) -> None:
        self.store = store
        self.tolerance = timestamp_tolerance
        self.nonces = NonceBook(max_nonces)

    def verify(
        self, req: Incoming, kind: TokenKind, *, also_required: tuple[str, ...] = ()
    ) -> Verified:
        """Check every OAuth rule for ``req``.

        :param kind: which token the request must be signed with.
        :param also_required: leg-specific parameters (``oauth_callback``, ...).
        :raises OAuthProblem: on the first rule broken.
        """
        oauth, others = split_params(req)
        required = _REQUIRED + (("oauth_token",) if kind != "none" else ()) + also_required
        missing = [name for name in required if not oauth.get(name)]
        if missing:
            raise OAuthProblem("parameter_absent", parameters_absent="&".join(missing))
        if oauth.get("oauth_version", "1.0") != "1.0":
            raise OAuthProblem("version_rejected", acceptable_versions="1.0-1.0")
        if oauth["oauth_signature_method"] != "HMAC-SHA1":
            raise OAuthProblem("signature_method_rejected", "use HMAC-SHA1")
        store = self.store
        with store.lock:
            consumer = store.consumers.get(oauth["oauth_consumer_key"])
            request_token = access_token = None
            if kind == "request":
                request_token = store.request_tokens.get(oauth["oauth_token"])
            elif kind == "access":
                access_token = store.access_tokens.get(oauth["oauth_token"])
        if consumer is None:
            raise OAuthProblem("consumer_key_unknown")
        token = request_token or access_token
        if kind != "none" and (
            token is None
            or token.consumer_key != consumer.key
            or (access_token is not None and access_token.revoked)
        ):
            raise OAuthProblem("token_rejected", f"not a valid {kind} token for this consumer")
        stamp, oldest = self._check_timestamp(oauth["oauth_timestamp"])
        self._check_signature(req, oauth, others, consumer, token)
        scope = (consumer.key, token.key if token else "")
        now = int(store.clock())
        if not self.nonces.use(scope, oauth["oauth_nonce"], stamp, oldest, now):
            raise OAuthProblem("nonce_used")
        return Verified(consumer, request_token, access_token, oauth)

    def _check_timestamp(self, text: str) -> tuple[int, int]:
        """The timestamp, and the lowest one the tolerance accepts now.

        :raises OAuthProblem: ``timestamp_refused``, with the acceptable range.
        """
        now = int(self.store.clock())
        oldest, high = int(now - self.tolerance), int(now + self.tolerance)
        floor = self.nonces.floor
        low = oldest if floor is None else max(oldest, floor + 1)
        stamp = ascii_int(text)
        if stamp is None or not low <= stamp <= high:
            raise OAuthProblem("timestamp_refused", acceptable_timestamps=f"{low}-{high}")
        return stamp, oldest

    def _check_signature(
        self,
        req: Incoming,
        oauth: dict[str, str],
        others: list[tuple[str, str]],
        consumer: Consumer,
        token: RequestToken | AccessToken | None,
    ) -> None:
        signed = others + [(k, v) for k, v in oauth.items() if k != "oauth_signature"]
        try:
            uri = signature.base_string_uri(f"{req.scheme}://{req.host}{req.path}")
        except ValueError:
            raise OAuthProblem("signature_invalid", "bad Host header") from None
        # The stubs are narrower than oauthlib itself: any method, a list of pairs.
        params = signature.normalize_parameters(signed)  # type: ignore[arg-type]
        base = signature.signature_base_string(req.method, uri, params)  # type: ignore[arg-type]
        secrets = _Secrets(consumer.secret, token.secret if token else "")
        expected: str = signature.sign_hmac_sha1_with_client(base, secrets)
        if not hmac.compare_digest(expected.encode(), oauth["oauth_signature"].encode()):
            raise OAuthProblem("signature_invalid")

    # -- the two token endpoints ------------------------------------------

    def request_token(self, req: Incoming) -> Outgoing:
        """``/oauth/request_token``: issue a request token for a signed request."""
        try:
            verified = self.verify(req, "none", also_required=("oauth_callback",))
            callback = verified.params["oauth_callback"]
            if not valid_callback(callback):
                raise OAuthProblem(
                    "parameter_rejected", "oauth_callback must be an absolute http(s) URL or oob"
                )
        except OAuthProblem as problem:
            return problem.as_form()
        token = self.store.new_request_token(verified.consumer.key, callback)
        body = urlencode(
            {
                "oauth_token": token.key,
                "oauth_token_secret": token.secret,
                "oauth_callback_confirmed": "true",
            }
        )
        return Outgoing(200, FORM_TYPE, body.encode())

    def access_token(self, req: Incoming) -> Outgoing:
        """``/oauth/access_token``: trade an approved request token, once."""
        try:
            verified = self.verify(req, "request", also_required=("oauth_verifier",))
            token = verified.request_token
            assert token is not None
            with self.store.lock:
                if token.state == "used":
                    raise OAuthProblem("token_rejected", "this request token was already used")
                if token.state != "approved" or token.user_id is None:
                    raise OAuthProblem("permission_denied", f"the user has {token.state} it")
                given = verified.params["oauth_verifier"]
                if not hmac.compare_digest(given.encode(), token.verifier.encode()):
                    raise OAuthProblem("token_rejected", "wrong oauth_verifier")
                self.store.use_request_token(token)
                user_id, scopes = token.user_id, token.scopes
        except OAuthProblem as problem:
            return problem.as_form()
        access = self.store.new_access_token(verified.consumer.key, user_id, scopes)
        body = urlencode({"oauth_token": access.key, "oauth_token_secret": access.secret})
        return Outgoing(200, FORM_TYPE, body.encode())
