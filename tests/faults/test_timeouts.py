"""Timeouts: a slow, silent or unreachable server fails close to ``timeout``, never hangs."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

import flattr

from .kit import RawRequest, RigFactory, ScriptedServer, answer, client_for

ME = "/rest/0.0.1/user/me"
TIMEOUT = 0.3
#: generous upper bound: the timeout plus scheduling noise on a busy machine
LATE = TIMEOUT + 0.6

Scripted = Callable[..., ScriptedServer]


def timed(call: Callable[[], object]) -> tuple[BaseException, float]:
    started = time.monotonic()
    with pytest.raises(flattr.FlattrError) as caught:
        call()
    return caught.value, time.monotonic() - started


def test_slow_server_read_times_out_once(make_rig: RigFactory) -> None:
    """T8: a 1 s answer against a 0.3 s timeout; a timeout is not retried."""
    rig = make_rig(timeout=TIMEOUT)
    rig.fake.inject_fault(ME, "stall", seconds=1.0)
    error, elapsed = timed(rig.client.me)
    assert type(error) is flattr.ReadTimeout
    assert "timed out after 0.3s" in str(error)
    assert isinstance(error.__cause__, TimeoutError)
    assert TIMEOUT * 0.9 <= elapsed < LATE
    assert rig.waits == []
    time.sleep(1.0)  # the stalled request is recorded once it is answered
    assert len(rig.fake.requests_to(ME)) == 1


def _silent(sock: socket.socket, request: RawRequest, stopping: threading.Event) -> None:
    stopping.wait(10)


def test_silent_server_times_out(scripted: Scripted) -> None:
    server = scripted(_silent)
    api, waits = client_for(server.base_url, timeout=TIMEOUT)
    error, elapsed = timed(api.me)
    assert type(error) is flattr.ReadTimeout
    assert TIMEOUT * 0.9 <= elapsed < LATE
    assert len(server.requests) == 1
    assert waits == []


def test_server_that_never_reads_times_out(scripted: Scripted) -> None:
    server = scripted(_silent, read=False)
    api, _ = client_for(server.base_url, timeout=TIMEOUT)
    error, elapsed = timed(api.me)
    assert type(error) is flattr.ReadTimeout
    assert TIMEOUT * 0.9 <= elapsed < LATE


def _headers_then_nothing(
    sock: socket.socket, request: RawRequest, stopping: threading.Event
) -> None:
    sock.sendall(answer(200, b"", length=500))
    stopping.wait(10)


def test_body_that_stops_coming_times_out(scripted: Scripted) -> None:
    server = scripted(_headers_then_nothing)
    api, waits = client_for(server.base_url, timeout=TIMEOUT)
    error, elapsed = timed(api.me)
    assert type(error) is flattr.ReadTimeout
    assert "timed out" in str(error)
    assert TIMEOUT * 0.9 <= elapsed < LATE
    assert len(server.requests) == 1
    assert waits == []


def test_body_that_stops_coming_on_register_is_uncertain(scripted: Scripted) -> None:
    server = scripted(_headers_then_nothing)
    api, _ = client_for(server.base_url, timeout=TIMEOUT)
    error, elapsed = timed(
        lambda: api.register_thing(
            url="http://blog.example.org/1",
            title="Hello Flattr",
            category="text",
            description="My first post.",
            language="en_GB",
        )
    )
    assert type(error) is flattr.UncertainResultError
    assert elapsed < LATE
    assert len(server.requests) == 1


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A port whose accept queue is full, so a new connect hangs (Linux drops the SYN)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers: list[socket.socket] = []
    try:
        for _ in range(8):
            filler = socket.socket()
            filler.settimeout(0.2)
            fillers.append(filler)
            try:
                filler.connect(("127.0.0.1", port))
            except TimeoutError:
                break
        else:
            pytest.skip("this system never lets a connect hang on a full backlog")
        yield port
    finally:
        for filler in fillers:
            filler.close()
        with contextlib.suppress(OSError):
            listener.close()


def test_connect_timeout_is_bounded_and_not_retried(full_backlog: int) -> None:
    api, waits = client_for(f"http://127.0.0.1:{full_backlog}", timeout=TIMEOUT, retries=2)
    error, elapsed = timed(api.me)
    assert type(error) is flattr.ConnectTimeout
    assert "timed out connecting after 0.3s" in str(error)
    assert TIMEOUT * 0.9 <= elapsed < LATE
    assert waits == []


def test_connect_timeout_apart_from_the_read_timeout(full_backlog: int) -> None:
    api, _ = client_for(f"http://127.0.0.1:{full_backlog}", timeout=5.0, connect_timeout=TIMEOUT)
    error, elapsed = timed(api.me)
    assert type(error) is flattr.ConnectTimeout
    assert "timed out connecting after 0.3s" in str(error)
    assert TIMEOUT * 0.9 <= elapsed < LATE


def test_a_short_connect_timeout_leaves_reads_their_own(make_rig: RigFactory) -> None:
    """Connecting may take 0.3 s at most; the 1 s answer still comes within timeout=5."""
    rig = make_rig(timeout=5.0, connect_timeout=TIMEOUT)
    rig.fake.inject_fault(ME, "stall", seconds=1.0)
    assert rig.client.me().username == "alice"


@pytest.mark.parametrize("bad", [0, -1, float("nan"), True])
def test_a_bad_connect_timeout_is_a_validation_error(bad: object) -> None:
    with pytest.raises(flattr.ValidationError) as caught:
        flattr.Transport(connect_timeout=bad)  # type: ignore[arg-type]
    assert caught.value.field == "connect_timeout"
