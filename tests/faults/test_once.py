"""State-changing calls (register, click, the access-token exchange) reach the server at most once.

Each test counts what FakeFlattr saw and what it did (things registered,
clicks counted), so a silent re-send or a lost registration shows up.
"""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Callable

import httplib2
import pytest

import flattr
from flattr._http import Transport
from flattr._http.connections import DEFAULT_MAX_RESPONSE_BYTES, _NoAnswer, connection_types
from flattr.testing import FakeFlattr, FakeThing

from .kit import Rig, RigFactory, close_idle

REGISTER = "/rest/0.0.1/thing/register"
CLICK = "/rest/0.0.1/thing/click/"
ACCESS = "/oauth/access_token"
URL = "http://blog.example.org/2010/10/hello"


def register(client: flattr.FlattrClient, url: str = URL) -> flattr.Thing:
    return client.register_thing(
        url=url,
        title="Hello Flattr",
        category="text",
        description="My first post.",
        language="en_GB",
    )


@pytest.fixture
def post(fake: FakeFlattr) -> FakeThing:
    bob = fake.add_user("bob")
    return fake.add_thing(
        bob, url="http://bob.example.org/1", title="Bob's post", description="About bees"
    )


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


# -- register -----------------------------------------------------------------------


def test_register_processed_then_dropped_is_uncertain_and_sent_once(rig: Rig) -> None:
    """T6: the server registers the thing, then closes without answering."""
    rig.fake.inject_fault(REGISTER, "drop_after_processing")
    with pytest.raises(flattr.UncertainResultError) as caught:
        register(rig.client)
    assert "not re-sent" in str(caught.value)
    assert len(rig.fake.requests_to(REGISTER, "POST")) == 1
    assert [t.url for t in rig.fake.things] == [URL]
    assert rig.waits == []
    # what the error tells the caller to do works: the thing is there, once
    found = rig.client.thing_by_url(URL)
    assert found is not None and found.url == URL


@pytest.mark.parametrize("kind", ["drop_before_read", "drop_after_read"])
def test_register_dropped_before_processing_is_uncertain_and_not_resent(
    rig: Rig, kind: str
) -> None:
    rig.fake.inject_fault(REGISTER, kind)
    with pytest.raises(flattr.UncertainResultError):
        register(rig.client)
    assert len(rig.fake.requests_to(REGISTER, "POST")) == 1
    assert rig.fake.things == ()
    assert rig.client.thing_by_url(URL) is None


def test_register_with_truncated_answer_is_uncertain(rig: Rig) -> None:
    """T2 on a POST: half the answer came, so the outcome is unknown, not 'bad XML'."""
    rig.fake.inject_fault(REGISTER, "truncate")
    with pytest.raises(flattr.UncertainResultError) as caught:
        register(rig.client)
    assert isinstance(caught.value.__cause__, http.client.IncompleteRead)
    assert len(rig.fake.requests_to(REGISTER, "POST")) == 1
    assert len(rig.fake.things) == 1


def test_register_timeout_is_uncertain_and_fast(make_rig: RigFactory) -> None:
    rig = make_rig(timeout=0.3)
    rig.fake.inject_fault(REGISTER, "stall", seconds=1.0)
    started = time.monotonic()
    with pytest.raises(flattr.UncertainResultError) as caught:
        register(rig.client)
    elapsed = time.monotonic() - started
    assert 0.25 <= elapsed < 0.9
    assert "timed out after 0.3s" in str(caught.value)
    # the server carries it out after the client gave up: exactly one thing
    wait_for(lambda: len(rig.fake.things) == 1)
    assert len(rig.fake.things) == 1
    assert len(rig.fake.requests_to(REGISTER, "POST")) == 1


@pytest.mark.parametrize(
    ("kind", "error_class"),
    [
        ("html", flattr.ResponseError),
        ("malformed_xml", flattr.ResponseError),
        ("xml_bomb", flattr.ResponseError),
        ("invalid_utf8", flattr.ResponseError),
        ("oversize", flattr.ResponseTooLargeError),
    ],
)
def test_register_with_an_unreadable_answer_is_not_resent(
    rig: Rig, kind: str, error_class: type[flattr.FlattrError]
) -> None:
    rig.fake.inject_fault(REGISTER, kind)
    with pytest.raises(error_class) as caught:
        register(rig.client)
    assert type(caught.value) is error_class
    assert len(rig.fake.requests_to(REGISTER, "POST")) == 1
    assert rig.waits == []


def test_register_answered_as_text_plain_still_returns_the_thing(rig: Rig) -> None:
    rig.fake.inject_fault(REGISTER, "wrong_content_type")
    assert register(rig.client).url == URL
    assert len(rig.fake.requests_to(REGISTER, "POST")) == 1
    assert len(rig.fake.things) == 1


