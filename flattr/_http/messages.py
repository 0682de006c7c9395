"""The messages that cross the seam: :class:`Request`, :class:`SignedRequest`, :class:`Response`.

The ground floor of :mod:`flattr._http`: plain values that the signers, the
transport, the response readers and the feed reader all share, with no
behaviour beyond reading their own fields.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Final
from urllib.parse import urlsplit

from flattr._redact import Secret

__all__ = [
    "FORM_CONTENT_TYPE",
    "Request",
    "Response",
    "SignedRequest",
    "retry_after",
]

FORM_CONTENT_TYPE: Final = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class Request:
    """One API request before signing.

    :ivar url: absolute URL without query; path segments already percent-encoded.
    :ivar query: query parameters (signed by OAuth 1).
    :ivar form: form fields sent as an ``application/x-www-form-urlencoded`` body
        (signed by OAuth 1).
    :ivar oauth: extra protocol parameters such as ``oauth_callback`` or ``oauth_verifier``.
    :ivar idempotent: whether re-sending it is harmless; ``False`` means never re-sent.
    :ivar body: a body other than a form (JSON, for API v2), with ``content_type``;
        OAuth 1 does not sign it.
    :ivar content_type: the media type of ``body``.
    :ivar headers: further request headers (``Accept``), never credentials.
    :ivar max_bytes: the largest answer accepted for this request, when it differs
        from the transport's ``max_response_bytes`` (a list answer may be large).
    :ivar limit_name: the option that sets ``max_bytes``, named when an answer
        is refused for passing it.
    """

    method: str
    url: str
    query: tuple[tuple[str, str], ...] = ()
    form: tuple[tuple[str, str], ...] | None = None
    oauth: tuple[tuple[str, str | Secret], ...] = field(default=(), repr=False)
    idempotent: bool = True
    body: bytes | None = field(default=None, repr=False)
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    max_bytes: int | None = None
    limit_name: str = "max_response_bytes"

    @property
    def path(self) -> str:
        """The URL path, for messages and logs (never the query)."""
        return urlsplit(self.url).path


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """A request ready for the wire: the URI with its query, headers and body."""

    method: str
    uri: str
    headers: dict[str, str] = field(repr=False)
    body: bytes | None = field(repr=False)


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

    def retry_after(self, now: float) -> float | None:
        """Seconds the server asked to wait (``Retry-After``), or ``None``.

        :param now: the current Unix time, for an HTTP-date value.
        """
        return retry_after(self.headers, now)


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date).

    :param headers: lower-cased response headers.
    :param now: the current Unix time.
    :returns: the wait, never negative; ``None`` when absent or unreadable.
    """
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return float(value) if len(value) < 10 else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)
