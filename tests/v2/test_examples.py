"""The v2 client against the official example bodies, served verbatim over real HTTP."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest

import flattr
from flattr import v2

from .kit import V2Server, example_json, example_routes, serving


@pytest.fixture
def server() -> Iterator[V2Server]:
    with serving(example_routes()) as running:
        yield running


@pytest.fixture
def api(server: V2Server) -> Iterator[v2.FlattrClient]:
    token = v2.AccessToken("a" * 40, ("flattr", "thing"))
    with v2.FlattrClient(token, base_url=server.base_url, timeout=5) as client:
        yield client


def test_fetch_token_sends_basic_auth_and_a_form(server: V2Server) -> None:
    auth = v2.FlattrAuth("cid", "csecret", "https://example.org/cb", base_url=server.base_url)
    url = auth.authorize_url(scopes=("flattr", "thing"), state="s1")
    token = auth.fetch_token("the-code")
    seen = server.seen[-1]
    assert seen.method == "POST" and seen.path == "/oauth/token"
    assert seen.headers["authorization"] == "Basic " + base64.b64encode(b"cid:csecret").decode()
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"
    assert dict(parse_qsl(seen.body.decode())) == {
        "code": "the-code",
        "grant_type": "authorization_code",
        "redirect_uri": "https://example.org/cb",
    }
    assert b"csecret" not in seen.body and "csecret" not in url
    # the example answer has no "scope": the scopes asked for are kept
    assert token.token == example_json("token_response.json")["access_token"]
    assert token.scopes == ("flattr", "thing")
    assert "csecret" not in repr(auth) and token.token not in repr(token)


def test_me_reads_the_extended_user(api: v2.FlattrClient, server: V2Server) -> None:
    me = api.me()
    assert me.username == "flattr"
    assert me.email == "info@flattr.com"
    assert me.registered == datetime.fromtimestamp(1270166816, UTC)
    assert me.registered.tzinfo is not None
    assert me.avatar is None and me.lastname == "" and me.url == "http://flattr.com"
    assert server.seen[-1].headers["authorization"] == "Bearer " + "a" * 40
    assert server.seen[-1].headers["accept"] == "application/json"


def test_user(api: v2.FlattrClient) -> None:
    user = api.user("flattr")
    assert user.username == "flattr" and user.firstname == "Flattr.com" and user.email is None


def test_thing_keeps_the_documented_fields(api: v2.FlattrClient) -> None:
    thing = api.thing(423405)
    assert thing.id == 423405
    assert thing.title == "API v2 beta out - what's changed?"
    assert thing.owner.username == "flattr"
    assert thing.hidden is False and thing.flattred is False and thing.subscribed is True
    assert thing.tags == ("api",) and thing.flattrs == 8
    assert thing.created == datetime.fromtimestamp(1319704532, UTC)
    assert thing.image == "http://flattr.com/thing/image/4/2/3/4/0/5/medium.png"


def test_things_reads_false_and_zero_hidden_and_empty_image(api: v2.FlattrClient) -> None:
    first, second = api.things([423405, 450287])
    assert (first.id, second.id) == (423405, 450287)
    assert first.hidden is False and second.hidden is False  # `false` and `0`
    assert second.image is None  # ""
    assert first.flattred is None  # the example did not say
    assert second.tags == ("gem", "ruby", "programming", "opensource", "flattr", "api")


def test_lookup_resolves_a_redirect_to_another_host_on_our_own(
    api: v2.FlattrClient, server: V2Server
) -> None:
    thing = api.lookup("http://blog.flattr.net/2011/10/api-v2-beta-out-whats-changed/")
    assert thing is not None and thing.id == 423405
    # the example's Location is on api.flattr.com: nothing was sent there,
    # the id was asked of our own server
    assert server.paths()[-2:] == ["GET /rest/v2/things/lookup", "GET /rest/v2/things/423405"]
    assert server.seen[-2].query == {
        "url": "http://blog.flattr.net/2011/10/api-v2-beta-out-whats-changed/"
    }


def test_search_and_user_things(api: v2.FlattrClient, server: V2Server) -> None:
    found = list(api.search("api", tags="api & flattr", language=["en_GB", "sv_SE"], sort="trend"))
    assert [t.id for t in found] == [423405]
    query = server.seen[-1].query
    assert query == {
        "query": "api",
        "tags": "api & flattr",
        "language": "en_GB,sv_SE",
        "sort": "trend",
        "page": "1",
        "count": "100",
    }
    assert [t.id for t in api.user_things("flattr")] == [423405]
    assert [t.id for t in api.user_things()] == [423405]
    assert server.paths()[-2:] == ["GET /rest/v2/users/flattr/things", "GET /rest/v2/user/things"]


def test_create_update_delete(api: v2.FlattrClient, server: V2Server) -> None:
    new_id = api.create_thing(
        "https://example.org/post", title="A post", tags=("a", "b"), category="text"
    )
    assert new_id == 431547
    assert server.seen[-1].json() == {
        "url": "https://example.org/post",
        "title": "A post",
        "category": "text",
        "tags": "a,b",
    }
    assert server.seen[-1].headers["content-type"] == "application/json"
    assert api.update_thing(423405, title="New", hidden=True) is None
    assert server.seen[-1].method == "PATCH"
    assert server.seen[-1].json() == {"title": "New", "hidden": True}
    assert api.delete_thing(423405) is None
    assert server.paths()[-1] == "DELETE /rest/v2/things/423405"


def test_flattr_and_flattr_url(api: v2.FlattrClient, server: V2Server) -> None:
    assert api.flattr(423405) is None
    assert server.paths()[-1] == "POST /rest/v2/things/423405/flattr"
    link = flattr.auto_submit_url(
        "flattr", "http://blog.flattr.net/2011/10/api-v2-beta-out-whats-changed/"
    )
    assert api.flattr_url(link) == 423405
    assert server.seen[-1].json() == {"url": link}


def test_flattrs(api: v2.FlattrClient) -> None:
    (one,) = list(api.flattrs("qzio"))
    assert one.owner.username == "qzio"
    assert one.thing.id == 313733 and one.thing.owner is not None
    assert one.thing.owner.username == "gnuproject"
    assert one.created == datetime.fromtimestamp(1316697578, UTC)
    assert [f.thing.id for f in api.flattrs()] == [313733]


def test_subscriptions(api: v2.FlattrClient, server: V2Server) -> None:
    (sub,) = api.subscriptions()
    assert sub.thing.id == 423405 and sub.paused is False
    assert sub.created == datetime.fromtimestamp(1350654024, UTC)
    assert sub.started == datetime.fromtimestamp(1351164964, UTC)
    assert api.subscribe(423405) is None
    assert api.unsubscribe(423405) is None
    assert server.paths()[-2:] == [
        "POST /rest/v2/things/423405/subscriptions",
        "DELETE /rest/v2/things/423405/subscriptions",
    ]


def test_catalogues_and_rate_limit(api: v2.FlattrClient) -> None:
    categories = api.categories()
    assert categories[0] == flattr.Category(id="text", name="Text")
    assert [c.id for c in categories] == [
        "text",
        "images",
        "video",
        "audio",
        "software",
        "people",
        "rest",
    ]
    languages = api.languages()
    assert languages[0] == flattr.Language(id="en_GB", name="English")
    assert len(languages) == 4
    limit = api.rate_limit()
    assert (limit.limit, limit.remaining, limit.current) == (1000, 986, 14)
    assert limit.reset == datetime.fromtimestamp(1342521939, UTC)


def test_anonymous_client_reads_public_resources(server: V2Server) -> None:
    with v2.FlattrClient(None, base_url=server.base_url, timeout=5) as anonymous:
        assert anonymous.thing(423405).id == 423405
    assert "authorization" not in server.seen[-1].headers
