"""API v2 answers to values or exceptions: status plus JSON error body.

v2 reports errors as ``{"error": code, "error_description": text}`` with a
status; a few answers (lookup's 404) use ``{"message", "description"}``
instead, and some 404s and 5xx come with no body at all. The exception class
comes from the status (:func:`flattr.errors.error_for_status`), except that
``rate_limit_exceeded`` (a 403) is a :class:`~flattr.errors.RateLimitError`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flattr._http import Request, Response
from flattr.errors import APIError, RateLimitError, ResponseError, error_for_status
from flattr.v2 import _json

__all__ = ["api_error", "error_fields", "json_body", "where"]

_JSON_TYPES = frozenset({"application/json", "application/stream+json", "text/json"})

#: What to try after a 401 or 403, by the server's code; ``""`` means the
#: server's own description says it all.
_HINTS: Mapping[str, str] = {
    "unauthorized": "The access token was not accepted: authorize again",
    "invalid_token": "The access token was not accepted: authorize again",
    "no_means": "The account has no means to flattr with this month",
    "no_money": "The account has no means to flattr with this month",
    "insufficient_scope": "Authorize again, asking for the scope this call needs",
    "invalid_scope": "Authorize again with v2 scope names (flattr, thing, email, extendedread)",
    "rate_limit_exceeded": "Too many calls this hour; wait for the reset",
}


_NO_CODE_403 = (
    "Not allowed: the token may lack the scope this call needs, or the thing is "
    "your own or already flattred"
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


def api_error(request: Request, response: Response) -> APIError:
    """The exception for an error answer (status 400 or above)."""
    status = response.status
    code, description = error_fields(response)
    message = description or code or _reason(status)
    cls: type[APIError] = error_for_status(status)
    options: dict[str, Any] = {
        "code": code,
        "method": request.method,
        "path": request.path,
        "retry_after": response.retry_after(time.time()),
    }
    if status in (401, 403):
        # The 0.0.1 hints talk about consumer keys and signatures; v2's own
        # code says more (a 401 can be "no means", a 403 a business rule).
        if code:
            options["hint"] = _HINTS.get(code, "")
        else:
            options["hint"] = _HINTS["unauthorized"] if status == 401 else _NO_CODE_403
    if code == "rate_limit_exceeded":
        return RateLimitError(status, message, reset=_reset(response), **options)
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
