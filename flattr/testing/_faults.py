"""Fault injection: which request misbehaves, and the broken bodies it gets.

A :class:`FaultBook` holds the armed faults; the HTTP layer asks it, for each
request, whether one fires (:meth:`FaultBook.take`). The bodies for the
"bad content" kinds are built here too.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, get_args

from flattr._catalog import API_VERSION

from ._wire import HTML_TYPE, XML_TYPE, Outgoing
from ._xmlout import error_document

FaultKind = Literal[
    "status",
    "stall",
    "drop_before_read",
    "drop_after_read",
    "drop_after_processing",
    "truncate",
    "oversize",
    "html",
    "malformed_xml",
    "xml_bomb",
    "external_entity",
    "invalid_utf8",
    "wrong_content_type",
    "redirect",
]
#: Every fault kind :meth:`flattr.testing.FakeFlattr.inject_fault` knows.
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)

#: Kinds whose answer replaces the real one (the request is not processed).
REPLACING = frozenset(
    {
        "status",
        "oversize",
        "html",
        "malformed_xml",
        "xml_bomb",
        "external_entity",
        "invalid_utf8",
        "redirect",
    }
)
#: Default ``status`` per kind when the caller gives none.
DEFAULT_STATUS = {"status": 503, "html": 200, "redirect": 302}
#: Default ``size`` of an ``oversize`` answer: just over the 8 MiB cap the notes suggest.
DEFAULT_OVERSIZE = 9 * 1024 * 1024


@dataclass(slots=True)
class Fault:
    """One armed fault; see :meth:`flattr.testing.FakeFlattr.inject_fault`."""

    path_prefix: str
    kind: str
    times: int
    every: int | None
    status: int
    retry_after: str | None
    seconds: float
    size: int
    seen: int = 0


class FaultBook:
    """The armed faults of one server, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def arm(self, fault: Fault) -> None:
        """Add ``fault``; earlier faults win when several match a request."""
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}; use one of {FAULT_KINDS}")
        if fault.every is not None and fault.every < 1:
            raise ValueError("every must be 1 or more")
        if fault.every is None and fault.times < 1:
            raise ValueError("times must be 1 or more")
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._faults.clear()

    def take(self, path: str) -> Fault | None:
        """The fault that fires for a request to ``path``, if any (counts it)."""
        with self._lock:
            for fault in self._faults:
                if not path.startswith(fault.path_prefix):
                    continue
                fault.seen += 1
                if fault.every is not None:
                    if fault.seen % fault.every == 0:
                        return fault
                    continue
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
                return fault
        return None


_BOMB = (
    '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE flattr [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n<flattr><version>&lol9;</version></flattr>\n"
)
_EXTERNAL = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<!DOCTYPE flattr [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n'
    f"<flattr><version>{API_VERSION}</version><user><id>1</id><username>&xxe;</username>"
    "</user></flattr>\n"
)
_HTML_502 = (
    "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    "<body><h1>Bad Gateway</h1>\n"
    "<p>The proxy server received an invalid response.</p></body></html>\n"
)


def replacement(fault: Fault, target: str, origin: str) -> Outgoing:
    """The broken answer a replacing fault sends instead of the real one.

    :param fault: a fault whose kind is in :data:`REPLACING` (not ``oversize``,
        which the HTTP layer streams).
    :param target: the request's path and query, for ``redirect``.
    :param origin: the server's base URL, for ``redirect``.
    """
    kind = fault.kind
    if kind == "status":
        headers = [("Retry-After", fault.retry_after)] if fault.retry_after is not None else []
        return Outgoing(
            fault.status, XML_TYPE, error_document(fault.status, "injected fault"), headers
        )
    if kind == "html":
        return Outgoing(fault.status, HTML_TYPE, _HTML_502.encode())
    if kind == "malformed_xml":
        return Outgoing(
            200, XML_TYPE, b'<?xml version="1.0" encoding="utf-8"?>\n<flattr><user><id>1</id>'
        )
    if kind == "xml_bomb":
        return Outgoing(200, XML_TYPE, _BOMB.encode())
    if kind == "external_entity":
        return Outgoing(200, XML_TYPE, _EXTERNAL.encode())
    if kind == "invalid_utf8":
        body = (
            b'<?xml version="1.0" encoding="utf-8"?>\n<flattr><version>0.0.1</version>'
            b"<user><id>1</id><username>bad\xff\xfe\xc3(</username></user></flattr>\n"
        )
        return Outgoing(200, XML_TYPE, body)
    if kind == "redirect":
        location = f"{origin}/redirected{target}"
        return Outgoing(fault.status, HTML_TYPE, b"", [("Location", location)])
    raise ValueError(f"{kind} does not replace the answer")


def oversize_body(size: int, chunk: int = 64 * 1024) -> Iterator[bytes]:
    """A valid-looking XML document of exactly ``size`` bytes, in pieces.

    The padding is whitespace inside ``<flattr>``, so the document stays
    well-formed however big it is; it is generated lazily.

    :param size: total bytes (at least the head and tail, about 80 bytes).
    """
    head = f'<?xml version="1.0" encoding="utf-8"?>\n\n<flattr>\n<version>{API_VERSION}</version>\n'
    tail = b"</flattr>\n"
    yield head.encode()
    left = size - len(head) - len(tail)
    block = b" " * (chunk - 1) + b"\n"
    while left > 0:
        piece = block[:left]
        left -= len(piece)
        yield piece
    yield tail