def test_httplib2_global_retries_cannot_resend_a_register(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another library in the process raised httplib2's module-wide retry count.
    monkeypatch.setattr(httplib2, "RETRIES", 10)
    for kind in ("drop_after_processing", "drop_before_read", "drop_after_read"):
        rig.fake.inject_fault(REGISTER, kind)
        with pytest.raises(flattr.UncertainResultError):
            register(rig.client, f"{URL}/{kind}")
    assert len(rig.fake.requests_to(REGISTER, "POST")) == 3
    assert [t.url for t in rig.fake.things] == [f"{URL}/drop_after_processing"]


def test_transport_leaves_httplib2_globals_alone(rig: Rig) -> None:
    before = (httplib2.RETRIES, httplib2.debuglevel)
    rig.fake.inject_fault(REGISTER, "drop_after_processing")
    with pytest.raises(flattr.UncertainResultError):
        register(rig.client)
    assert rig.client.me().username == "alice"
    assert (httplib2.RETRIES, httplib2.debuglevel) == before


def test_register_after_the_server_closed_an_idle_connection(rig: Rig) -> None:
    """T9: the kept-alive socket is dead; the POST must still go out exactly once."""
    assert rig.client.me().username == "alice"
    close_idle(rig.fake)
    thing = register(rig.client)
    assert thing.url == URL
    posts = rig.fake.requests_to(REGISTER, "POST")
    assert len(posts) == 1 and posts[0].status == 200
    assert len(rig.fake.things) == 1
    assert rig.waits == []


def test_register_goes_out_on_its_own_fresh_connection(rig: Rig) -> None:
    rig.client.me()
    register(rig.client)
    rig.client.me()
    me_first, me_after = rig.fake.requests_to("/rest/0.0.1/user/me")
    (post,) = rig.fake.requests_to(REGISTER)
    assert post.connection_id not in (me_first.connection_id, me_after.connection_id)


def test_register_connection_refused_then_server_up_registers_once() -> None:
    """T7: a refused connection proves nothing was sent, so even a POST is retried."""
    # The first connect is refused (nothing listens on the port yet); the
    # backoff sleep brings the server up there, and the retry registers once.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    late = FakeFlattr(port=port)
    token = late.issue_access_token(scopes=("publish", "read"))
    started: list[float] = []

    def sleep(seconds: float) -> None:
        started.append(seconds)
        if len(started) == 1:
            late.start()

    api = flattr.FlattrClient(
        late.consumer.key,
        late.consumer.secret,
        token,
        base_url=f"http://127.0.0.1:{port}",
        transport=Transport(timeout=5, sleep=sleep),
    )
    try:
        thing = register(api)
        assert thing.url == URL
        assert len(started) == 1
        assert len(late.requests_to(REGISTER, "POST")) == 1
        assert len(late.things) == 1
    finally:
        api.close()
        late.stop()


# -- click (a GET that changes state) --------------------------------------------------


@pytest.mark.parametrize("kind", ["drop_after_processing", "truncate"])
def test_click_answered_badly_is_uncertain_and_counted_once(
    rig: Rig, post: FakeThing, kind: str
) -> None:
    rig.fake.inject_fault(CLICK, kind)
    with pytest.raises(flattr.UncertainResultError):
        rig.client.click(post.id)
    assert len(rig.fake.requests_to(CLICK)) == 1
    assert post.clicks == 1
    assert rig.waits == []


def test_click_dropped_before_processing_is_not_resent(rig: Rig, post: FakeThing) -> None:
    rig.fake.inject_fault(CLICK, "drop_after_read")
    with pytest.raises(flattr.UncertainResultError):
        rig.client.click(post.id)
    assert len(rig.fake.requests_to(CLICK)) == 1
    assert post.clicks == 0


def test_click_timeout_is_uncertain(make_rig: RigFactory, post: FakeThing) -> None:
    rig = make_rig(timeout=0.3)
    rig.fake.inject_fault(CLICK, "stall", seconds=0.8)
    with pytest.raises(flattr.UncertainResultError):
        rig.client.click(post.id)
    wait_for(lambda: post.clicks == 1)
    assert post.clicks == 1
    assert len(rig.fake.requests_to(CLICK)) == 1


def test_click_after_the_server_closed_an_idle_connection(rig: Rig, post: FakeThing) -> None:
    rig.client.thing(post.id)
    close_idle(rig.fake)
    rig.client.click(post.id)
    assert [r.status for r in rig.fake.requests_to(CLICK)] == [200]
    assert post.clicks == 1


# -- the OAuth legs ------------------------------------------------------------------


def test_access_token_exchange_is_never_resent(fake: FakeFlattr) -> None:
    waits: list[float] = []
    auth = flattr.FlattrAuth(
        fake.consumer.key,
        fake.consumer.secret,
        "oob",
        base_url=fake.base_url,
        transport=Transport(timeout=5, sleep=waits.append),
    )
    request_token = auth.fetch_request_token()
    verifier = fake.consent(auth.authorize_url(request_token)).verifier
    assert verifier
    fake.inject_fault(ACCESS, "drop_after_processing")
    with pytest.raises(flattr.UncertainResultError):
        auth.fetch_access_token(request_token, verifier)
    assert len(fake.requests_to(ACCESS)) == 1
    assert waits == []


def test_request_token_leg_is_retried(fake: FakeFlattr) -> None:
    waits: list[float] = []
    auth = flattr.FlattrAuth(
        fake.consumer.key,
        fake.consumer.secret,
        "oob",
        base_url=fake.base_url,
        transport=Transport(timeout=5, sleep=waits.append),
    )
    fake.inject_fault("/oauth/request_token", "drop_after_processing")
    token = auth.fetch_request_token()
    assert token.key
    assert len(fake.requests_to("/oauth/request_token")) == 2
    assert len(waits) == 1


# -- the last guard ------------------------------------------------------------------


def test_a_one_shot_connection_refuses_a_second_request(fake: FakeFlattr) -> None:
    """Even if httplib2 (or a future version of it) tried, the connection would not re-send."""
    one_shot = connection_types(DEFAULT_MAX_RESPONSE_BYTES, one_shot=True)["http"]
    connection = one_shot("127.0.0.1", fake.port, timeout=5)
    try:
        connection.request("GET", "/rest/0.0.1/feed/categories")
        assert connection.getresponse().read()  # the fake answers 401 (unsigned)
        with pytest.raises(_NoAnswer):
            connection.request("GET", "/rest/0.0.1/feed/categories")
    finally:
        connection.close()
    assert len(fake.requests_to("/rest/0.0.1/feed/categories")) == 1
