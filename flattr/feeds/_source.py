"""Reading a feed for :mod:`flattr.feeds`: from a URL, a path or the text, then feedparser.

Fetching a URL goes through the same seam as the client's own calls
(:mod:`flattr._http`: TLS verified, no proxy, a timeout and a size cap),
with a few redirects followed here (never from https down to http).
feedparser is imported inside :func:`parse`, so ``import flattr`` stays
cheap, and it is only ever given bytes (given a string, it would open URLs
and files itself).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final
from urllib.parse import urljoin, urlsplit, urlunsplit

from flattr import _validate
from flattr._http import Request, Response, Transport, Unsigned
from flattr._responses import http_reason
from flattr.errors import (
    Advice,
    ResponseTooLargeError,
    TLSError,
    TransportError,
    TransportTimeout,
    ValidationError,
)
from flattr.feeds._mapping import entry_title

__all__ = ["LoadedFeed", "ParsedFeed", "load", "parse", "public_url"]

#: Most redirects followed when fetching a feed URL.
MAX_REDIRECTS: Final = 5


# Reading the source


@dataclass(frozen=True, slots=True)
class LoadedFeed:
    """A feed's bytes and where they came from."""

    data: bytes
    label: str
    url: str = ""
    content_type: str | None = None


def public_url(url: str) -> str:
    """``url`` without credentials or query, for messages and reports."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _read_capped(stream: BinaryIO, limit: int, what: str) -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ResponseTooLargeError(
            f"{what}: the feed is larger than {limit} bytes (max_feed_bytes)"
        )
    return data


_ACCEPT: Final = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)


def _fetch(url: str, *, timeout: float, max_bytes: int, ca_certs: str | None) -> LoadedFeed:
    """GET a feed URL through the seam, following a few redirects (never https to http).

    The transport brings TLS verification, the size cap, the failure mapping
    and the retry rules; here only the feed's own concerns remain: redirects,
    refusing an answer compressed without being asked, and the wording.
    """
    transport = Transport(timeout=timeout, ca_certs=ca_certs, max_response_bytes=max_bytes)
    try:
        for _ in range(MAX_REDIRECTS + 1):
            response = _get(transport, url, max_bytes)
            if response.status in _REDIRECTS and response.headers.get("location"):
                url = _redirect_target(url, response.headers["location"])
                continue
            break
        else:
            raise TransportError(
                f"more than {MAX_REDIRECTS} redirects", method="GET", url=public_url(url)
            )
    finally:
        transport.close()
    where = public_url(url)
    if response.status != 200:
        raise TransportError(
            f"the feed server answered {response.status} {http_reason(response.status)}",
            method="GET",
            url=where,
        )
    encoding = response.headers.get("-content-encoding") or response.headers.get(
        "content-encoding", "identity"
    )
    if encoding.strip().lower() != "identity":
        raise TransportError(
            f"the feed came {encoding}-encoded although identity was asked for",
            method="GET",
            url=where,
        )
    return LoadedFeed(
        response.body, where, url=url, content_type=response.headers.get("content-type")
    )


_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})


def _get(transport: Transport, url: str, max_bytes: int) -> Response:
    where = public_url(url)
    request = Request(
        "GET",
        url,
        headers=(("Accept", _ACCEPT), ("Accept-Encoding", "identity")),
        max_bytes=max_bytes,
    )
    try:
        return transport.send(request, Unsigned())
    except ResponseTooLargeError:
        raise ResponseTooLargeError(
            f"GET {where}: the feed is larger than {max_bytes} bytes (max_feed_bytes)"
        ) from None
    except TLSError as exc:
        raise TLSError(
            exc.reason.replace("the server's", "the feed server's"), method="GET", url=where
        ) from exc
    except TransportError as exc:
        reason = exc.reason.replace("; check the base URL and the network", "")
        if isinstance(exc, TransportTimeout):
            raise type(exc)(reason, method="GET", url=where) from exc
        raise TransportError(
            f"could not fetch the feed: {reason}; check the feed's address", method="GET", url=where
        ) from exc


def _redirect_target(url: str, location: str) -> str:
    target = urljoin(url, location.strip())
    old_scheme = urlsplit(url).scheme.lower()
    new_scheme = urlsplit(target).scheme.lower()
    if new_scheme not in ("http", "https") or (old_scheme == "https" and new_scheme == "http"):
        raise TransportError(
            f"refused a redirect from {old_scheme}:// to {new_scheme}://",
            method="GET",
            url=public_url(url),
        )
    return target


def _looks_like_xml(text: str) -> bool:
    return text.lstrip("\ufeff \t\r\n").startswith("<")


def load(source: object, *, timeout: float, max_bytes: int, ca_certs: str | None) -> LoadedFeed:
    """The feed's bytes, from a URL, a path or the text itself."""
    if isinstance(source, bytes | bytearray):
        return LoadedFeed(bytes(source), "feed text")
    if isinstance(source, str):
        stripped = source.strip()
        scheme = urlsplit(stripped).scheme.lower() if "://" in stripped[:12] else ""
        if scheme in ("http", "https"):
            try:
                _validate.thing_url(stripped, "source")
            except ValidationError as exc:
                raise ValidationError("source", exc.message) from None
            try:
                return _fetch(stripped, timeout=timeout, max_bytes=max_bytes, ca_certs=ca_certs)
            except TransportError as exc:
                if not isinstance(exc, TLSError):
                    exc.advice = Advice.CHECK_FEED  # the feed's address, not the API's
                raise
        if scheme:
            raise ValidationError(
                "source", f"only http:// and https:// feed URLs can be fetched, not {scheme}://"
            )
        if _looks_like_xml(source):
            # Already text: tell feedparser it is UTF-8, whatever the declaration says.
            return LoadedFeed(source.encode("utf-8"), "feed text", content_type=_UTF8_XML)
        path = Path(source)
    elif isinstance(source, os.PathLike):
        path = Path(source)
    else:
        raise ValidationError(
            "source", f"must be a URL, a path or feed text, not {type(source).__name__}"
        )
    try:
        with path.open("rb") as stream:
            data = _read_capped(stream, max_bytes, str(path))
    except FileNotFoundError:
        raise ValidationError(
            "source", f"{str(path)[:200]!r} is neither an http(s) URL, an existing file nor XML"
        ) from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise ValidationError("source", f"cannot read {str(path)[:200]!r}: {reason}") from None
    return LoadedFeed(data, str(path))


