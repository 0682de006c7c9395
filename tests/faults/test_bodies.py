"""Hostile and broken answers: each becomes one exact FlattrError, never a parsed object.

FakeFlattr's fault knobs produce most of them over real HTTP; the scripted
socket server produces what an HTTP server library would not send (chunked
floods, gzip bombs, garbage status lines, resets mid-body).
"""

from __future__ import annotations

import gzip
import logging
import socket
import threading
import time
from collections.abc import Callable

import pytest

import flattr
from flattr.testing import FakeFlattr

from .kit import (
    USER_XML,
    RawRequest,
    Rig,
    RigFactory,
    ScriptedServer,
    answer,
    client_for,
    reset,
)

ME = "/rest/0.0.1/user/me"
REGISTER = "/rest/0.0.1/thing/register"
MiB = 1024 * 1024

Scripted = Callable[..., ScriptedServer]
Handler = Callable[[socket.socket, RawRequest, threading.Event], None]


def register(client: flattr.FlattrClient) -> flattr.Thing:
    return client.register_thing(
        url="http://blog.example.org/2010/10/hello",
        title="Hello Flattr",
        category="text",
        description="My first post.",
        language="en_GB",
    )


def sends(raw: bytes) -> Handler:
    def handler(sock: socket.socket, request: RawRequest, stopping: threading.Event) -> None:
        sock.sendall(raw)

    return handler


# -- FakeFlattr's bad bodies -----------------------------------------------------------


def test_html_error_page_with_200(rig: Rig) -> None:
    """T11: a proxy's HTML page is not data."""
    rig.fake.inject_fault(ME, "html")
    with pytest.raises(flattr.ResponseError) as caught:
        rig.client.me()
    error = caught.value
    assert type(error) is flattr.ResponseError
    assert error.status == 200
    assert error.content_type == "text/html"
    assert "Bad Gateway" in error.excerpt
    assert "text/html" in str(error)
    assert len(rig.fake.requests_to(ME)) == 1


def test_html_502_page_is_retried_then_reported_as_server_error(rig: Rig) -> None:
    rig.fake.inject_fault(ME, "html", status=502, every=1)
    with pytest.raises(flattr.ServerError) as caught:
        rig.client.me()
    assert type(caught.value) is flattr.ServerError
    assert caught.value.status == 502
    assert caught.value.message == "Bad Gateway"
    assert len(rig.fake.requests_to(ME)) == 3


def test_truncated_xml_body(rig: Rig) -> None:
    """T10: well-formed up to a point, then nothing."""
    rig.fake.inject_fault(ME, "malformed_xml")
    with pytest.raises(flattr.ResponseError) as caught:
        rig.client.me()
    error = caught.value
    assert type(error) is flattr.ResponseError
    assert "not well-formed" in str(error)
    assert 0 < len(error.excerpt) <= 200
    assert len(rig.fake.requests_to(ME)) == 1


def test_body_cut_short_of_its_content_length_is_retried(rig: Rig) -> None:
    """T2: half the body, then the connection closes: never parsed, a read is retried."""
    rig.fake.inject_fault(ME, "truncate")
    assert rig.client.me().username == "alice"
    assert len(rig.fake.requests_to(ME)) == 2
    assert len(rig.waits) == 1


def test_body_always_cut_short_is_a_transport_error(rig: Rig) -> None:
    rig.fake.inject_fault(ME, "truncate", every=1)
    with pytest.raises(flattr.TransportError) as caught:
        rig.client.me()
    assert type(caught.value) is flattr.TransportError
    assert len(rig.fake.requests_to(ME)) == 3


def test_billion_laughs(rig: Rig) -> None:
    """T16: an entity bomb is refused before any expansion."""
    rig.fake.inject_fault(ME, "xml_bomb")
    started = time.monotonic()
    with pytest.raises(flattr.ResponseError) as caught:
        rig.client.me()
    assert type(caught.value) is flattr.ResponseError
    assert "unsafe" in str(caught.value)
    assert time.monotonic() - started < 1.0


