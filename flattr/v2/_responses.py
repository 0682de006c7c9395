"""API v2 answers to values or exceptions: status plus JSON error body.

v2 reports errors as ``{"error": code, "error_description": text}`` with a
status; a few answers (lookup's 404) use ``{"message", "description"}``
instead, and some 404s and 5xx come with no body at all. The exception class
comes from the status (:func:`flattr.errors.error_for_status`), except that
``rate_limit_exceeded`` (a 403) is a :class:`~flattr.errors.RateLimitError`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Final

from flattr._http import Request, Response
from flattr.errors import (
    Advice,
    APIError,
    ForbiddenError,
    RateLimitError,
    ResponseError,
    error_for_status,
)
from flattr.v2 import _json

__all__ = ["api_error", "error_fields", "json_body", "where"]

_JSON_TYPES = frozenset({"application/json", "application/stream+json", "text/json"})

#: What each v2 error code means for the caller: the advice and its words
#: (``""``: the server's own description says it all).
_CODES: Mapping[str, tuple[Advice, str]] = {
    "unauthorized": (Advice.AUTHORIZE_AGAIN, "The access token was not accepted: authorize again"),
    "invalid_token": (Advice.AUTHORIZE_AGAIN, "The access token was not accepted: authorize again"),
    "no_means": (Advice.NOT_ALLOWED, "The account has no means to flattr with"),
    "no_money": (Advice.NOT_ALLOWED, "The account has no means to flattr with"),
    "insufficient_scope": (
        Advice.ADD_SCOPE,
        "Authorize again, asking for the scope this call needs",
    ),
    "invalid_scope": (
        Advice.ADD_SCOPE,
        "Authorize again with v2 scope names (flattr, thing, email, extendedread)",
    ),
    "rate_limit_exceeded": (Advice.WAIT, "Too many calls this hour; wait for the reset"),
    "flattr_once": (Advice.NOT_ALLOWED, "A thing can be flattred once a month"),
    "flattr_owner": (Advice.NOT_ALLOWED, "Nobody can flattr their own thing"),
    "thing_owner": (Advice.NOT_ALLOWED, "Nobody can subscribe to their own thing"),
    "subscribed": (Advice.NOT_ALLOWED, "The subscription exists already"),
    "forbidden": (
        Advice.NOT_ALLOWED,
        "Only the thing's owner can change or delete it (with the thing scope)",
    ),
    "not_found": (Advice.CHECK_ID, "Check the id or name"),
    "user_not_found": (Advice.CHECK_ID, "Check the id or name"),
    "validation": (Advice.CHECK_INPUT, ""),
    "invalid_parameters": (Advice.CHECK_INPUT, ""),
    "invalid_request": (Advice.CHECK_INPUT, ""),
    "bad_request": (Advice.CHECK_INPUT, ""),
    "not_acceptable": (Advice.CHECK_SERVER, "The server refused the JSON format"),
    "server_error": (Advice.TRY_AGAIN, "The server failed; try again later"),
}
_NO_CODE_401: Final = _CODES["unauthorized"]
_NO_CODE_403: Final = (
    Advice.ADD_SCOPE,
    "Not allowed: the token may lack the scope this call needs, or the thing is "
    "your own or already flattred",
)
_SCOPE_NAMED: Final = re.compile(
    r"\b(flattr|thing|email|extendedread)\b.{0,10}\bscope\b|"
    r"\bscope\b.{0,10}\b(flattr|thing|email|extendedread)\b"
)


def where(request: Request) -> str:
    """``METHOD /path`` of a request, for messages (never the query)."""
    return f"{request.method} {request.path}"


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "HTTP error"


def error_fields(response: Response) -> tuple[str | None, str | None]:
    """``(code, description)`` of an error body, ``(None, None)`` when it has neither.

    Reads the usual ``error``/``error_description`` pair and lookup's
    ``message``/``description``; anything that is not a small JSON object
    counts as "no body".
    """
    if not response.body or response.content_type not in (*_JSON_TYPES, ""):
        return None, None
    try:
        data = _json.loads(response.body, what="error body")
    except ResponseError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    code = data.get("error")
    text = data.get("error_description")
    if code is None and text is None:
        code, text = data.get("message"), data.get("description")
    return (
        code if isinstance(code, str) and code else None,
        text if isinstance(text, str) and text else None,
    )


def _reset(response: Response) -> float | None:
    value = response.headers.get("x-ratelimit-reset", "").strip()
    if value.isascii() and value.isdigit() and len(value) < 12:
        return float(value)
    return None


def _advice(status: int, code: str | None) -> tuple[Advice, str]:
    known = _CODES.get(code or "")
    if known is not None:
        return known
    if status == 401:
        return _NO_CODE_401
    if status == 403:
        return _NO_CODE_403 if code is None else (Advice.NOT_ALLOWED, "")
    if status == 404:
        return _CODES["not_found"]
    if status >= 500:
        return _CODES["server_error"]
    return Advice.CHECK_INPUT, ""


def api_error(request: Request, response: Response) -> APIError:
    """The exception for an error answer (status 400 or above), with its advice decided."""
    status = response.status
    code, description = error_fields(response)
    message = description or code or _reason(status)
    advice, hint = _advice(status, code)
    options: dict[str, Any] = {
        "code": code,
        "method": request.method,
        "path": request.path,
        "hint": hint,
        "advice": advice,
        "headers": response.headers,
        "retry_after": response.retry_after(time.time()),
    }
    if code == "rate_limit_exceeded":
        return RateLimitError(status, message, reset=_reset(response), **options)
    cls = error_for_status(status)
    if cls is ForbiddenError:
        named = _SCOPE_NAMED.search(message.lower()) if advice is Advice.ADD_SCOPE else None
        options["missing_scope"] = (named.group(1) or named.group(2)) if named else None
    return cls(status, message, **options)


def json_body(request: Request, response: Response, *, ok: tuple[int, ...] = (200,)) -> Any:
    """The parsed JSON of a successful answer.

    :param request: what was sent (for messages).
    :param response: what came back.
    :param ok: the statuses that mean success.
    :returns: the decoded JSON value.
    :raises APIError: for an error status (the subclass for that status).
    :raises ResponseError: for another status, or a body that is not JSON.
    """
    status = response.status
    if status >= 400:
        raise api_error(request, response)
    if status not in ok:
        raise ResponseError(
            f"{where(request)}: unexpected {status} answer",
            status=status,
            content_type=response.content_type or None,
            excerpt=_json.excerpt(response.body),
        )
    ctype = response.content_type
    if ctype not in _JSON_TYPES and not ctype.endswith("+json"):
        raise ResponseError(
            f"{where(request)}: expected JSON but got {ctype or 'no content type'!r} "
            "(an HTML page usually means a proxy or the wrong base URL)",
            status=status,
            content_type=ctype or None,
            excerpt=_json.excerpt(response.body),
        )
    return _json.loads(response.body, what=where(request), status=status)
