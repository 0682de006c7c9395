"""Reading a feed for :mod:`flattr.feeds`: from a URL, a path or the text, then feedparser.

Fetching a URL is the only network access here besides the client's own
calls: TLS verified, no proxy, a few redirects (never from https down to
http), a timeout and a size cap. feedparser is imported inside :func:`parse`,
so ``import flattr`` stays cheap, and it is only ever given bytes (given a
string, it would open URLs and files itself).
"""

from __future__ import annotations

import http.client
import os
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urljoin, urlsplit, urlunsplit

from flattr import _validate
from flattr._feedmap import entry_title
from flattr._version import USER_AGENT
from flattr.errors import ResponseTooLargeError, TLSError, TransportError, ValidationError

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


class _SafeRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a few redirects, to http(s) only, never from https down to http."""

    max_redirections = MAX_REDIRECTS

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        old_scheme = urlsplit(req.full_url).scheme.lower()
        new_scheme = urlsplit(newurl).scheme.lower()
        if new_scheme not in ("http", "https") or (old_scheme == "https" and new_scheme == "http"):
            raise TransportError(
                f"refused a redirect from {old_scheme}:// to {new_scheme}://",
                method="GET",
                url=public_url(req.full_url),
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _read_capped(stream: Any, limit: int, what: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = stream.read(min(65536, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise ResponseTooLargeError(
                f"{what}: the feed is larger than {limit} bytes (max_feed_bytes)"
            )


def _fetch(url: str, *, timeout: float, max_bytes: int, ca_certs: str | None) -> LoadedFeed:
    """GET a feed URL: TLS verified, no proxy, few redirects, a timeout and a size cap.

    This is the only place :mod:`flattr.feeds` touches the network besides
    the client's own calls.
    """
    where = public_url(url)
    context = ssl.create_default_context(cafile=ca_certs)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        urllib.request.HTTPSHandler(context=context),
        _SafeRedirects(),
    )
    request = urllib.request.Request(
        url,
        headers={
            "User-Agent": USER_AGENT,
            "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
            "text/xml;q=0.9, */*;q=0.1",
            "Accept-Encoding": "identity",
        },
    )
    try:
        with opener.open(request, timeout=timeout) as response:
            encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
            if encoding != "identity":
                raise TransportError(
                    f"the feed came {encoding}-encoded although identity was asked for",
                    method="GET",
                    url=where,
                )
            length = response.headers.get("Content-Length")
            if length and length.strip().isdigit() and int(length) > max_bytes:
                raise ResponseTooLargeError(
                    f"GET {where}: the feed is larger than {max_bytes} bytes (max_feed_bytes)"
                )
            data = _read_capped(response, max_bytes, f"GET {where}")
            final_url = response.geturl() or url
            content_type = response.headers.get("Content-Type")
    except urllib.error.HTTPError as exc:
        exc.close()
        raise TransportError(
            f"the feed server answered {exc.code} {exc.reason}", method="GET", url=where
        ) from None
    except urllib.error.URLError as exc:
        raise _fetch_error(exc.reason, where, timeout) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise _fetch_error(exc, where, timeout) from exc
    return LoadedFeed(data, where, url=final_url, content_type=content_type)


def _fetch_error(cause: object, where: str, timeout: float) -> TransportError:
    if isinstance(cause, ssl.SSLCertVerificationError):
        return TLSError(
            f"the feed server's TLS certificate is not trusted ({cause.verify_message}); "
            "pass ca_certs= with the CA bundle that signed it",
            method="GET",
            url=where,
        )
    if isinstance(cause, ssl.SSLError):
        return TLSError(f"TLS handshake failed ({cause})", method="GET", url=where)
    if isinstance(cause, TimeoutError):
        return TransportError(f"timed out after {timeout:g}s", method="GET", url=where)
    return TransportError(f"could not fetch the feed ({cause})", method="GET", url=where)


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
            return _fetch(stripped, timeout=timeout, max_bytes=max_bytes, ca_certs=ca_certs)
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
