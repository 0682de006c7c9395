"""Retries: what is re-sent, how often, and how long the client waits in between.

Every test counts the requests FakeFlattr saw. The transport's sleep is a
recorder, so the backoff is asserted, never slept.
"""

from __future__ import annotations

import email.utils
import socket
import time

import pytest

import flattr
from flattr.testing import FakeFlattr

from .kit import Rig, RigFactory, close_idle

ME = "/rest/0.0.1/user/me"
REGISTER = "/rest/0.0.1/thing/register"
CLICK = "/rest/0.0.1/thing/click/"


def register(client: flattr.FlattrClient, n: int = 1) -> flattr.Thing:
    return client.register_thing(
        url=f"http://blog.example.org/post/{n}",
        title=f"Post number {n}",
        category="text",
        description="A post about birds.",
        language="en_GB",
    )


def nonces(fake: FakeFlattr, path: str) -> list[str]:
    return [r.oauth_params["oauth_nonce"] for r in fake.requests_to(path)]


# -- statuses ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_statuses_are_retried_for_reads(rig: Rig, status: int) -> None:
    rig.fake.inject_fault(ME, "status", status=status)
    assert rig.client.me().username == "alice"
    assert [r.status for r in rig.fake.requests_to(ME)] == [status, 200]
    assert len(rig.waits) == 1
    assert 0 <= rig.waits[0] <= rig.transport.backoff
    # the retry is signed afresh: a re-sent nonce would be refused
    assert len(set(nonces(rig.fake, ME))) == 2


def test_persistent_503_gives_up_after_exactly_retries_plus_one(make_rig: RigFactory) -> None:
    rig = make_rig(retries=4, backoff=1.0, max_backoff=3.0)
    rig.fake.inject_fault(ME, "status", every=1, status=503)
    with pytest.raises(flattr.ServerError) as caught:
        rig.client.me()
    assert type(caught.value) is flattr.ServerError
    assert caught.value.status == 503
    assert len(rig.fake.requests_to(ME)) == 5
    # full jitter under an exponential ceiling: 1, 2, then capped at 3
    assert len(rig.waits) == 4
    for wait, ceiling in zip(rig.waits, [1.0, 2.0, 3.0, 3.0], strict=True):
        assert 0 <= wait <= ceiling


def test_backoff_is_jittered(make_rig: RigFactory) -> None:
    rig = make_rig(retries=8, backoff=1.0, max_backoff=1.0)
    rig.fake.inject_fault(ME, "status", every=1, status=502)
    with pytest.raises(flattr.ServerError):
        rig.client.me()
    assert len(rig.waits) == 8
    assert len(set(rig.waits)) > 1, "every wait was identical: no jitter"


def test_retries_zero_sends_once(make_rig: RigFactory) -> None:
    rig = make_rig(retries=0)
    rig.fake.inject_fault(ME, "status", status=503)
    with pytest.raises(flattr.ServerError):
        rig.client.me()
    assert len(rig.fake.requests_to(ME)) == 1
    assert rig.waits == []


def test_retry_after_on_the_last_attempt_is_reported(make_rig: RigFactory) -> None:
    rig = make_rig(retries=1)
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    rig.fake.inject_fault(ME, "status", status=503, retry_after=when, every=1)
    with pytest.raises(flattr.ServerError) as caught:
        rig.client.me()
    assert len(rig.fake.requests_to(ME)) == 2
    assert caught.value.retry_after is not None
    assert 17 <= caught.value.retry_after <= 20


def test_no_retry_after_means_none(make_rig: RigFactory) -> None:
    rig = make_rig(retries=0)
    rig.fake.inject_fault(ME, "status", status=503)
    with pytest.raises(flattr.ServerError) as caught:
        rig.client.me()
    assert caught.value.retry_after is None


def test_500_is_not_retried(rig: Rig) -> None:
    # Only the gateway/overload answers are retried; a 500 is the server's verdict.
    rig.fake.inject_fault(ME, "status", status=500)
    with pytest.raises(flattr.ServerError) as caught:
        rig.client.me()
    assert caught.value.status == 500
    assert len(rig.fake.requests_to(ME)) == 1
    assert rig.waits == []


def test_client_errors_are_not_retried(rig: Rig) -> None:
    rig.fake.inject_fault(ME, "status", status=429)
    with pytest.raises(flattr.ClientError) as caught:
        rig.client.me()
    assert type(caught.value) is flattr.ClientError
    assert caught.value.status == 429
    assert len(rig.fake.requests_to(ME)) == 1


# -- Retry-After -----------------------------------------------------------------


def test_retry_after_seconds_is_waited_exactly(rig: Rig) -> None:
    rig.fake.inject_fault(ME, "status", status=503, retry_after=2)
    assert rig.client.me().username == "alice"
    assert rig.waits == [2.0]
    assert len(rig.fake.requests_to(ME)) == 2


def test_retry_after_http_date(make_rig: RigFactory) -> None:
    rig = make_rig(deadline=60)  # room for the 30 s the server asks for
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    rig.fake.inject_fault(ME, "status", status=503, retry_after=when)
    assert rig.client.me().username == "alice"
    assert len(rig.waits) == 1
    assert 27 <= rig.waits[0] <= 30


def test_retry_after_past_the_deadline_is_not_waited_for(make_rig: RigFactory) -> None:
    rig = make_rig(timeout=5, deadline=10)
    rig.fake.inject_fault(ME, "status", status=503, retry_after=30)
    with pytest.raises(flattr.ServerError) as caught:
        rig.client.me()
    assert caught.value.retry_after == 30
    assert rig.waits == []
    assert len(rig.fake.requests_to(ME)) == 1


