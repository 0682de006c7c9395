"""Every /rest/v2 resource of the fake over real HTTP: happy paths and the documented errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest

import flattr
from flattr.testing import FakeFlattr, FakeThing, FakeUser

from .kit_v2 import V2, assert_error, v2_api

ALL = ("flattr", "thing", "email", "extendedread")


@dataclass
class World:
    fake: FakeFlattr
    alice: V2  # every scope
    anon: V2
    bob: FakeUser
    bobs: FakeThing  # bob's public thing
    own: FakeThing  # alice's public thing
    hidden: FakeThing  # alice's hidden thing

    def as_user(self, user: FakeUser, scopes: tuple[str, ...] = ALL) -> V2:
        return self.alice.with_token(self.fake.issue_v2_token(user, scopes=scopes))


@pytest.fixture
def w(fake: FakeFlattr) -> Iterator[World]:
    bob = fake.add_user("Bob", firstname="Bob", country="Sweden")
    bobs = fake.add_thing(
        bob,
        url="https://bob.example.org/tools",
        title="Tools I love",
        description="Hammers and saws",
        tags=("tools", "diy"),
        category="images",
        created=1_300_000_100,
        image="https://bob.example.org/tools.png",
    )
    own = fake.add_thing(
        fake.user,
        url="https://alice.example.org/robin",
        title="The robin",
        tags=("birds",),
        created=1_300_000_200,
    )
    hidden = fake.add_thing(
        fake.user, url="https://alice.example.org/owls", title="Owls", hidden=True
    )
    with v2_api(fake, fake.issue_v2_token(scopes=ALL)) as alice:
        yield World(fake, alice, alice.with_token(None), bob, bobs, own, hidden)


# -- R1-R3 ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["", "/"])
def test_r1_root_says_hello_world(w: World, path: str) -> None:
    reply = w.anon.get(path)
    assert reply.status_code == 200
    assert reply.json() == {"message": "hello_world", "description": "Flattr REST API v2"}
    assert "X-RateLimit-Limit" not in reply.headers


def test_r2_user_by_name_is_case_insensitive_and_public(w: World) -> None:
    body = w.alice.get("/users/bob").json()
    assert body["username"] == "Bob"
    assert body["resource"].endswith("/rest/v2/users/bob")
    assert body["link"] == "https://flattr.com/profile/Bob"
    assert "email" not in body and "registered_at" not in body
    own = w.alice.get("/users/alice").json()
    assert "email" not in own  # even the caller's own user, through this path
    assert_error(w.anon.get("/users/nobody"), 404, "not_found")


def test_r3_user_private_fields_follow_the_scopes(w: World) -> None:
    assert_error(w.anon.get("/user"), 401, "unauthorized")
    plain = w.as_user(w.fake.user, ()).get("/user").json()
    assert "email" not in plain and "registered_at" not in plain
    email = w.as_user(w.fake.user, ("email",)).get("/user").json()
    assert email["email"] == "alice@example.org" and "registered_at" not in email
    extended = w.alice.get("/user").json()
    assert isinstance(extended["registered_at"], int)


# -- R4, R5 ---------------------------------------------------------------------


def test_r4_user_things_hide_hidden_things_from_others(w: World) -> None:
    theirs = w.as_user(w.bob).get("/users/alice/things").json()
    assert [t["id"] for t in theirs] == [w.own.int_id]
    mine = w.alice.get("/users/alice/things").json()
    assert {t["id"] for t in mine} == {w.own.int_id, w.hidden.int_id}
    anonymous = w.anon.get("/users/alice/things").json()
    assert "flattred" not in anonymous[0] and "subscribed" not in anonymous[0]
    assert_error(w.anon.get("/users/nobody/things"), 404, "not_found")


def test_r5_own_things_newest_first_with_owner_fields(w: World) -> None:
    things = w.alice.get("/user/things").json()
    assert [t["id"] for t in things] == [w.hidden.int_id, w.own.int_id]
    assert things[0]["hidden"] is True and things[0]["updated_at"] == 0
    assert_error(w.anon.get("/user/things"), 401, "unauthorized")


def test_pagination_count_page_clamp_and_400(w: World) -> None:
    for n in range(5):
        w.fake.add_thing(w.bob, url=f"https://bob.example.org/{n}", title=f"n{n}", created=n + 1)
    first = w.anon.get("/users/bob/things", params={"count": 2, "page": 1}).json()
    second = w.anon.get("/users/bob/things", params={"count": 2, "page": 2}).json()
    assert len(first) == 2 and len(second) == 2
    assert not {t["id"] for t in first} & {t["id"] for t in second}
    assert w.anon.get("/users/bob/things", params={"page": 9}).json() == []
    assert len(w.anon.get("/users/bob/things", params={"count": 1000}).json()) == 6
    for bad in ({"count": 0}, {"page": "x"}, {"count": "-1"}, {"page": "1.5"}):
        assert_error(w.anon.get("/users/bob/things", params=bad), 400, "invalid_parameters")


def test_default_page_is_30(w: World) -> None:
    for n in range(35):
        w.fake.add_thing(w.bob, url=f"https://bob.example.org/p{n}", title=f"p{n}")
    assert len(w.anon.get("/users/bob/things").json()) == 30


# -- R6, R7 ---------------------------------------------------------------------


def test_r6_three_views_of_a_thing(w: World) -> None:
    public = w.anon.get(f"/things/{w.bobs.int_id}").json()
    assert "flattred" not in public and "last_flattr_at" not in public
    assert public["image"] == "https://bob.example.org/tools.png"
    assert public["tags"] == ["tools", "diy"] and public["category"] == "images"
    viewer = w.alice.get(f"/things/{w.bobs.int_id}").json()
    assert viewer["flattred"] is False and viewer["subscribed"] is False
    assert "updated_at" not in viewer
    owner = w.as_user(w.bob).get(f"/things/{w.bobs.int_id}").json()
    assert owner["last_flattr_at"] == 0 and owner["updated_at"] == 0
    assert owner["image"] == "https://bob.example.org/tools.png"
    own = w.alice.get(f"/things/{w.own.int_id}").json()
    assert own["image"] == ""  # no image is an empty string


def test_r6_full_gives_the_full_owner(w: World) -> None:
    small = w.anon.get(f"/things/{w.bobs.int_id}").json()
    assert set(small["owner"]) == {"type", "resource", "link", "username"}
    for flag in ("", "1", "true", "full", "YES"):
        full = w.anon.get(f"/things/{w.bobs.int_id}?full={flag}").json()
        assert full["owner"]["country"] == "Sweden" and full["flattrs_user_count"] == 0
    off = w.anon.get(f"/things/{w.bobs.int_id}?full=false").json()
    assert "country" not in off["owner"]
    assert w.anon.get(f"/things/{w.bobs.int_id}?full").json()["owner"]["country"] == "Sweden"


def test_r6_hidden_things_by_id_and_unknown_ids(w: World) -> None:
    assert w.anon.get(f"/things/{w.hidden.int_id}").status_code == 200
    assert_error(w.anon.get("/things/999999"), 404, "not_found")
    assert_error(w.anon.get("/things/nothing_here"), 404, "not_found")


def test_r7_several_things_in_order_skipping_unknown(w: World) -> None:
    ids = f"{w.own.int_id},999,{w.bobs.int_id},{w.own.int_id}"
    things = w.anon.get(f"/things/{ids}").json()
    assert [t["id"] for t in things] == [w.own.int_id, w.bobs.int_id]
    assert_error(w.anon.get("/things/998,999"), 404, "not_found")
    assert_error(w.anon.get(f"/things/{w.own.int_id}%2C{w.bobs.int_id}"), 404, "not_found")
    many = ",".join(str(n) for n in range(1, 102))
    assert_error(w.anon.get(f"/things/{many}"), 400, "invalid_parameters")


# -- R8 lookup ------------------------------------------------------------------


def test_r8_lookup_302_to_the_thing(w: World) -> None:
    for path in (
        f"/things/lookup?url={quote(w.bobs.url, safe='')}",
        f"/things/lookup/?url={quote(w.bobs.url, safe='')}",
        f"/things/lookup?url={quote('HTTPS://BOB.EXAMPLE.ORG/tools', safe='')}",
        f"/things/lookup/q/{quote(w.bobs.url, safe='')}",
    ):
        reply = w.anon.get(path)
        assert reply.status_code == 302, path
        location = f"{w.fake.base_url}/rest/v2/things/{w.bobs.int_id}"
        assert reply.headers["Location"] == location
        assert reply.json() == {"message": "found", "location": location}
        followed = w.anon.get(reply.headers["Location"]).json()
        assert followed["url"] == w.bobs.url


def test_r8_lookup_misses_and_errors(w: World) -> None:
    reply = w.anon.get("/things/lookup", params={"url": "https://bob.example.org/TOOLS"})
    assert reply.status_code == 404
    assert reply.json() == {"message": "not_found", "description": "No thing was found"}
    assert_error(w.anon.get("/things/lookup"), 400, "invalid_parameters")


def test_r8_lookup_of_auto_submit_urls(w: World) -> None:
    def auto(user: str, url: str) -> str:
        return "https://flattr.com/submit/auto?" + urlencode({"user_id": user, "url": url})

    assert w.anon.get("/things/lookup", params={"url": auto("bob", w.bobs.url)}).status_code == 302
    assert_error(
        w.anon.get("/things/lookup", params={"url": auto("alice", w.bobs.url)}), 400, "validation"
    )
    miss = w.anon.get("/things/lookup", params={"url": auto("bob", "https://new.example/")})
    assert miss.status_code == 404 and miss.json()["message"] == "not_found"


# -- R9-R11 ---------------------------------------------------------------------


def test_r9_create_with_json_201_and_defaults(w: World) -> None:
    reply = w.alice.post("/things", json={"url": "https://alice.example.org/new"})
    assert reply.status_code == 201
    body = reply.json()
    assert body["message"] == "ok" and body["description"] == "Thing was created successfully"
    assert body["link"] == f"{w.fake.base_url}/rest/v2/things/{body['id']}"
    thing = w.anon.get(f"/things/{body['id']}").json()
    assert thing["title"] == "https://alice.example.org/new"
    assert (thing["category"], thing["language"], thing["hidden"]) == ("rest", "en_GB", False)
    assert thing["description"] == "" and thing["tags"] == []


def test_r9_create_with_a_form_and_every_field(w: World) -> None:
    reply = w.alice.post(
        "/things",
        data={
            "url": "https://alice.example.org/pod",
            "title": "A podcast",
            "description": "An hour",
            "category": "people",
            "language": "sv_SE",
            "tags": "music, talk",
            "hidden": "True",
        },
    )
    assert reply.status_code == 201
    thing = w.alice.get(f"/things/{reply.json()['id']}").json()
    assert thing["tags"] == ["music", "talk"] and thing["hidden"] is True
    assert (thing["category"], thing["language"]) == ("people", "sv_SE")


@pytest.mark.parametrize(
    "fields",
    [
        {"url": "ftp://alice.example.org/x"},
        {"url": "not a url"},
        {},
        {"url": "https://alice.example.org/x", "category": "nope"},
        {"url": "https://alice.example.org/x", "language": "xx_XX"},
        {"url": "https://alice.example.org/x", "title": "t" * 101},
        {"url": "https://alice.example.org/x", "description": "d" * 1001},
        {"url": "https://alice.example.org/x", "tags": ["a,b"]},
        {"url": "https://alice.example.org/x", "hidden": "maybe"},
        {"url": "https://bob.example.org/tools"},
    ],
)
def test_r9_create_validation(w: World, fields: dict[str, object]) -> None:
    assert_error(w.alice.post("/things", json=fields), 400, "validation")


def test_r9_create_duplicate_names_the_existing_thing(w: World) -> None:
    body = assert_error(w.alice.post("/things", json={"url": w.bobs.url}), 400, "validation")
    assert str(w.bobs.int_id) in body["error_description"]


def test_r9_create_needs_a_token_and_the_thing_scope(w: World) -> None:
    assert_error(w.anon.post("/things", json={"url": "https://a.example/"}), 401, "unauthorized")
    no_scope = w.as_user(w.fake.user, ("flattr",))
    assert_error(
        no_scope.post("/things", json={"url": "https://a.example/"}), 403, "insufficient_scope"
    )


@pytest.mark.parametrize("how", ["patch", "post-form", "post-json", "post-query"])
def test_r10_update_by_patch_or_post_with_method(w: World, how: str) -> None:
    path = f"/things/{w.own.int_id}"
    change = {"title": "The robin in May", "url": "https://ignored.example/"}
    if how == "patch":
        reply = w.alice.request("PATCH", path, json=change)
    elif how == "post-form":
        reply = w.alice.post(path, data={**change, "_method": "patch"})
    elif how == "post-json":
        reply = w.alice.post(path, json={**change, "_method": "PATCH"})
    else:
        reply = w.alice.post(path + "?_method=patch", data=change)
    assert reply.status_code == 200
    assert reply.json() == {"message": "ok", "description": "Thing was updated correctly"}
    thing = w.alice.get(path).json()
    assert thing["title"] == "The robin in May" and thing["url"] == w.own.url
    assert thing["updated_at"] > 0


def test_r10_update_errors(w: World) -> None:
    assert w.alice.post(f"/things/{w.own.int_id}", data={"title": "x"}).status_code == 405
    assert_error(
        w.alice.request("PATCH", f"/things/{w.bobs.int_id}", json={"title": "mine"}),
        403,
        "forbidden",
    )
    assert_error(w.alice.request("PATCH", "/things/999", json={"title": "x"}), 404, "not_found")
    assert_error(
        w.alice.request("PATCH", f"/things/{w.own.int_id}", json={"category": "nope"}),
        400,
        "validation",
    )
    no_scope = w.as_user(w.fake.user, ("flattr",))
    assert_error(
        no_scope.request("PATCH", f"/things/{w.own.int_id}", json={"title": "x"}),
        403,
        "insufficient_scope",
    )


def test_r11_delete_204_then_gone_with_its_flattrs(w: World) -> None:
    w.fake.add_flattr(w.bob, w.own)
    reply = w.alice.request("DELETE", f"/things/{w.own.int_id}")
    assert reply.status_code == 204 and reply.content == b""
    assert_error(w.anon.get(f"/things/{w.own.int_id}"), 404, "not_found")
    assert w.anon.get("/users/bob/flattrs").json() == []
    assert w.fake.thing_by_url(w.own.url) is None


def test_r11_delete_errors(w: World) -> None:
    assert_error(w.alice.request("DELETE", f"/things/{w.bobs.int_id}"), 403, "forbidden")
    assert_error(w.alice.request("DELETE", "/things/999"), 404, "not_found")


# -- R12 search -----------------------------------------------------------------


def test_r12_search_shape_and_filters(w: World) -> None:
    body = w.anon.get("/things/search", params={"query": "TOOLS love"}).json()
    assert set(body) == {"total_items", "items", "page", "things"}
    assert (body["total_items"], body["items"], body["page"]) == (1, 1, 1)
    assert body["things"][0]["id"] == w.bobs.int_id
    assert w.anon.get("/things/search", params={"query": "owls"}).json()["total_items"] == 0
    assert w.anon.get("/things/search", params={"user": "BOB"}).json()["total_items"] == 1
    cats = w.anon.get("/things/search", params={"category": "images,text"}).json()
    assert cats["total_items"] == 2
    assert w.anon.get("/things/search", params={"url": w.own.url}).json()["total_items"] == 1
    assert w.anon.get("/things/search", params={"language": "sv_SE"}).json()["total_items"] == 0


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("birds", {"own"}),
        ("birds | tools", {"own", "bobs"}),
        ("tools & diy", {"bobs"}),
        ("tools diy", {"bobs"}),
        ("tools ! diy", set()),
        ("!birds", {"bobs"}),
        ("birds | tools ! diy", {"own"}),
    ],
)
def test_r12_tag_expressions(w: World, expression: str, expected: set[str]) -> None:
    names = {w.own.int_id: "own", w.bobs.int_id: "bobs"}
    body = w.anon.get("/things/search", params={"tags": expression}).json()
    assert {names[t["id"]] for t in body["things"]} == expected


def test_r12_hidden_things_only_with_extendedread_for_the_owner(w: World) -> None:
    params = {"query": "owls"}
    assert w.alice.get("/things/search", params=params).json()["total_items"] == 1
    plain = w.as_user(w.fake.user, ("flattr",))
    assert plain.get("/things/search", params=params).json()["total_items"] == 0
    assert w.as_user(w.bob).get("/things/search", params=params).json()["total_items"] == 0


def test_r12_sorts_and_bad_sort(w: World) -> None:
    w.fake.add_flattr(w.bob, w.own)
    body = w.anon.get("/things/search", params={"sort": "trend"}).json()
    assert body["things"][0]["id"] == w.own.int_id
    for sort in ("relevance", "flattrs", "flattrs_month", "flattrs_week", "flattrs_day"):
        assert w.anon.get("/things/search", params={"sort": sort}).status_code == 200
    assert_error(w.anon.get("/things/search", params={"sort": "best"}), 400, "invalid_parameters")
    paged = w.anon.get("/things/search", params={"count": 1, "page": 2}).json()
    assert (paged["total_items"], paged["items"], paged["page"]) == (2, 1, 2)


# -- R13-R17 flattrs ------------------------------------------------------------


def test_r16_flattr_then_the_rules(w: World) -> None:
    path = f"/things/{w.bobs.int_id}/flattr"
    reply = w.alice.post(path)
    assert reply.status_code == 200
    body = reply.json()
    assert body["message"] == "ok" and body["description"] == "Thing was successfully flattred"
    assert body["thing"]["flattrs"] == 1 and "owner" not in body["thing"]
    assert body["location"].endswith(f"/rest/v2/things/{w.bobs.int_id}")
    assert w.alice.get(f"/things/{w.bobs.int_id}").json()["flattred"] is True
    assert_error(w.alice.post(path), 403, "flattr_once")
    assert_error(w.alice.post(f"/things/{w.own.int_id}/flattr"), 403, "flattr_owner")
    assert_error(w.alice.post("/things/999/flattr"), 404, "not_found")
    assert_error(w.anon.post(path), 401, "unauthorized")
    no_scope = w.as_user(w.fake.user, ("thing",))
    assert_error(no_scope.post(path), 403, "insufficient_scope")
    owner_view = w.as_user(w.bob).get(f"/things/{w.bobs.int_id}").json()
    assert owner_view["last_flattr_at"] > 0


def test_r16_flattr_once_is_per_calendar_month() -> None:
    now = [float(time.mktime((2012, 10, 31, 12, 0, 0, 0, 0, 0)) - time.timezone)]
    with FakeFlattr(clock=lambda: now[0]) as fake:
        bob = fake.add_user("bob")
        thing = fake.add_thing(bob, url="https://bob.example.org/x", title="x")
        with v2_api(fake, fake.issue_v2_token()) as api:
            assert api.post(f"/things/{thing.int_id}/flattr").status_code == 200
            assert_error(api.post(f"/things/{thing.int_id}/flattr"), 403, "flattr_once")
            now[0] += 86400  # 1 November
            assert api.post(f"/things/{thing.int_id}/flattr").status_code == 200
            assert thing.clicks == 2


def test_r16_no_means_is_a_401(w: World) -> None:
    w.fake.set_means(w.fake.user, 1)
    other = w.fake.add_thing(w.bob, url="https://bob.example.org/2", title="two")
    assert w.alice.post(f"/things/{w.bobs.int_id}/flattr").status_code == 200
    assert_error(w.alice.post(f"/things/{other.int_id}/flattr"), 401, "no_means")


def test_r13_r14_r15_flattr_lists(w: World) -> None:
    w.alice.post(f"/things/{w.bobs.int_id}/flattr")
    carol = w.fake.add_user("carol")
    w.as_user(carol).post(f"/things/{w.bobs.int_id}/flattr")
    mine = w.alice.get("/user/flattrs").json()
    assert len(mine) == 1 and mine[0]["type"] == "flattr"
    assert mine[0]["thing"]["owner"]["username"] == "Bob"
    assert mine[0]["owner"]["username"] == "alice"
    assert w.anon.get("/users/alice/flattrs").json() == mine
    received = w.anon.get(f"/things/{w.bobs.int_id}/flattrs").json()
    assert [f["owner"]["username"] for f in received] == ["carol", "alice"]
    full = w.anon.get(f"/things/{w.bobs.int_id}/flattrs?full=1").json()
    assert "country" in full[0]["owner"] and "language" in full[0]["thing"]
    assert_error(w.anon.get("/user/flattrs"), 401, "unauthorized")
    assert_error(w.anon.get("/users/nobody/flattrs"), 404, "not_found")
    assert_error(w.anon.get("/things/999/flattrs"), 404, "not_found")
    w.fake.set_v2_profile(carol, hide_flattrs=True)
    assert w.anon.get("/users/carol/flattrs").json() == []
    assert len(w.anon.get(f"/things/{w.bobs.int_id}/flattrs").json()) == 1


def test_r17_flattr_a_registered_url(w: World) -> None:
    reply = w.alice.post("/flattr", json={"url": w.bobs.url})
    assert reply.status_code == 200 and reply.json()["thing"]["id"] == w.bobs.int_id
    assert_error(
        w.alice.post("/flattr", json={"url": "https://unknown.example/"}), 404, "not_found"
    )
    assert_error(w.alice.post("/flattr", json={}), 400, "invalid_parameters")


def test_r17_flattr_an_auto_submit_url_creates_the_thing(w: World) -> None:
    inner = "https://bob.example.org/episode-7"
    auto = "http://flattr.com/submit/auto?" + urlencode(
        {"url": inner, "user_id": "bob", "title": "Episode 7", "tags": "pod,cast", "hidden": "1"}
    )
    reply = w.alice.post("/flattr", json={"url": auto})
    assert reply.status_code == 200
    thing = w.fake.thing_by_url(inner)
    assert thing is not None and thing.owner is w.bob and thing.hidden
    assert thing.title == "Episode 7" and thing.tags == ("pod", "cast")
    assert_error(w.alice.post("/flattr", json={"url": auto}), 403, "flattr_once")


def test_r17_auto_submit_errors(w: World) -> None:
    def auto(**params: str) -> dict[str, str]:
        return {"url": "https://flattr.com/submit/auto?" + urlencode(params)}

    assert_error(
        w.alice.post("/flattr", json=auto(user_id="nobody", url="https://n.example/")),
        404,
        "not_found",
    )
    assert_error(
        w.alice.post("/flattr", json=auto(user_id="alice", url=w.bobs.url)), 400, "validation"
    )
    assert_error(
        w.alice.post("/flattr", json=auto(url="https://n.example/")), 400, "invalid_parameters"
    )
    own = auto(user_id="alice", url="https://alice.example.org/fresh")
    assert_error(w.alice.post("/flattr", json=own), 403, "flattr_owner")
    assert w.fake.thing_by_url("https://alice.example.org/fresh") is not None


# -- R18, R19 activities --------------------------------------------------------


def test_r18_r19_activities(w: World) -> None:
    w.alice.post(f"/things/{w.bobs.int_id}/flattr")
    for path in ("/users/alice/activities", "/users/alice/activities.as", "/user/activities"):
        reply = w.alice.get(path)
        assert reply.status_code == 200, path
        assert reply.headers["Content-Type"] == "application/stream+json"
        (item,) = reply.json()["items"]
        assert item["verb"] == "like" and item["actor"]["displayName"] == "alice"
        assert item["id"].endswith(f":alice/flattr/{w.bobs.int_id}")
    incoming = w.anon.get("/users/bob/activities", params={"type": "incoming"}).json()
    assert len(incoming["items"]) == 1
    assert w.anon.get("/users/bob/activities").json() == {"items": []}
    assert w.anon.get("/users/bob/activities.atom").status_code == 406
    assert_error(w.anon.get("/user/activities"), 401, "unauthorized")
    assert_error(w.anon.get("/users/nobody/activities"), 404, "not_found")


# -- R20-R23 subscriptions ------------------------------------------------------


def test_r20_to_r23_subscriptions(w: World) -> None:
    path = f"/things/{w.bobs.int_id}/subscriptions"
    created = w.alice.post(path)
    assert created.status_code == 200
    assert created.json()["message"] == "ok"
    assert created.json()["description"] == "Successfully subscribed to Thing"
    assert_error(w.alice.post(path), 403, "subscribed")
    assert_error(w.alice.post(f"/things/{w.own.int_id}/subscriptions"), 403, "thing_owner")
    (sub,) = w.alice.get("/user/subscriptions").json()
    assert sub["active"] is True and sub["thing"]["subscribed"] is True
    assert w.alice.request("PUT", path).json() == {
        "message": "paused",
        "description": "Subscription paused",
    }
    assert w.alice.get("/user/subscriptions").json()[0]["active"] is False
    assert w.alice.request("PUT", path).json()["message"] == "started"
    gone = w.alice.request("DELETE", path)
    assert gone.status_code == 204 and gone.content == b""
    assert w.alice.get("/user/subscriptions").json() == []
    assert_error(w.alice.request("DELETE", path), 404, "not_found")
    assert_error(w.alice.request("PUT", path), 404, "not_found")
    assert_error(w.alice.post("/things/999/subscriptions"), 404, "not_found")
    no_scope = w.as_user(w.fake.user, ("thing",))
    for method in ("GET", "POST", "PUT", "DELETE"):
        target = "/user/subscriptions" if method == "GET" else path
        assert_error(no_scope.request(method, target), 403, "insufficient_scope")


# -- R24-R26, formats, CORS, rate limit -----------------------------------------


def test_r24_r25_catalogues(w: World) -> None:
    categories = w.anon.get("/categories").json()
    assert [c["id"] for c in categories] == [
        "text",
        "images",
        "video",
        "audio",
        "software",
        "people",
        "rest",
    ]
    languages = w.anon.get("/languages.json").json()
    assert len(languages) == 45 and languages[0] == {"id": "en_GB", "text": "English"}
    text = w.anon.get("/languages.txt")
    assert text.headers["Content-Type"].startswith("text/plain")
    assert text.text.splitlines()[0] == "en_GB;English"


@pytest.mark.parametrize("suffix", ["xml", "yaml", "atom"])
def test_unknown_formats_are_406(w: World, suffix: str) -> None:
    assert_error(w.anon.get(f"/categories.{suffix}"), 406, "not_acceptable")


def test_accept_header_decides_too(w: World) -> None:
    assert_error(w.anon.get("/categories", headers={"Accept": "text/xml"}), 406, "not_acceptable")
    assert w.anon.get("/categories", headers={"Accept": "application/json"}).status_code == 200


def test_jsonp_wraps_answers_and_errors_with_200(w: World) -> None:
    reply = w.anon.get("/users/nobody", params={"jsonp": "cb"})
    assert reply.status_code == 200 and reply.text.startswith('cb({"error": "not_found"')
    assert w.anon.get("/categories", params={"jsonp": "a b"}).status_code == 400


def test_cors_headers_and_preflight(w: World) -> None:
    assert w.anon.get("/categories").headers["Access-Control-Allow-Origin"] == "*"
    preflight = w.anon.request("OPTIONS", "/things")
    assert preflight.status_code == 204
    assert "PATCH" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]


def test_unknown_path_and_method(w: World) -> None:
    assert_error(w.anon.get("/nothing"), 404, "not_found")
    assert_error(w.anon.get("/users/bob/verify"), 404, "not_found")
    reply = w.anon.request("DELETE", "/categories")
    assert reply.status_code == 405 and reply.headers["Allow"] == "GET"


def test_rate_limit_headers_and_r26() -> None:
    with FakeFlattr(v2_rate_limit=3) as fake, v2_api(fake, fake.issue_v2_token()) as api:
        first = api.get("/categories")
        assert first.headers["X-RateLimit-Limit"] == "3"
        assert first.headers["X-RateLimit-Remaining"] == "2"
        assert first.headers["X-RateLimit-Current"] == "1"
        reset = int(first.headers["X-RateLimit-Reset"])
        api.get("/categories")
        api.get("/categories")
        over = api.get("/categories")
        assert_error(over, 403, "rate_limit_exceeded")
        assert over.headers["X-RateLimit-Remaining"] == "0"
        state = api.get("/rate_limit")
        assert "X-RateLimit-Limit" not in state.headers
        body = state.json()
        assert body["hourly_limit"] == 3 and body["current_hits"] == 4
        assert body["remaining_hits"] == 0 and body["reset_time_in_seconds"] == reset
        assert body["reset_time"].endswith(" +0000 GMT")
        # anonymous callers have their own budget
        assert api.with_token(None).get("/categories").status_code == 200


def test_rate_window_resets_after_an_hour() -> None:
    now = [1_342_518_339.0]
    with FakeFlattr(clock=lambda: now[0], v2_rate_limit=1) as fake, v2_api(fake) as api:
        assert api.get("/categories").status_code == 200
        assert api.get("/categories").status_code == 403
        now[0] += 3600
        assert api.get("/categories").status_code == 200


def test_default_limit_is_1000_and_5000_in_early_2012() -> None:
    with FakeFlattr() as fake, v2_api(fake) as api:
        assert api.get("/categories").headers["X-RateLimit-Limit"] == "1000"
    with FakeFlattr(v2_mode="early-2012") as fake, v2_api(fake, fake.issue_v2_token()) as api:
        reply = api.get("/categories")
        assert reply.headers["X-RateLimit-Limit"] == "5000"
        assert "X-RateLimit-Current" not in reply.headers
        assert_error(api.get("/user/subscriptions"), 404, "not_found")


def test_2014_mode_quirks() -> None:
    with FakeFlattr(v2_mode="2014") as fake, v2_api(fake, fake.issue_v2_token()) as api:
        bob = fake.add_user("bob")
        thing = fake.add_thing(bob, url="https://bob.example.org/x", title="x")
        body = api.get(f"/things/{thing.int_id}").json()
        assert body["hidden"] == 0 and body["hidden"] is not False
        assert body["flattrs_user_count"] == "0"
        user = api.get("/users/bob").json()
        assert isinstance(user["id"], str) and user["active_supporter"] == 0
        fake.set_means(fake.user, 0)
        assert_error(api.post(f"/things/{thing.int_id}/flattr"), 401, "no_money")
    with pytest.raises(ValueError, match="v2_mode"):
        FakeFlattr(v2_mode="2020")


def test_escaped_like_php(w: World) -> None:
    w.fake.add_thing(w.bob, url="https://bob.example.org/m", title="Malmö/Lund")
    raw = w.anon.get("/users/bob/things").content
    assert b"Malm\\u00f6\\/Lund" in raw and b"https:\\/\\/" in raw


# -- shared with 0.0.1 ----------------------------------------------------------


def test_a_thing_registered_through_0_0_1_is_visible_through_v2(fake: FakeFlattr) -> None:
    token = fake.issue_access_token(scopes=("read", "publish"))
    with flattr.FlattrClient(
        fake.consumer.key, fake.consumer.secret, token, base_url=fake.base_url, timeout=10
    ) as old:
        registered = old.register_thing(
            url="https://alice.example.org/shared",
            title="Shared between APIs",
            category="text",
            description="Registered through 0.0.1",
            language="en_GB",
            tags=("both",),
        )
    with v2_api(fake) as api:
        lookup = api.get("/things/lookup", params={"url": "https://alice.example.org/shared"})
        assert lookup.status_code == 302
        thing = api.get(lookup.headers["Location"]).json()
    assert thing["id"] == registered.int_id
    assert thing["title"] == "Shared between APIs"
    assert thing["description"] == "Registered through 0.0.1"
    assert thing["tags"] == ["both"] and thing["owner"]["username"] == "alice"


def test_a_v2_flattr_counts_as_a_0_0_1_click(fake: FakeFlattr) -> None:
    bob = fake.add_user("bob")
    thing = fake.add_thing(bob, url="https://bob.example.org/y", title="Thing y")
    with v2_api(fake, fake.issue_v2_token()) as api:
        assert api.post(f"/things/{thing.int_id}/flattr").status_code == 200
    token = fake.issue_access_token(scopes=("read", "click"))
    with flattr.FlattrClient(
        fake.consumer.key, fake.consumer.secret, token, base_url=fake.base_url, timeout=10
    ) as old:
        seen = old.thing(thing.id)
    assert seen.clicks == 1


# -- with a state file -----------------------------------------------------------


def test_v2_changes_to_things_survive_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "v2.sqlite"
    with FakeFlattr(state=state) as fake, v2_api(fake, fake.issue_v2_token()) as api:
        bob = fake.add_user("bob")
        flattred = fake.add_thing(bob, url="https://bob.example.org/f", title="flattred")
        assert api.post(f"/things/{flattred.int_id}/flattr").status_code == 200
        kept = api.post("/things", json={"url": "https://alice.example.org/kept"}).json()["id"]
        gone = api.post("/things", json={"url": "https://alice.example.org/gone"}).json()["id"]
        fake.add_flattr(bob, fake.things[-1])  # a click on the thing about to go
        patch = api.request("PATCH", f"/things/{kept}", json={"title": "Kept", "tags": "a,b"})
        assert patch.status_code == 200
        assert api.request("DELETE", f"/things/{gone}").status_code == 204
    with FakeFlattr(state=state) as again, v2_api(again) as api:
        kept_now = api.get(f"/things/{kept}").json()
        assert (kept_now["title"], kept_now["tags"]) == ("Kept", ["a", "b"])
        assert_error(api.get(f"/things/{gone}"), 404, "not_found")
        assert again.thing_by_url("https://alice.example.org/gone") is None
        assert api.get(f"/things/{flattred.int_id}").json()["flattrs"] == 1


# -- odd requests ------------------------------------------------------------------


def test_bad_bodies_are_400_invalid_request(w: World) -> None:
    headers = {"Content-Type": "application/json"}
    for body in (b"{not json", b"[1, 2]", b"\xff\xfe"):
        assert_error(w.alice.post("/things", data=body, headers=headers), 400, "invalid_request")
    nested = w.alice.post("/things", json={"url": "https://a.example/", "title": {"x": 1}})
    assert_error(nested, 400, "invalid_parameters")


def test_post_with_another_method_override_is_not_an_update(w: World) -> None:
    reply = w.alice.post(f"/things/{w.own.int_id}", data={"_method": "delete"})
    assert reply.status_code == 405
    assert w.anon.get(f"/things/{w.own.int_id}").status_code == 200


def test_an_oauth_1_header_is_not_a_bearer_token(w: World) -> None:
    reply = w.anon.get("/categories", headers={"Authorization": 'OAuth oauth_token="x"'})
    assert_error(reply, 401, "unauthorized")


def test_concurrent_flattrs_of_one_thing_count_once(w: World) -> None:
    path = f"/things/{w.bobs.int_id}/flattr"
    token = w.alice.token

    def one(_: int) -> int:
        with v2_api(w.fake, token) as api:
            return api.post(path).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(one, range(8)))
    assert statuses == [200] + [403] * 7
    assert w.bobs.clicks == 1
