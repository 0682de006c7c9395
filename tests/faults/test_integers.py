"""Integers in answers: plain ASCII digits of a sane length, anything else a ResponseError."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

import pytest

import flattr
from flattr._xml import MAX_INTEGER_DIGITS

from .kit import RawRequest, ScriptedServer, answer, client_for

Scripted = Callable[..., ScriptedServer]


def user_with_id(value: str) -> bytes:
    return f"<flattr><user><id>{value}</id><username>x</username></user></flattr>".encode()


def thing_with_clicks(value: str) -> bytes:
    return (
        "<flattr><thing><id>0123456789abcdef0123456789abcdef</id><int_id>7</int_id>"
        "<created>1288339264</created><status>owner</status><title>Hello Flattr</title>"
        "<url>http://example.org/</url><story>Story</story>"
        "<user><id>1</id><username>alice</username></user>"
        f"<clicks>{value}</clicks><category><id>text</id><name>Text</name></category>"
        "<language><id>en_GB</id><name>English</name></language>"
        "<tags/></thing></flattr>"
    ).encode()


def serve(scripted: Scripted, body: bytes) -> flattr.FlattrClient:
    def handler(sock: socket.socket, request: RawRequest, stopping: threading.Event) -> None:
        sock.sendall(answer(200, body))

    server = scripted(handler)
    api, _ = client_for(server.base_url)
    return api


BAD = {
    "underscore": "1_000",
    "plus": "+5",
    "minus": "-5",
    "arabic-indic": "\u0661\u0662\u0663",
    "full-width": "\uff11\uff12\uff13",
    "superscript": "\u00b2",
    "thousands-of-digits": "9" * 5000,
    "one-too-many": "1" * (MAX_INTEGER_DIGITS + 1),
    "inner-space": "1 000",
}


@pytest.mark.parametrize("value", BAD.values(), ids=BAD.keys())
def test_an_id_that_is_not_plain_ascii_digits_is_refused(scripted: Scripted, value: str) -> None:
    api = serve(scripted, user_with_id(value))
    with pytest.raises(flattr.ResponseError, match="<id> should be a whole number") as caught:
        api.me()
    assert type(caught.value) is flattr.ResponseError
    assert len(str(caught.value)) < 300  # never the whole value


@pytest.mark.parametrize("value", ["1_000", "\uff11", "+1", "9" * 5000], ids=str.__len__)
def test_a_count_that_is_not_plain_ascii_digits_is_refused(scripted: Scripted, value: str) -> None:
    api = serve(scripted, thing_with_clicks(value))
    with pytest.raises(flattr.ResponseError, match="<clicks> should be a whole number"):
        api.thing(7)


def test_the_longest_accepted_id_and_padding(scripted: Scripted) -> None:
    longest = "9" * MAX_INTEGER_DIGITS
    api = serve(scripted, user_with_id(f"\n    {longest}\n  "))
    assert api.me().id == int(longest)
    assert serve(scripted, thing_with_clicks("0042")).thing(7).clicks == 42
