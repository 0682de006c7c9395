"""Reading an HTTP/1.1 request head, and writing an answer's head.

The head is parsed once it has arrived whole (the connection loop buffers
it), so a parse here never waits on a socket. Header bytes are Latin-1, as
:mod:`http.client` and :mod:`http.server` read them.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus

from ._limits import MAX_HEADERS

__all__ = ["BadHead", "Head", "answer_head", "header_fields", "parse_head"]

_VERSION = re.compile(r"HTTP/(\d+)\.(\d+)")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
SERVER = "FakeFlattr/0.1"


class BadHead(Exception):
    """The head cannot be served; ``status`` is the answer to give before closing."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class Head:
    """A parsed request head.

    :param fields: the header block as received (no request line, no final blank line).
    :param headers: header names as sent, with their values (last one wins).
    :param keep_alive: whether the client allows another request on the connection.
    """

    method: str
    target: str
    version: str
    fields: bytes = field(repr=False)
    headers: dict[str, str] = field(repr=False)
    keep_alive: bool


def header_fields(block: bytes) -> list[tuple[str, str]]:
    """The ``(name, value)`` pairs of a header block.

    :param block: CRLF-separated ``Name: value`` lines.
    :raises BadHead: 400 for a line that is not a header field (or obs-fold), 431 for too many.
    """
    pairs: list[tuple[str, str]] = []
    if not block:
        return pairs
    for line in block.split(b"\r\n"):
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name.decode("latin-1")):
            raise BadHead(400, "malformed header line")
        pairs.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
    if len(pairs) > MAX_HEADERS:
        raise BadHead(431, f"at most {MAX_HEADERS} header fields")
    return pairs


def parse_head(raw: bytes) -> Head:
    """Parse a request line and headers (without the blank line that ends them).

    :raises BadHead: for anything :mod:`http.server` would refuse too.
    """
    line, _, block = raw.partition(b"\r\n")
    words = line.decode("latin-1").split()
    if len(words) != 3:
        raise BadHead(400, "bad request line")
    method, target, version = words
    match = _VERSION.fullmatch(version)
    if match is None or not _TOKEN.fullmatch(method):
        raise BadHead(400, "bad request line")
    if match.group(1) != "1":
        raise BadHead(505, "only HTTP/1.0 and HTTP/1.1")
    pairs = header_fields(block)
    headers = dict(pairs)
    connection = next((v for k, v in pairs[::-1] if k.lower() == "connection"), "").lower()
    keep_alive = connection == "keep-alive" if version == "HTTP/1.0" else connection != "close"
    return Head(method, target, version, block, headers, keep_alive)


_date_cache: list[object] = [0, ""]


def _http_date() -> str:
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache[:] = [now, formatdate(now, usegmt=True)]
    return str(_date_cache[1])


def _header_value(value: str) -> bytes:
    # Never let a value end the header (CR, LF) or fail to encode.
    clean = value.replace("\r", " ").replace("\n", " ")
    try:
        return clean.encode("latin-1")
    except UnicodeEncodeError:
        return clean.encode("utf-8")


def answer_head(
    status: int,
    headers: list[tuple[str, str]],
    *,
    content_type: str,
    length: int,
    close: bool,
) -> bytes:
    """The status line and headers of an answer, ready to send.

    :param length: the ``Content-Length`` (every answer has one, so connections stay usable).
    :param close: add ``Connection: close``.
    """
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [
        f"HTTP/1.1 {status} {reason}".encode("latin-1"),
        f"Server: {SERVER}".encode("latin-1"),
        f"Date: {_http_date()}".encode("latin-1"),
    ]
    for name, value in headers:
        lines.append(name.encode("latin-1") + b": " + _header_value(value))
    lines.append(b"Content-Type: " + _header_value(content_type))
    lines.append(b"Content-Length: " + str(length).encode())
    if close:
        lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n"
