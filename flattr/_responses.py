"""Turning a :class:`~flattr._http.Response` into a body or an exception.

Two kinds of answer exist: the OAuth legs answer form-encoded bodies and
report failures as ``oauth_problem=...``; the REST resources answer XML and
report failures by HTTP status (with FakeFlattr's ``<error>`` body when one
is present). Exceptions are picked from a status table, never by an if-chain
scattered over the client.
"""

from __future__ import annotations

import logging
import re
import time
from http import HTTPStatus
from urllib.parse import parse_qsl

from flattr import _xml
from flattr._http import Request, Response
from flattr.errors import (
    APIError,
    AuthenticationError,
    OAuthError,
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

_CLOCK_HINT = (
    "The server refused the request's timestamp: check that this computer's "
    "clock is set correctly (time zone and NTP)"
)
_PROBLEM_ADVICE = {
    "timestamp_refused": _CLOCK_HINT,
    "nonce_used": "The same nonce was sent twice; retrying with a fresh request is safe",
    "token_rejected": "The token is unknown, revoked or already used; authorize again",
    "token_expired": "The token has expired; authorize again",
    "permission_denied": "The user has not approved this request token (or denied it)",
    "consumer_key_unknown": "Check the consumer key registered for your application",
    "signature_invalid": "Check the consumer secret and token secret",
    "parameter_absent": "A required OAuth parameter was missing",
}


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
        excerpt=_xml.excerpt(response.body),
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


def api_error(request: Request, response: Response, *, registration: bool = False) -> APIError:
    """The exception for an error answer of a REST resource."""
    code: str | None = None
    message = http_reason(response.status)
    error = _xml.parse_error(response.body) if response.body else None
    if error is not None:
        code, message = error[0], error[1] or message
    if response.status == 401:
        problem = _oauth_problem(response)
        if problem:
            code = problem
        return AuthenticationError(
            401,
            message,
            code=code,
            method=request.method,
            path=request.path,
            hint=_PROBLEM_ADVICE.get(code or ""),
        )
    if registration and response.status == 500:
        cls: type[APIError] = RegistrationError
    else:
        cls = error_for_status(response.status)
    return cls(
        response.status,
        message,
        code=code,
        method=request.method,
        path=request.path,
        retry_after=response.retry_after(time.time()),
        hint=_forbidden_hint(message, explained=error is not None)
        if response.status == 403
        else None,
    )


def _forbidden_hint(message: str, *, explained: bool) -> str:
    """What to try after a 403: only name the scope when it can be the cause."""
    if "scope" in message.lower():
        return "Authorize again, asking for the scope this call needs"
    if explained:
        return ""  # the server said why (own thing, repeat flattr, inactive user)
    return (
        "Not allowed: the token may lack the scope this call needs, or the thing is "
        "your own, already flattred, or its owner inactive"
    )


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
                excerpt=_xml.excerpt(response.body),
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
        problem = _oauth_problem(response) or f"http_{status}"
        advice = _PROBLEM_ADVICE.get(problem, "")
        text = f"{_where(request)}: {status} oauth_problem={problem}"
        if advice:
            text = f"{text}. {advice}"
        raise OAuthError(problem, text, status=status)
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
