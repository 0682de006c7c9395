"""Lazy paging, lookup's redirect rules, anonymous clients and checks before any request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from flattr import v2
from flattr.errors import AuthenticationError, ResponseError, ValidationError

from .kit import Answer, P, Seen, V2Server, example, example_json, ok, serving

TOKEN = "bearer-secret-0123456789"


def _things(ids: range) -> bytes:
    template = example_json("thing.json")
    return json.dumps([{**template, "id": n} for n in ids]).encode()


def _paged(total: int) -> Any:
    def answer(seen: Seen) -> Answer:
        page, count = int(seen.query["page"]), int(seen.query["count"])
        start = (page - 1) * count + 1
        return ok(_things(range(start, min(start + count, total + 1))))

    return answer


@pytest.fixture
def paged() -> Iterator[V2Server]:
    with serving(
        {
            ("GET", f"{P}/users/bob/things"): _paged(5),
            ("GET", f"{P}/users/bob/flattrs"): lambda s: ok(b"[]"),
        }
    ) as server:
        yield server


def test_the_second_page_is_asked_for_only_when_reached(paged: V2Server) -> None:
    api = v2.FlattrClient(TOKEN, base_url=paged.base_url, page_size=2, timeout=5)
    things = api.user_things("bob")
    assert paged.seen == []  # nothing before iteration
    assert next(things).id == 1
    assert len(paged.seen) == 1
    assert next(things).id == 2
    assert len(paged.seen) == 1
    assert next(things).id == 3
    assert [s.query["page"] for s in paged.seen] == ["1", "2"]
    assert [t.id for t in things] == [4, 5]
    # page 3 held one item, fewer than asked: no page 4
    assert [s.query for s in paged.seen] == [
        {"page": "1", "count": "2"},
        {"page": "2", "count": "2"},
        {"page": "3", "count": "2"},
    ]


def test_pages_never_ask_for_more_than_100(paged: V2Server) -> None:
    api = v2.FlattrClient(TOKEN, base_url=paged.base_url, timeout=5)
    assert [t.id for t in api.user_things("bob")] == [1, 2, 3, 4, 5]
    assert paged.seen[0].query == {"page": "1", "count": "100"}
    assert len(paged.seen) == 1
    with pytest.raises(ValidationError) as caught:
        v2.FlattrClient(TOKEN, page_size=101)
    assert caught.value.field == "page_size"


def test_an_empty_first_page_ends_iteration(paged: V2Server) -> None:
    api = v2.FlattrClient(TOKEN, base_url=paged.base_url, timeout=5)
    assert list(api.flattrs("bob")) == []
    assert len(paged.seen) == 1


def test_search_pages_by_its_things_key() -> None:
    def answer(seen: Seen) -> Answer:
        page = int(seen.query["page"])
        things = json.loads(_things(range(page * 10, page * 10 + (2 if page == 1 else 1))))
        return ok(
            json.dumps(
                {"total_items": 3, "items": len(things), "page": page, "things": things}
            ).encode()
        )

    with serving({("GET", f"{P}/things/search"): answer}) as server:
        api = v2.FlattrClient(None, base_url=server.base_url, page_size=2, timeout=5)
        assert [t.id for t in api.search(category=("text", "audio"))] == [10, 11, 20]
        assert server.seen[0].query["category"] == "text,audio"
        assert len(server.seen) == 2


# -- lookup -------------------------------------------------------------------


def test_lookup_follows_a_redirect_to_its_own_origin_with_the_token() -> None:
    with serving({}) as server:
        location = f"{server.base_url}{P}/things/423405"
        server.routes.update(
            {
                ("GET", f"{P}/things/lookup"): lambda s: ok(
                    json.dumps({"message": "found", "location": location}).encode(),
                    302,
                    Location=location,
                ),
                ("GET", f"{P}/things/423405"): lambda s: ok(example("thing_full.json")),
            }
        )
        api = v2.FlattrClient(TOKEN, base_url=server.base_url, timeout=5)
        thing = api.lookup("http://blog.flattr.net/2011/10/api-v2-beta-out-whats-changed/")
        assert thing is not None and thing.id == 423405
        assert thing.updated is None and thing.last_flattr is not None
        assert [s.headers.get("authorization") for s in server.seen] == [f"Bearer {TOKEN}"] * 2


def test_lookup_never_sends_the_token_to_another_host() -> None:
    with serving({("GET", "/elsewhere"): lambda s: ok(b"{}")}) as other, serving({}) as server:
        server.routes[("GET", f"{P}/things/lookup")] = lambda s: ok(
            b'{"message": "found"}', 302, Location=f"{other.base_url}/elsewhere"
        )
        api = v2.FlattrClient(TOKEN, base_url=server.base_url, timeout=5)
        with pytest.raises(ResponseError, match="another host"):
            api.lookup("https://example.org/a")
        assert other.seen == []
        assert len(server.seen) == 1


def test_lookup_to_another_hosts_thing_asks_our_own_server() -> None:
    with serving({("GET", f"{P}/things/7"): lambda s: ok(b"{}")}) as other, serving({}) as server:
        server.routes.update(
            {
                ("GET", f"{P}/things/lookup"): lambda s: ok(
                    b"{}", 302, Location=f"{other.base_url}{P}/things/423405"
                ),
                ("GET", f"{P}/things/423405"): lambda s: ok(example("thing.json")),
            }
        )
        api = v2.FlattrClient(TOKEN, base_url=server.base_url, timeout=5)
        thing = api.lookup("https://example.org/a")
        assert thing is not None and thing.id == 423405
        assert other.seen == []
        assert server.paths() == [f"GET {P}/things/lookup", f"GET {P}/things/423405"]


def test_lookup_not_found_is_none() -> None:
    with serving(
        {("GET", f"{P}/things/lookup"): lambda s: ok(example("thing_lookup_error.json"), 404)}
    ) as server:
        api = v2.FlattrClient(None, base_url=server.base_url, timeout=5)
        assert api.lookup("https://example.org/nothing") is None


def test_lookup_answered_after_a_followed_redirect_is_read_too() -> None:
    # a proxy that follows redirects itself hands back the thing, or lookup's not-found body
    answers = iter([ok(example("thing.json")), ok(b'{"message": "not_found", "description": "x"}')])
    with serving({("GET", f"{P}/things/lookup"): lambda s: next(answers)}) as server:
        api = v2.FlattrClient(None, base_url=server.base_url, timeout=5)
        found = api.lookup("https://example.org/a")
        assert found is not None and found.id == 423405
        assert api.lookup("https://example.org/b") is None


# -- anonymous clients and checks before any request -----------------------------


@pytest.fixture
def silent() -> Iterator[V2Server]:
    with serving({}) as server:
        yield server


@pytest.mark.parametrize(
    "call",
    [
        lambda api: api.me(),
        lambda api: api.create_thing("https://example.org/a"),
        lambda api: api.update_thing(5, title="x"),
        lambda api: api.delete_thing(5),
        lambda api: api.flattr(5),
        lambda api: api.flattr_url("https://example.org/a"),
        lambda api: api.subscriptions(),
        lambda api: api.subscribe(5),
        lambda api: api.unsubscribe(5),
        lambda api: api.user_things(),
        lambda api: api.flattrs(),
    ],
)
def test_an_anonymous_client_sends_nothing_that_needs_a_token(silent: V2Server, call: Any) -> None:
    api = v2.FlattrClient(None, base_url=silent.base_url, timeout=5)
    with pytest.raises(AuthenticationError) as caught:
        call(api)
    assert caught.value.code == "unauthorized"
    assert silent.seen == []


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda api: api.thing(True), "thing_id"),
        (lambda api: api.thing(1.0), "thing_id"),
        (lambda api: api.thing("1/2"), "thing_id"),
        (lambda api: api.thing(0), "thing_id"),
        (lambda api: api.thing(-3), "thing_id"),
        (lambda api: api.thing(2**64), "thing_id"),
        (lambda api: api.things([]), "ids"),
        (lambda api: api.things(range(1, 102)), "ids"),
        (lambda api: api.things([1, False]), "ids"),
        (lambda api: api.user("a/b"), "username"),
        (lambda api: api.user(""), "username"),
        (lambda api: api.lookup("ftp://example.org/"), "url"),
        (lambda api: api.search(sort="newest"), "sort"),
        (lambda api: api.search(category="books"), "category"),
        (lambda api: api.search(language=["en_GB", "xx_XX"]), "language"),
        (lambda api: api.search("a\x00b"), "query"),
        (lambda api: api.create_thing("not a url"), "url"),
        (lambda api: api.create_thing("https://e.org/", title="a\x00"), "title"),
        (lambda api: api.create_thing("https://e.org/", title=5), "title"),
        (lambda api: api.create_thing("https://e.org/", description=b"x"), "description"),
        (lambda api: api.create_thing("https://e.org/", tags="a,b"), "tags"),
        (lambda api: api.create_thing("https://e.org/", tags=["a,b"]), "tags"),
        (lambda api: api.create_thing("https://e.org/", category="rest2"), "category"),
        (lambda api: api.create_thing("https://e.org/", language="en"), "language"),
        (lambda api: api.create_thing("https://e.org/", hidden=1), "hidden"),
        (lambda api: api.update_thing(5), "fields"),
        (lambda api: api.update_thing(5, url="https://e.org/"), "url"),
        (lambda api: api.update_thing(5, colour="red"), "colour"),
        (lambda api: api.update_thing(5, hidden="0"), "hidden"),
        (lambda api: api.flattr("5/flattr"), "thing_id"),
        (lambda api: api.flattr_url(""), "url"),
        (lambda api: api.flattr_url("https://flattr.com/submit/auto?url=" + "x" * 9000), "url"),
        (lambda api: api.lookup("https://e.org/" + "x" * 3000), "url"),
        (lambda api: api.update_thing(5, title=None), "title"),
    ],
)
def test_bad_arguments_fail_before_any_request(silent: V2Server, call: Any, field: str) -> None:
    api = v2.FlattrClient(TOKEN, base_url=silent.base_url, timeout=5)
    with pytest.raises(ValidationError) as caught:
        call(api)
    assert caught.value.field == field
    assert silent.seen == []


def test_long_titles_are_not_refused_locally() -> None:
    # v2 documents no length limits: the server decides
    with serving(
        {("POST", f"{P}/things"): lambda s: ok(example("thing_create.json"), 201)}
    ) as server:
        api = v2.FlattrClient(TOKEN, base_url=server.base_url, timeout=5)
        assert api.create_thing("https://e.org/", title="x" * 500, description="") == 431547
        assert server.seen[0].json() == {
            "url": "https://e.org/",
            "title": "x" * 500,
            "description": "",
        }


def test_a_long_auto_submit_url_can_be_flattred() -> None:
    import flattr

    link = flattr.auto_submit_url(
        "bob", "https://e.org/episode", title="An episode", description="é" * 900
    )
    assert len(link) > 2048
    with serving({("POST", f"{P}/flattr"): lambda s: ok(example("flattr_create.json"))}) as server:
        api = v2.FlattrClient(TOKEN, base_url=server.base_url, timeout=5)
        assert api.flattr_url(link) == 423405
        assert server.seen[0].json() == {"url": link}