def test_external_entity(rig: Rig) -> None:
    """T16: a file:// entity is refused, and nothing of the file shows up."""
    rig.fake.inject_fault(ME, "external_entity")
    with pytest.raises(flattr.ResponseError) as caught:
        rig.client.me()
    assert type(caught.value) is flattr.ResponseError
    assert "root:" not in str(caught.value)


def test_invalid_utf8(rig: Rig) -> None:
    """T15: a declared-UTF-8 body with bad bytes."""
    rig.fake.inject_fault(ME, "invalid_utf8")
    with pytest.raises(flattr.ResponseError) as caught:
        rig.client.me()
    assert type(caught.value) is flattr.ResponseError
    assert not isinstance(caught.value, UnicodeError)


def test_text_plain_xml_is_accepted_with_a_warning(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """T12, pinned: XML served as text/plain is parsed (old PHP hosts did that), with a warning."""
    rig.fake.inject_fault(ME, "wrong_content_type")
    with caplog.at_level(logging.WARNING, logger="flattr"):
        assert rig.client.me().username == "alice"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "text/plain" in warnings[0].getMessage()
    assert "/rest/0.0.1/user/me" in warnings[0].getMessage()


def test_oversize_body_refused_from_its_content_length(rig: Rig) -> None:
    """T13: a 9 MiB answer against the default 8 MiB cap; refused, not retried."""
    rig.fake.inject_fault(ME, "oversize")
    started = time.monotonic()
    with pytest.raises(flattr.ResponseTooLargeError) as caught:
        rig.client.me()
    assert "8388608" in str(caught.value)
    assert time.monotonic() - started < 2.0
    assert len(rig.fake.requests_to(ME)) == 1
    # the connection was dropped mid-body; the next call opens a new one and works
    assert rig.client.me().username == "alice"


def test_small_cap_refuses_an_ordinary_answer(make_rig: RigFactory) -> None:
    rig = make_rig(max_response_bytes=1000)
    rig.fake.inject_fault(ME, "oversize", size=1001)
    with pytest.raises(flattr.ResponseTooLargeError):
        rig.client.me()
    rig.fake.inject_fault(ME, "oversize", size=1000)
    with pytest.raises(flattr.ResponseError) as caught:
        rig.client.me()  # exactly at the cap: read, then refused for lacking <user>
    assert type(caught.value) is flattr.ResponseError


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_never_followed(rig: Rig, status: int) -> None:
    """T24 on a GET."""
    rig.fake.inject_fault(ME, "redirect", status=status)
    with pytest.raises(flattr.ResponseError) as caught:
        rig.client.me()
    assert type(caught.value) is flattr.ResponseError
    assert caught.value.status == status
    assert rig.fake.requests_to("/redirected") == []


@pytest.mark.parametrize("status", [303, 307, 308])
def test_redirected_register_is_not_re_posted(rig: Rig, status: int) -> None:
    """T24 on the POST: 308 would make httplib2 re-POST the body elsewhere."""
    rig.fake.inject_fault(REGISTER, "redirect", status=status)
    with pytest.raises(flattr.ResponseError) as caught:
        register(rig.client)
    assert caught.value.status == status
    assert rig.fake.requests_to("/redirected") == []
    assert len(rig.fake.requests_to(REGISTER, "POST")) == 1
    assert rig.fake.things == ()


def test_401_is_not_retried(fake: FakeFlattr) -> None:
    """T19: a wrong secret is an AuthenticationError at once."""
    waits: list[float] = []
    token = fake.issue_access_token()
    api = flattr.FlattrClient(
        fake.consumer.key,
        "not-the-secret",
        token,
        base_url=fake.base_url,
        transport=flattr._http.Transport(timeout=5, sleep=waits.append),
    )
    with pytest.raises(flattr.AuthenticationError) as caught:
        api.me()
    assert caught.value.code == "signature_invalid"
    assert "not-the-secret" not in str(caught.value)
    assert len(fake.requests_to(ME)) == 1
    assert waits == []


# -- answers only a scripted server sends --------------------------------------------------


def test_chunked_flood_without_length_is_cut_at_the_cap(scripted: Scripted) -> None:
    """T13 without Content-Length: reading stops at the cap, memory stays bounded."""
    sent = [0]

    def flood(sock: socket.socket, request: RawRequest, stopping: threading.Event) -> None:
        head = answer(200, b"", {"Transfer-Encoding": "chunked"})
        sock.sendall(head + b"%x\r\n%s\r\n" % (len(USER_XML), USER_XML))
        block = b" " * 65536
        chunk = b"%x\r\n%s\r\n" % (len(block), block)
        while not stopping.is_set() and sent[0] < 256 * MiB:
            sock.sendall(chunk)
            sent[0] += len(block)

    server = scripted(flood)
    api, waits = client_for(server.base_url, max_response_bytes=MiB)
    with pytest.raises(flattr.ResponseTooLargeError):
        api.me()
    assert waits == []
    time.sleep(0.1)
    # what the server managed to push is the cap plus the socket buffers, not 256 MiB
    assert sent[0] < 32 * MiB


def test_gzip_bomb(scripted: Scripted) -> None:
    """T14: 64 MiB of zeros in 64 KiB of gzip."""
    bomb = gzip.compress(b"\0" * 64 * MiB, compresslevel=9)
    assert len(bomb) < 100_000
    server = scripted(sends(answer(200, bomb, {"Content-Encoding": "gzip"})))
    api, waits = client_for(server.base_url)
    started = time.monotonic()
    with pytest.raises(flattr.ResponseTooLargeError) as caught:
        api.me()
    assert "expands" in str(caught.value)
    assert time.monotonic() - started < 5.0
    assert len(server.requests) == 1
    assert waits == []


def test_gzip_that_does_not_decompress(scripted: Scripted) -> None:
    server = scripted(sends(answer(200, b"this is not gzip", {"Content-Encoding": "gzip"})))
    api, _ = client_for(server.base_url)
    with pytest.raises(flattr.ResponseError) as caught:
        api.me()
    assert type(caught.value) is flattr.ResponseError
    assert "decompress" in str(caught.value)


def test_gzip_answer_within_the_cap_is_read(scripted: Scripted) -> None:
    server = scripted(sends(answer(200, gzip.compress(USER_XML), {"Content-Encoding": "gzip"})))
    api, _ = client_for(server.base_url)
    assert api.me().username == "scripted"


def test_garbage_status_line_on_a_read(scripted: Scripted) -> None:
    server = scripted(sends(b"HELLO THERE\r\n\r\n"))
    api, waits = client_for(server.base_url, retries=1)
    with pytest.raises(flattr.TransportError) as caught:
        api.me()
    assert type(caught.value) is flattr.TransportError
    assert len(server.requests) == 2
    assert len(waits) == 1


def test_garbage_status_line_on_register(scripted: Scripted) -> None:
    server = scripted(sends(b"HELLO THERE\r\n\r\n"))
    api, waits = client_for(server.base_url)
    with pytest.raises(flattr.UncertainResultError):
        register(api)
    assert len(server.requests) == 1
    assert waits == []


def _reset_mid_body(sock: socket.socket, request: RawRequest, stopping: threading.Event) -> None:
    sock.sendall(answer(200, USER_XML[:40], length=1000))
    time.sleep(0.05)
    reset(sock)


def test_reset_mid_body_on_a_read(scripted: Scripted) -> None:
    server = scripted(_reset_mid_body)
    api, waits = client_for(server.base_url, retries=2)
    with pytest.raises(flattr.TransportError) as caught:
        api.me()
    assert type(caught.value) is flattr.TransportError
    assert len(server.requests) == 3
    assert len(waits) == 2


def test_reset_mid_body_on_register(scripted: Scripted) -> None:
    server = scripted(_reset_mid_body)
    api, waits = client_for(server.base_url)
    with pytest.raises(flattr.UncertainResultError):
        register(api)
    assert len(server.requests) == 1
    assert waits == []


def test_reset_instead_of_an_answer(scripted: Scripted) -> None:
    server = scripted(lambda sock, request, stopping: reset(sock))
    api, waits = client_for(server.base_url, retries=2)
    with pytest.raises(flattr.TransportError) as caught:
        api.me()
    assert type(caught.value) is flattr.TransportError
    assert isinstance(caught.value.__cause__, ConnectionError)
    assert len(server.requests) == 3
    assert len(waits) == 2


def test_external_dtd_is_never_fetched(scripted: Scripted) -> None:
    """T16: a DOCTYPE pointing at this very server; the client must not come back for it."""
    holder: dict[str, int] = {}

    def evil(sock: socket.socket, request: RawRequest, stopping: threading.Event) -> None:
        body = (
            '<?xml version="1.0"?>\n'
            f'<!DOCTYPE flattr SYSTEM "http://127.0.0.1:{holder["port"]}/evil.dtd">\n'
            "<flattr><user><id>1</id><username>x</username></user></flattr>"
        ).encode()
        sock.sendall(answer(200, body))

    server = scripted(evil)
    holder["port"] = server.port
    api, _ = client_for(server.base_url)
    with pytest.raises(flattr.ResponseError) as caught:
        api.me()
    assert "DTD" in str(caught.value)
    time.sleep(0.1)
    assert [r.path for r in server.requests] == ["/rest/0.0.1/user/me"]


@pytest.mark.parametrize(
    ("body", "content_type", "needle"),
    [
        (b"", "text/xml", "well-formed"),
        (b'{"user": {"id": 1}}', "application/json", "application/json"),
        (b"<html><body>Hi</body></html>", "text/xml", "<html>"),
        (b"<flattr><version>0.0.1</version></flattr>", "text/xml", "<user>"),
        (
            b"<flattr><error><code>x</code><message>Database down</message></error></flattr>",
            "text/xml",
            "Database down",
        ),
        (b"<flattr><user><id>abc</id><username>x</username></user></flattr>", "text/xml", "<id>"),
        (b"<flattr><user><id>1</id></user></flattr>", "text/xml", "<username>"),
        (b"\xef\xbb\xbf\xff\xfe<flattr/>", "text/xml", "well-formed"),
    ],
    ids=[
        "empty",
        "json",
        "wrong-root",
        "no-user",
        "error-with-200",
        "non-numeric-id",
        "missing-username",
        "binary",
    ],
)
def test_bodies_that_are_not_a_user(
    scripted: Scripted, body: bytes, content_type: str, needle: str
) -> None:
    """T18 and friends: each names what is wrong; never a half-filled User."""
    server = scripted(sends(answer(200, body, {"Content-Type": content_type})))
    api, _ = client_for(server.base_url)
    with pytest.raises(flattr.ResponseError) as caught:
        api.me()
    assert type(caught.value) is flattr.ResponseError
    assert needle in str(caught.value)


def test_unknown_elements_are_ignored(scripted: Scripted) -> None:
    """T17: forward compatibility."""
    body = (
        b'<flattr><version>0.0.2</version><shiny new="yes"/>'
        b"<user><id>3</id><username>carol</username><newfield>x</newfield></user></flattr>"
    )
    server = scripted(sends(answer(200, body)))
    api, _ = client_for(server.base_url)
    me = api.me()
    assert (me.id, me.username) == (3, "carol")


def test_oauth_leg_answering_html(scripted: Scripted) -> None:
    server = scripted(sends(answer(200, b"<html>Login</html>", {"Content-Type": "text/html"})))
    auth = flattr.FlattrAuth("key", "secret", "oob", base_url=server.base_url, timeout=5)
    with pytest.raises(flattr.ResponseError) as caught:
        auth.fetch_request_token()
    assert type(caught.value) is flattr.ResponseError
    assert "not form-encoded" in str(caught.value)


def test_oauth_leg_answering_invalid_utf8(scripted: Scripted) -> None:
    body = b"oauth_token=ab\xff&oauth_token_secret=Sekr1t\xfe&oauth_callback_confirmed=true"
    server = scripted(
        sends(answer(200, body, {"Content-Type": "application/x-www-form-urlencoded"}))
    )
    auth = flattr.FlattrAuth("key", "secret", "oob", base_url=server.base_url, timeout=5)
    with pytest.raises(flattr.ResponseError) as caught:
        auth.fetch_request_token()
    assert type(caught.value) is flattr.ResponseError
    assert "Sekr1t" not in str(caught.value)
    assert "Sekr1t" not in repr(caught.value)
