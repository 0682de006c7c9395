"""Bodies within the size cap that would cost far more to parse: refused within a memory bound.

Before the parse had budgets, one 8 MiB answer of nested elements cost about
340 MB. Each body here is just under the default 8 MiB cap; the bound is a
small multiple of it (the body itself is held once while it is parsed).
"""

from __future__ import annotations

import socket
import threading
import tracemalloc
from collections.abc import Callable

import pytest

import flattr

from .kit import RawRequest, ScriptedServer, answer, client_for

MiB = 1024 * 1024
BODY = 8 * MiB - 4096
PEAK_BOUND = 3 * BODY

Scripted = Callable[..., ScriptedServer]


def padded(head: bytes, unit: bytes, tail: bytes = b"") -> bytes:
    """``head`` + as many ``unit`` as fit in :data:`BODY` bytes + ``tail``."""
    return head + unit * ((BODY - len(head) - len(tail)) // len(unit)) + tail


BOMBS = {
    # 2.8 million levels of <a>, never closed
    "nested": padded(b"<flattr>", b"<a>"),
    # 2 million empty elements
    "elements": padded(b"<flattr>", b"<a/>", b"</flattr>"),
}


#: What each refusal says (an attribute bomb is one start tag, refused while it is read).
EXPECTED = {"nested": "deeper than", "elements": "more than", "attributes": "a single tag"}


def serve_each_time(body: bytes) -> Callable[[socket.socket, RawRequest, threading.Event], None]:
    raw = answer(200, body)

    def handler(sock: socket.socket, request: RawRequest, stopping: threading.Event) -> None:
        sock.sendall(raw)

    return handler


def attribute_bomb() -> bytes:
    """One element with 700,000 distinct attributes (expat refuses repeated names)."""
    names = b"".join(b" a%d=''" % n for n in range(700_000))
    return b"<flattr><a" + names + b"/></flattr>"


@pytest.mark.parametrize("kind", ["nested", "elements", "attributes"])
@pytest.mark.parametrize("call", ["me", "things", "categories"])
def test_budget_bombs_are_refused_within_a_memory_bound(
    scripted: Scripted, kind: str, call: str
) -> None:
    body = attribute_bomb() if kind == "attributes" else BOMBS[kind]
    assert len(body) <= 8 * MiB
    server = scripted(serve_each_time(body))
    api, waits = client_for(server.base_url)
    tracemalloc.start()
    try:
        with pytest.raises(flattr.ResponseError) as caught:
            getattr(api, call)()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        api.close()
    assert not isinstance(caught.value, flattr.ResponseTooLargeError)
    message = str(caught.value)
    assert "refused the XML response" in message
    assert EXPECTED[kind] in message
    assert peak < PEAK_BOUND, f"peak {peak / MiB:.1f} MiB"
    assert waits == []


def test_an_ordinary_large_answer_is_still_read(scripted: Scripted) -> None:
    """Budgets refuse shapes, not sizes: a 7 MiB user description is fine."""
    text = b"x" * (7 * MiB)
    body = (
        b"<?xml version='1.0' encoding='utf-8'?><flattr><version>0.0.1</version><user>"
        b"<id>7</id><username>big</username><description>" + text + b"</description>"
        b"</user></flattr>"
    )
    server = scripted(serve_each_time(body))
    api, _ = client_for(server.base_url)
    try:
        user = api.me()
    finally:
        api.close()
    assert user.username == "big"
    assert user.description is not None and len(user.description) == 7 * MiB
