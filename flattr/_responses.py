"""Turning a :class:`~flattr._http.Response` into a body or an exception.

Two kinds of answer exist: the OAuth legs answer form-encoded bodies and
report failures as ``oauth_problem=...``; the REST resources answer XML and
report failures by HTTP status (with FakeFlattr's ``<error>`` body when one
is present). Exceptions are picked from a status table, never by an if-chain
scattered over the client.

This is the one place where what to do about an answer is decided: each
exception leaves here with its :class:`~flattr.errors.Advice` and the words
for it (``hint``); the ``flattr`` command only turns the advice into a
command line.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import parse_qsl

from flattr import _xml, _xmlstream
from flattr._http import Request, Response
from flattr.errors import (
    Advice,
    APIError,
    AuthenticationError,
    ForbiddenError,
    NotFoundError,
    OAuthError,
    RateLimitError,
    RegistrationError,
    ResponseError,
    error_for_status,
)

__all__ = ["oauth_fields", "xml_body"]

log = logging.getLogger(__name__)

#: Media types a REST answer may come with. ``text/plain`` is accepted with a
#: warning because old PHP deployments sometimes sent XML that way.
_XML_TYPES = frozenset({"text/xml", "application/xml"})
_LENIENT_TYPES = frozenset({"", "text/plain"})
_PROBLEM_IN_HEADER = re.compile(r'oauth_problem="?([A-Za-z_]+)"?')
#: How much of an error body without ``oauth_problem`` an OAuthError repeats.
MAX_SERVER_TEXT = 200

#: What each OAuth problem means for the caller: the advice and its words.
_PROBLEMS: dict[str, tuple[Advice, str]] = {
    "timestamp_refused": (
        Advice.CHECK_CLOCK,
        "The server refused the request's timestamp: check that this computer's "
        "clock is set correctly (time zone and NTP)",
    ),
    "nonce_used": (
        Advice.TRY_AGAIN,
        "The same nonce was sent twice; retrying with a fresh request is safe",
    ),
    "token_rejected": (
        Advice.AUTHORIZE_AGAIN,
        "The token is unknown, revoked or already used; authorize again",
    ),
    "token_expired": (Advice.AUTHORIZE_AGAIN, "The token has expired; authorize again"),
    "token_revoked": (Advice.AUTHORIZE_AGAIN, "The token was revoked; authorize again"),
    "permission_denied": (
        Advice.AUTHORIZE_AGAIN,
        "The user has not approved this request token (or denied it)",
    ),
    "consumer_key_unknown": (
        Advice.CHECK_CONSUMER,
        "Check the consumer key registered for your application",
    ),
    "consumer_key_rejected": (
        Advice.CHECK_CONSUMER,
        "The consumer key was refused; check the one registered for your application",
    ),
    "consumer_key_refused": (
        Advice.CHECK_CONSUMER,
        "The consumer key was refused; check the one registered for your application",
    ),
    "signature_invalid": (Advice.CHECK_CONSUMER, "Check the consumer secret and token secret"),
    "signature_method_rejected": (
        Advice.CHECK_CONSUMER,
        "The server does not accept HMAC-SHA1 signatures from this consumer",
    ),
    "parameter_absent": (Advice.CHECK_INPUT, "A required OAuth parameter was missing"),
}
_UNNAMED_401: Final = (
    Advice.AUTHORIZE_AGAIN,
    "Check the consumer key and secret; if the access token was revoked, "
    "run the authorization flow again",
)
_SCOPE_IN_MESSAGE = re.compile(r"\b(?:lacks|needs|requires|missing)\b.*?\b([a-z]+) scope\b")


def _where(request: Request) -> str:
    return f"{request.method} {request.path}"


def _unexpected_status(request: Request, response: Response) -> ResponseError:
    location = response.headers.get("location", "")
    detail = f" to {location.split('?', 1)[0]}" if location else ""
    return ResponseError(
        f"{_where(request)}: unexpected {response.status} answer{detail}; "
        "signed requests never follow redirects, so check the base URL",
        status=response.status,
        content_type=response.content_type or None,
        excerpt=_xmlstream.excerpt(response.body),
    )


def _oauth_problem(response: Response) -> str | None:
    header = response.headers.get("www-authenticate", "")
    match = _PROBLEM_IN_HEADER.search(header)
    if match:
        return match.group(1)
    if response.content_type in ("application/x-www-form-urlencoded", "text/plain", ""):
        fields = dict(parse_qsl(response.body.decode("utf-8", "replace")))
        return fields.get("oauth_problem")
    return None


def _forbidden(
    message: str, code: str | None, *, explained: bool
) -> tuple[type[APIError], Advice, str, str | None]:
    """A 403's class, advice, words and missing scope, from the server's code and message.

    The scope is named only when a missing scope can be the cause: when the
    server said so, or when it said nothing at all.
    """
    text = f"{code or ''} {message}".lower()
    if "rate limit" in text or "rate_limit" in text:
        return RateLimitError, Advice.WAIT, "Too many calls; wait before trying again", None
    scope = _SCOPE_IN_MESSAGE.search(text)
    if scope or "scope" in text:
        needed = scope.group(1) if scope else None
        what = f"the {needed} scope" if needed else "the scope this call needs"
        return ForbiddenError, Advice.ADD_SCOPE, f"Authorize again, asking for {what}", needed
    if "own thing" in text or ("owner" in text and "flattr" in text and "inactive" not in text):
        return ForbiddenError, Advice.NOT_ALLOWED, "Nobody can flattr their own thing", None
    if "already flattred" in text or "flattr_once" in text:
        return (
            ForbiddenError,
            Advice.NOT_ALLOWED,
            "A thing can be flattred once; there is nothing to do again",
            None,
        )
    if "inactive" in text:
        return (
            ForbiddenError,
            Advice.NOT_ALLOWED,
            "The user or the thing's owner is inactive on Flattr; no retry will help",
            None,
        )
    if explained:
        return ForbiddenError, Advice.NOT_ALLOWED, "", None
    return (
        ForbiddenError,
        Advice.ADD_SCOPE,
        "Not allowed: the token may lack the scope this call needs, or the thing is "
        "your own, already flattred, or its owner inactive",
        None,
    )


def _server_text(body: bytes) -> str:
    """The start of an error body as one printable line: at most :data:`MAX_SERVER_TEXT` characters.

    Control and format characters (line breaks, ANSI escapes, bidi overrides)
    become spaces, so a hostile server cannot rewrite a terminal or a log line.
    """
    text = body[: 4 * MAX_SERVER_TEXT].decode("utf-8", "replace")
    cleaned = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") else ch for ch in text
    )
    cleaned = " ".join(cleaned.split())
    if len(cleaned) > MAX_SERVER_TEXT:
        cleaned = cleaned[: MAX_SERVER_TEXT - 1] + "…"
    return cleaned


def api_error(request: Request, response: Response, *, registration: bool = False) -> APIError:
    """The exception for an error answer of a REST resource, with its advice decided."""
    status = response.status
    code: str | None = None
    message = http_reason(status)
    error = _xml.parse_error(response.body) if response.body else None
    if error is not None:
        code, message = error[0], error[1] or message
    common: dict[str, Any] = {
        "method": request.method,
        "path": request.path,
        "headers": response.headers,
        "retry_after": response.retry_after(time.time()),
    }
    if status == 401:
        problem = _oauth_problem(response)
        if problem:
            code = problem
        advice, hint = _PROBLEMS.get(code or "", _UNNAMED_401)
        return AuthenticationError(401, message, code=code, hint=hint, advice=advice, **common)
    if status == 403:
        cls, advice, hint, scope = _forbidden(message, code, explained=error is not None)
        if cls is ForbiddenError:
            common["missing_scope"] = scope
        return cls(403, message, code=code, hint=hint, advice=advice, **common)
    if status == 404 and error is None and response.content_type not in _XML_TYPES:
        hint = "This does not look like a Flattr server (no Flattr error body); check the base URL"
        return NotFoundError(
            404, message, code=code, hint=hint, advice=Advice.CHECK_SERVER, **common
        )
    cls, advice, hint = _by_status(status, message, registration=registration)
    return cls(status, message, code=code, hint=hint, advice=advice, **common)


def _by_status(
    status: int, message: str, *, registration: bool
) -> tuple[type[APIError], Advice, str]:
    if registration and status == 500:
        if "already" in message.lower():
            return (
                RegistrationError,
                Advice.ALREADY_REGISTERED,
                "The URL is already registered; fetch the existing thing with "
                "client.thing_by_url(url) instead of registering it again",
            )
        # Flattr answered 500 for every refusal; the fields passed every local
        # check, so a server in trouble is as likely as a field it dislikes.
        return (
            RegistrationError,
            Advice.TRY_AGAIN,
            "The server refused to register it although its fields pass every documented "
            "check; try again later, and if it keeps refusing, check the fields",
        )
    if status == 404:
        return NotFoundError, Advice.CHECK_ID, "Check the id or name"
    cls = error_for_status(status)
    if status >= 500:
        return cls, Advice.TRY_AGAIN, "The server failed; try again later"
    return cls, Advice.CHECK_INPUT, ""


def xml_body(request: Request, response: Response, *, registration: bool = False) -> bytes:
    """The XML body of a successful REST answer.

    :raises APIError: for an error status (the subclass for that status).
    :raises ResponseError: for a redirect, or a body that is not XML.
    """
    status = response.status
    if status >= 400:
        raise api_error(request, response, registration=registration)
    if status != 200:
        raise _unexpected_status(request, response)
    ctype = response.content_type
    if ctype not in _XML_TYPES and not ctype.endswith("+xml"):
        if ctype not in _LENIENT_TYPES:
            raise ResponseError(
                f"{_where(request)}: expected XML but got {ctype!r} "
                "(an HTML page usually means a proxy or the wrong base URL)",
                status=status,
                content_type=ctype,
                excerpt=_xmlstream.excerpt(response.body),
            )
        log.warning("%s answered with Content-Type %r; parsing it as XML", _where(request), ctype)
    return response.body


def oauth_fields(request: Request, response: Response) -> dict[str, str]:
    """The form-encoded fields of a successful OAuth-leg answer.

    :raises OAuthError: for an ``oauth_problem`` or any error status.
    :raises ResponseError: for a body that is not form-encoded token data.
    """
    status = response.status
    if status >= 400:
        named = _oauth_problem(response)
        problem = named or f"http_{status}"
        advice: Advice | None
        if named:
            advice, hint = _PROBLEMS.get(named, (None, ""))
        elif status == 404:
            advice = Advice.CHECK_SERVER
            hint = "There is no OAuth endpoint here: this does not look like a Flattr server"
        else:
            advice, hint = (Advice.TRY_AGAIN, "") if status >= 500 else (None, "")
        text = f"{_where(request)}: {status} oauth_problem={problem}"
        said = "" if named else _server_text(response.body)
        if said:
            # No oauth_problem (oauthlib answers "Invalid nonce format." as plain text):
            # the server's own words are all there is to go on.
            text = f"{text}; the server said: {said}"
        if hint:
            text = f"{text}. {hint}"
        raise OAuthError(problem, text, status=status, advice=advice)
    if status != 200:
        raise _unexpected_status(request, response)
    try:
        text = response.body.decode("utf-8")
        fields = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True))
    except (UnicodeDecodeError, ValueError):
        raise ResponseError(
            f"{_where(request)}: the answer is not form-encoded token data",
            status=status,
            content_type=response.content_type or None,
        ) from None
    if not fields.get("oauth_token") or not fields.get("oauth_token_secret"):
        raise ResponseError(
            f"{_where(request)}: the answer lacks oauth_token or oauth_token_secret",
            status=status,
            content_type=response.content_type or None,
        )
    return fields


def http_reason(status: int) -> str:
    """The standard reason phrase for a status (``"Not Found"``)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "HTTP error"
