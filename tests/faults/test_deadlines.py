"""Whole-call deadlines: a server that drips its answer cannot keep a call alive past them."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Callable

import httplib2
import pytest

import flattr
from flattr.testing import FakeFlattr

from .kit import USER_XML, RawRequest, ScriptedServer, answer, client_for

Scripted = Callable[..., ScriptedServer]


def _drip(sock: socket.socket, request: RawRequest, stopping: threading.Event) -> None:
    """Send a whole answer one byte every 0.15 s (about 40 s for a user document)."""
    for byte in answer(200, USER_XML):
        if stopping.wait(0.15):
            return
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            return


def test_a_dripping_answer_ends_at_the_deadline(scripted: Scripted) -> None:
    """Measured before: me() with timeout=1 ran about 13 s against one byte per 0.15 s."""
    server = scripted(_drip)
    api, waits = client_for(server.base_url, timeout=1.0)
    started = time.monotonic()
    with pytest.raises(flattr.DeadlineExceeded, match="4s deadline") as caught:
        api.me()
    elapsed = time.monotonic() - started
    assert 3.9 <= elapsed < 5.5
    assert isinstance(caught.value, flattr.TransportTimeout)
    assert waits == []  # a deadline is final: no retry
    assert len(server.requests) == 1


def test_an_explicit_deadline(scripted: Scripted) -> None:
    server = scripted(_drip)
    api, _ = client_for(server.base_url, timeout=1.0, deadline=1.5)
    started = time.monotonic()
    with pytest.raises(flattr.DeadlineExceeded):
        api.me()
    assert 1.4 <= time.monotonic() - started < 3.0


def test_a_dripping_answer_to_a_register_is_uncertain(scripted: Scripted) -> None:
    server = scripted(_drip)
    api, _ = client_for(server.base_url, timeout=1.0, deadline=1.5)
    with pytest.raises(flattr.UncertainResultError, match="deadline"):
        api.register_thing(
            url="https://blog.example.org/1",
            title="Hello Flattr",
            category="text",
            description="My first post.",
            language="en_GB",
        )
    assert len(server.requests) == 1


def test_the_token_calls_have_a_deadline_too(scripted: Scripted) -> None:
    server = scripted(_drip)
    auth = flattr.FlattrAuth(
        "consumer-key",
        "consumer-secret",
        "oob",
        base_url=server.base_url,
        timeout=1.0,
        deadline=1.5,
    )
    started = time.monotonic()
    with pytest.raises(flattr.DeadlineExceeded):
        auth.fetch_request_token()
    assert time.monotonic() - started < 3.0
    auth.close()


def test_a_dripping_feed_ends_at_its_deadline(
    scripted: Scripted, fake: FakeFlattr, client: flattr.FlattrClient
) -> None:
    server = scripted(_drip)
    started = time.monotonic()
    with pytest.raises(flattr.DeadlineExceeded):
        flattr.publish_feed(client, f"{server.base_url}/feed.xml", fetch_timeout=0.5)
    assert time.monotonic() - started < 3.5  # four times fetch_timeout, and some slack
    assert fake.requests == []


def test_the_deadline_machinery_leaves_a_healthy_call_alone(fake: FakeFlattr) -> None:
    token = fake.issue_access_token()
    with flattr.FlattrClient(
        fake.consumer.key, fake.consumer.secret, token, base_url=fake.base_url, deadline=0.5
    ) as api:
        for _ in range(20):  # each call well inside its deadline, the connection reused
            assert api.me().username == "alice"
        time.sleep(0.7)  # past the first calls' deadlines: nothing is shut down late
        assert api.me().username == "alice"
    assert fake.connections_opened == 1


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), True, "5"])
def test_a_bad_deadline_is_a_validation_error(bad: object) -> None:
    with pytest.raises(flattr.ValidationError) as caught:
        flattr.Transport(deadline=bad)  # type: ignore[arg-type]
    assert caught.value.field == "deadline"


def test_debuglevel_switches_print_nothing(
    fake: FakeFlattr, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With http.client's and httplib2's debug switches on, no header reaches stdout."""
    monkeypatch.setattr(httplib2, "debuglevel", 4)
    monkeypatch.setattr(http.client.HTTPConnection, "debuglevel", 4)
    auth = flattr.FlattrAuth(fake.consumer.key, fake.consumer.secret, "oob", base_url=fake.base_url)
    request_token = auth.fetch_request_token()
    verifier = fake.approve(request_token.key, scopes=("read",))
    token = auth.fetch_access_token(request_token, verifier)
    with flattr.FlattrClient(
        fake.consumer.key, fake.consumer.secret, token, base_url=fake.base_url
    ) as api:
        api.me()
    auth.close()
    printed = capfd.readouterr()
    everything = printed.out + printed.err
    assert "send:" not in everything and "reply:" not in everything
    for secret in (verifier, token.secret, request_token.secret, "oauth_signature"):
        assert secret not in everything
