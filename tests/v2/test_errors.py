"""Status and JSON error body to exception; retries, Retry-After, stalls, bodies not JSON."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from flattr import v2
from flattr._http import Transport
from flattr.errors import (
    Advice,
    APIError,
    AuthenticationError,
    ClientError,
    ForbiddenError,
    NotFoundError,
    RateLimitError,
    ReadTimeout,
    ResponseError,
    ServerError,
    TransportTimeout,
    UncertainResultError,
    ValidationError,
)

from .kit import Answer, P, Route, Seen, V2Server, error, example, ok, serving

THING = example("thing.json")


@pytest.fixture
def one_route() -> Iterator[Callable[..., tuple[V2Server, v2.FlattrClient, list[float]]]]:
    """``one_route(routes, **transport_options)``: a server, a client for it, its recorded waits."""
    servers: list[V2Server] = []
    clients: list[v2.FlattrClient] = []

    def make(
        routes: dict[tuple[str, str], Route], **options: Any
    ) -> tuple[V2Server, v2.FlattrClient, list[float]]:
        server = V2Server(routes)
        server.start()
        servers.append(server)
        waits: list[float] = []
        options.setdefault("timeout", 5.0)
        transport = Transport(sleep=waits.append, **options)
        client = v2.FlattrClient("t0ken-123456789", base_url=server.base_url, transport=transport)
        clients.append(client)
        return server, client, waits

    try:
        yield make
    finally:
        for client in clients:
            client.close()
        for server in servers:
            server.stop()


@pytest.mark.parametrize(
    ("status", "code", "cls", "advice"),
    [
        (401, "unauthorized", AuthenticationError, Advice.AUTHORIZE_AGAIN),
        (401, "no_means", AuthenticationError, Advice.NOT_ALLOWED),
        (403, "flattr_once", ForbiddenError, Advice.NOT_ALLOWED),
        (403, "flattr_owner", ForbiddenError, Advice.NOT_ALLOWED),
        (403, "insufficient_scope", ForbiddenError, Advice.ADD_SCOPE),
        (404, "not_found", NotFoundError, Advice.CHECK_ID),
        (400, "validation", ClientError, Advice.CHECK_INPUT),
        (406, "not_acceptable", ClientError, Advice.CHECK_SERVER),
    ],
)
def test_status_and_code_pick_the_class(
    one_route: Any, status: int, code: str, cls: type, advice: Advice
) -> None:
    server, api, _ = one_route(
        {("POST", f"{P}/things/5/flattr"): lambda s: error(status, code, f"described {code}")}
    )
    with pytest.raises(cls) as caught:
        api.flattr(5)
    exc = caught.value
    assert type(exc) is cls and isinstance(exc, APIError)
    assert (exc.status, exc.code, exc.message) == (status, code, f"described {code}")
    assert exc.method == "POST" and exc.path == "/rest/v2/things/5/flattr"
    assert not isinstance(exc, ValidationError)
    assert exc.advice is advice
    assert exc.headers["content-type"].startswith("application/json")
    assert len(server.seen) == 1


def test_rate_limit_is_its_own_class_with_the_reset(one_route: Any) -> None:
    headers = {
        "X-RateLimit-Limit": "1000",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "1342521939",
    }
    _, api, waits = one_route(
        {("GET", f"{P}/user"): lambda s: error(403, "rate_limit_exceeded", "Too many", **headers)}
    )
    with pytest.raises(RateLimitError) as caught:
        api.me()
    assert caught.value.code == "rate_limit_exceeded" and caught.value.status == 403
    assert caught.value.reset == 1342521939.0
    assert caught.value.advice is Advice.WAIT
    assert isinstance(caught.value, APIError)
    assert waits == []  # a 403 is not retried


def test_persistent_502_is_a_server_error_after_the_retries(one_route: Any) -> None:
    server, api, waits = one_route(
        {("GET", f"{P}/things/5"): lambda s: (502, {"Content-Type": "text/html"}, b"<h1>down</h1>")}
    )
    with pytest.raises(ServerError) as caught:
        api.thing(5)
    assert caught.value.status == 502
    assert len(server.seen) == 3 and len(waits) == 2


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_writes_are_never_retried(one_route: Any, method: str) -> None:
    routes = {
        (method, path): (lambda s: (503, {}, b"")) for path in (f"{P}/things", f"{P}/things/5")
    }
    server, api, waits = one_route(routes)
    call = {
        "POST": lambda: api.create_thing("https://example.org/a"),
        "PATCH": lambda: api.update_thing(5, title="x"),
        "DELETE": lambda: api.delete_thing(5),
    }[method]
    with pytest.raises(ServerError):
        call()
    assert len(server.seen) == 1 and waits == []


def test_retry_after_is_honoured(one_route: Any) -> None:
    answers = iter([(503, {"Retry-After": "2"}, b""), ok(THING)])
    server, api, waits = one_route({("GET", f"{P}/things/423405"): lambda s: next(answers)})
    assert api.thing(423405).id == 423405
    assert waits == [2.0] and len(server.seen) == 2


def test_retry_after_beyond_the_bound_is_not_waited_for(one_route: Any) -> None:
    server, api, waits = one_route(
        {("GET", f"{P}/things/5"): lambda s: (503, {"Retry-After": "3600"}, b"")}
    )
    with pytest.raises(ServerError) as caught:
        api.thing(5)
    assert caught.value.retry_after == pytest.approx(3600)
    assert waits == [] and len(server.seen) == 1


def test_a_stalled_get_fails_within_a_few_seconds() -> None:
    release = threading.Event()

    def stall(seen: Seen) -> Answer:
        release.wait(20)
        return ok(THING)

    with serving({("GET", f"{P}/things/5"): stall}) as server:
        api = v2.FlattrClient("t0ken-123456789", base_url=server.base_url, timeout=1.0)
        started = time.monotonic()
        try:
            with pytest.raises(TransportTimeout) as caught:
                api.thing(5)
        finally:
            release.set()
            api.close()
        assert time.monotonic() - started < 4
        assert isinstance(caught.value, ReadTimeout)


def test_a_stalled_write_is_uncertain_and_sent_once() -> None:
    release = threading.Event()

    def stall(seen: Seen) -> Answer:
        release.wait(20)
        return ok(b"{}")

    with serving({("POST", f"{P}/things/5/flattr"): stall}) as server:
        api = v2.FlattrClient("t0ken-123456789", base_url=server.base_url, timeout=1.0)
        try:
            with pytest.raises(UncertainResultError):
                api.flattr(5)
        finally:
            release.set()
            api.close()
        assert len(server.seen) == 1


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ((404, {}, b""), NotFoundError),  # no body at all
        ((404, {"Content-Type": "text/html"}, b"<html>gone</html>"), NotFoundError),
        ((500, {"Content-Type": "application/json"}, b"{not json"), ServerError),
        ((200, {"Content-Type": "application/json"}, b"{not json"), ResponseError),
        ((200, {"Content-Type": "text/html"}, b"<html>proxy</html>"), ResponseError),
        ((200, {"Content-Type": "application/json"}, b'{"id": true}'), ResponseError),
        (
            (200, {"Content-Type": "application/json"}, b'{"id": 1' + b"0" * 30 + b"}"),
            ResponseError,
        ),
        ((200, {"Content-Type": "application/json"}, b"[1, 2]"), ResponseError),
        ((200, {"Content-Type": "application/json"}, b"NaN"), ResponseError),
    ],
)
def test_bodies_that_are_not_what_we_expect(one_route: Any, answer: Answer, expected: type) -> None:
    _, api, _ = one_route({("GET", f"{P}/things/5"): lambda s: answer})
    with pytest.raises(expected) as caught:
        api.thing(5)
    assert type(caught.value) is expected


def test_a_thing_with_a_bool_id_is_refused(one_route: Any) -> None:
    body = json.loads(THING)
    body["id"] = True
    _, api, _ = one_route({("GET", f"{P}/things/5"): lambda s: ok(json.dumps(body).encode())})
    with pytest.raises(ResponseError, match="'id'"):
        api.thing(5)


def test_hidden_as_one_and_user_count_as_string(one_route: Any) -> None:
    body = json.loads(THING)
    body.update(hidden=1, flattrs_user_count="2", updated_at=0)
    del body["flattred"]
    _, api, _ = one_route({("GET", f"{P}/things/5"): lambda s: ok(json.dumps(body).encode())})
    thing = api.thing(5)
    assert thing.hidden is True and thing.flattrs_user_count == 2
    assert thing.updated is None and thing.flattred is None


def test_deeply_nested_answers_are_refused(one_route: Any) -> None:
    deep = b"[" * 5000 + b"]" * 5000
    _, api, _ = one_route({("GET", f"{P}/categories"): lambda s: ok(deep)})
    with pytest.raises(ResponseError, match="deeper"):
        api.categories()


def test_answers_with_absurd_element_counts_are_refused(one_route: Any) -> None:
    many = b"[" + b"0," * 600_000 + b"0]"
    _, api, _ = one_route({("GET", f"{P}/categories"): lambda s: ok(many)})
    with pytest.raises(ResponseError, match="values"):
        api.categories()


def test_an_oversized_answer_is_refused_while_reading(one_route: Any) -> None:
    big = b'[{"id": "text", "text": "' + b"x" * 200_000 + b'"}]'
    _, api, _ = one_route({("GET", f"{P}/categories"): lambda s: ok(big)}, max_response_bytes=65536)
    with pytest.raises(ResponseError, match="max_response_bytes"):
        api.categories()


def test_brackets_and_commas_inside_strings_do_not_count(one_route: Any) -> None:
    # A description full of brackets and commas is text, not structure.
    body = json.loads(THING)
    body["description"] = "[{(" * 5000 + "," * 600_000
    _, api, _ = one_route({("GET", f"{P}/things/5"): lambda s: ok(json.dumps(body).encode())})
    assert api.thing(5).description.startswith("[{([{(")