_UTF8_XML: Final = "application/xml; charset=utf-8"


# Parsing


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What publishing needs of a parsed feed."""

    entries: tuple[Mapping[str, Any], ...]
    title: str
    language: str | None
    base_url: str
    warnings: tuple[str, ...]


def parse(loaded: LoadedFeed) -> ParsedFeed:
    """Parse with feedparser (imported here, so ``import flattr`` stays cheap)."""
    import feedparser

    headers = {"content-type": loaded.content_type} if loaded.content_type else None
    # Bytes only: given a string, feedparser would open URLs and files itself.
    # Its HTML sanitizer and the resolving of links inside HTML are skipped:
    # the mapping keeps only the text (script and style dropped), never markup,
    # and they cost a third of the parsing time.
    parsed = feedparser.parse(
        loaded.data, response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    entries = tuple(parsed.get("entries") or ())
    warnings: list[str] = []
    if parsed.get("bozo"):
        problem = parsed.get("bozo_exception")
        if not entries:
            raise ValidationError(
                "source", f"{loaded.label} is not a readable RSS or Atom feed ({problem})"
            )
        warnings.append(f"the feed is not well-formed; read what could be read ({problem})")
    if not entries and not parsed.get("version"):
        raise ValidationError("source", f"{loaded.label} is not an RSS or Atom feed")
    feed = parsed.get("feed") or {}
    link = feed.get("link")
    base = loaded.url
    if isinstance(link, str) and link.strip():
        base = urljoin(loaded.url, link.strip()) if loaded.url else link.strip()
    title = entry_title({"title": feed.get("title"), "title_detail": feed.get("title_detail")})
    language = feed.get("language")
    return ParsedFeed(
        entries=entries,
        title=title,
        language=language if isinstance(language, str) else None,
        base_url=base if urlsplit(base).scheme in ("http", "https") else loaded.url,
        warnings=tuple(warnings),
    )