def test_retry_after_in_the_past_retries_at_once(rig: Rig) -> None:
    when = email.utils.formatdate(time.time() - 3600, usegmt=True)
    rig.fake.inject_fault(ME, "status", status=503, retry_after=when)
    assert rig.client.me().username == "alice"
    assert rig.waits == [0.0]


def test_retry_after_beyond_the_cap_fails_at_once(make_rig: RigFactory) -> None:
    rig = make_rig(max_retry_after=60)
    rig.fake.inject_fault(ME, "status", status=503, retry_after=3600)
    with pytest.raises(flattr.ServerError) as caught:
        rig.client.me()
    assert caught.value.status == 503
    # the caller learns how long the server wants it to wait
    assert caught.value.retry_after == 3600
    assert "wait 3600 s" in str(caught.value)
    assert rig.waits == []
    assert len(rig.fake.requests_to(ME)) == 1


def test_unreadable_retry_after_falls_back_to_backoff(rig: Rig) -> None:
    rig.fake.inject_fault(ME, "status", status=503, retry_after="soon")
    assert rig.client.me().username == "alice"
    assert len(rig.waits) == 1
    assert 0 <= rig.waits[0] <= rig.transport.backoff


# -- state-changing calls are never re-sent ---------------------------------------


@pytest.mark.parametrize("status", [502, 503, 504])
def test_register_is_not_retried_on_gateway_statuses(rig: Rig, status: int) -> None:
    rig.fake.inject_fault(REGISTER, "status", status=status, retry_after=1)
    with pytest.raises(flattr.ServerError) as caught:
        register(rig.client)
    assert type(caught.value) is flattr.ServerError
    assert len(rig.fake.requests_to(REGISTER, "POST")) == 1
    assert rig.fake.things == ()
    assert rig.waits == []


def test_click_is_not_retried_on_503(rig: Rig) -> None:
    bob = rig.fake.add_user("bob")
    post = rig.fake.add_thing(
        bob, url="http://bob.example.org/1", title="Bob's post", description="About bees"
    )
    rig.fake.inject_fault(CLICK, "status", status=503)
    with pytest.raises(flattr.ServerError):
        rig.client.click(post.id)
    assert len(rig.fake.requests_to(CLICK)) == 1
    assert post.clicks == 0
    assert rig.waits == []


# -- connection failures -----------------------------------------------------------


@pytest.mark.parametrize("kind", ["drop_before_read", "drop_after_read", "drop_after_processing"])
def test_dropped_read_is_retried_with_a_fresh_signature(rig: Rig, kind: str) -> None:
    rig.fake.inject_fault(ME, kind)
    assert rig.client.me().username == "alice"
    seen = rig.fake.requests_to(ME)
    assert [r.status for r in seen] == [None, 200]
    assert len(set(nonces(rig.fake, ME))) == 2


@pytest.mark.parametrize("kind", ["drop_before_read", "drop_after_processing"])
def test_persistent_drops_give_up_after_exactly_retries_plus_one(
    make_rig: RigFactory, kind: str
) -> None:
    rig = make_rig(retries=2)
    rig.fake.inject_fault(ME, kind, every=1)
    with pytest.raises(flattr.TransportError) as caught:
        rig.client.me()
    assert type(caught.value) is flattr.TransportError
    assert "GET" in str(caught.value)
    assert len(rig.fake.requests_to(ME)) == 3
    assert len(rig.waits) == 2


def test_drops_with_retries_zero_send_once(make_rig: RigFactory) -> None:
    rig = make_rig(retries=0)
    rig.fake.inject_fault(ME, "drop_after_processing")
    with pytest.raises(flattr.TransportError):
        rig.client.me()
    assert len(rig.fake.requests_to(ME)) == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_read(make_rig: RigFactory) -> None:
    from .kit import client_for

    api, waits = client_for(f"http://127.0.0.1:{_closed_port()}", retries=2)
    with pytest.raises(flattr.TransportError) as caught:
        api.me()
    assert type(caught.value) is flattr.TransportError
    assert "could not connect" in str(caught.value)
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)
    assert len(waits) == 2


def test_connection_refused_register_is_retried_because_nothing_was_sent() -> None:
    from .kit import client_for

    api, waits = client_for(f"http://127.0.0.1:{_closed_port()}", retries=2)
    with pytest.raises(flattr.TransportError) as caught:
        register(api)
    # not UncertainResultError: nothing can have reached a server
    assert type(caught.value) is flattr.TransportError
    assert len(waits) == 2


def test_dns_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    from .kit import client_for

    real = socket.getaddrinfo

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if host == "api.flattr.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    api, waits = client_for("https://api.flattr.invalid", retries=1)
    with pytest.raises(flattr.TransportError) as caught:
        api.me()
    assert type(caught.value) is flattr.TransportError
    assert "could not connect" in str(caught.value)
    assert isinstance(caught.value.__cause__, socket.gaierror)
    assert len(waits) == 1


def test_stale_keep_alive_read_recovers_without_waiting(rig: Rig) -> None:
    assert rig.client.me().username == "alice"
    close_idle(rig.fake)
    assert rig.client.me().username == "alice"
    assert [r.status for r in rig.fake.requests_to(ME)] == [200, 200]
    assert rig.fake.connections_opened == 2
    assert rig.waits == []
