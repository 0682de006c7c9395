"""The bearer token and the client secret never show: not in a repr, a log line, an error,
nor in the locals of a traceback of a failing call (``capture_locals=True``)."""

from __future__ import annotations

import json
import logging
import socket
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from flattr import v2
from flattr.errors import FlattrError
from flattr.testing import FakeFlattr

from .kit import Answer, P, Seen, error, ok, serving

TOKEN = "Sekr1tBearerToken0123456789abcdef"
SECRET = "Sekr1tClientSecret-98765"
CODE = "Sekr1tCode-0001"


@pytest.fixture
def debug_log() -> Iterator[list[str]]:
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))
            lines.append(repr(record.args))

    handler = Keep(level=logging.DEBUG)
    root = logging.getLogger()
    saved = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(saved)


def _everything_about(exc: BaseException) -> str:
    shown = traceback.TracebackException.from_exception(exc, capture_locals=True)
    return "".join(shown.format()) + repr(exc) + str(exc)


def _refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_failing_calls_keep_the_token_out_of_tracebacks(debug_log: list[str]) -> None:
    release = threading.Event()

    def stall(seen: Seen) -> Answer:
        release.wait(20)
        return ok(b"{}")

    routes = {
        ("GET", f"{P}/user"): lambda s: error(401, "unauthorized", "bad token"),
        ("GET", f"{P}/things/1"): lambda s: ok(b"{broken"),
        ("GET", f"{P}/things/2"): lambda s: (502, {}, b""),
        ("GET", f"{P}/things/3"): stall,
        ("POST", f"{P}/things/4/flattr"): stall,
        ("GET", f"{P}/things/lookup"): lambda s: ok(b"{}", 302, Location="https://evil.example/x"),
    }
    failures: list[BaseException] = []
    with serving(routes) as server:
        token = v2.AccessToken(TOKEN, ("flattr",))
        api = v2.FlattrClient(token, base_url=server.base_url, timeout=0.5, retries=1)
        calls: list[Callable[[], Any]] = [
            api.me,
            lambda: api.thing(1),
            lambda: api.thing(2),
            lambda: api.thing(3),
            lambda: api.flattr(4),
            lambda: api.lookup("https://example.org/"),
        ]
        try:
            for call in calls:
                with pytest.raises(FlattrError) as caught:
                    call()
                failures.append(caught.value)
        finally:
            release.set()
            api.close()
        assert all(s.headers["authorization"] == f"Bearer {TOKEN}" for s in server.seen)
    refused = v2.FlattrClient(TOKEN, base_url=f"http://127.0.0.1:{_refused_port()}", timeout=1)
    with pytest.raises(FlattrError) as caught:
        refused.thing(5)
    failures.append(caught.value)
    assert len(failures) == 7
    for failure in failures:
        text = _everything_about(failure)
        assert TOKEN not in text, type(failure)
        assert TOKEN[4:] not in text
    assert TOKEN not in repr(api) and TOKEN not in repr(token) and TOKEN not in str(token)
    assert not any(TOKEN in line for line in debug_log)


def test_a_failing_token_request_keeps_secret_and_code_out(debug_log: list[str]) -> None:
    routes = {("POST", "/oauth/token"): lambda s: error(400, "invalid_grant", "used code")}
    with serving(routes) as server:
        auth = v2.FlattrAuth(
            "client-id", SECRET, "https://example.org/cb", base_url=server.base_url
        )
        with pytest.raises(FlattrError) as caught:
            auth.fetch_token(CODE)
    text = _everything_about(caught.value)
    assert SECRET not in text and CODE not in text
    assert SECRET not in repr(auth)
    assert not any(SECRET in line or CODE in line for line in debug_log)


def _mac_token(seen: Seen) -> Answer:
    return ok(json.dumps({"access_token": TOKEN, "token_type": "mac"}).encode())


def test_a_token_answer_that_fails_to_parse_keeps_the_token_out() -> None:
    # (the body is built in a function of its own: this test's locals are in the traceback too)
    with serving({("POST", "/oauth/token"): _mac_token}) as server:
        auth = v2.FlattrAuth("client-id", SECRET, None, base_url=server.base_url)
        with pytest.raises(FlattrError) as caught:
            auth.fetch_token(CODE)
    assert TOKEN not in _everything_about(caught.value)


BAD_TOKEN = "has a space " + TOKEN


def test_a_bad_token_value_is_not_shown() -> None:
    with pytest.raises(FlattrError) as caught:
        v2.FlattrClient(BAD_TOKEN)
    assert caught.value.field == "token"  # type: ignore[attr-defined]
    assert TOKEN not in _everything_about(caught.value)


class Hidden:
    """Holds a secret for the test without showing it in a repr (the test's own locals
    are part of the traceback it inspects)."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "Hidden()"


def test_against_the_fake_with_debug_logs(debug_log: list[str]) -> None:
    with FakeFlattr() as fake:
        secret = Hidden(fake.issue_v2_token(scopes=("flattr",)).token)
        with v2.FlattrClient(secret.value, base_url=fake.base_url, timeout=5) as api:
            api.me()
            with pytest.raises(FlattrError) as caught:
                api.create_thing("https://example.org/x")  # no "thing" scope: 403
        text = _everything_about(caught.value)
        assert secret.value not in text
    leaked = [line for line in debug_log if secret.value in line]
    assert leaked == []
