"""The fake's v2 bodies have the shape of the official examples (tests/data/v2-examples).

Field by field: the same keys, and values of the same JSON type, recursively.
The only differences allowed are the documented quirks and the emulator
choices listed in ``QUIRKS`` and ``EXTRA``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from flattr.testing import FakeFlattr, FakeThing
from tests.kit import DATA

from .kit_v2 import V2, v2_api

EXAMPLES = DATA / "v2-examples"

#: Keys whose JSON type legitimately varies between the examples themselves.
QUIRKS: dict[str, set[str]] = {
    "hidden": {"bool", "int"},  # false in THING, 0 in THING_PUBLIC_2
    "url": {"str", "null"},  # a user's url: "http://flattr.com", or null in THING_FULL_OWNER
}
#: Keys the fake adds on purpose (emulator choices), per example file.
EXTRA: dict[str, set[str]] = {
    "flattr_create.json": {"location"},  # sent by the 2013 server, undocumented since 2012-01-26
    "token_response.json": {"scope"},  # the granted scopes (RFC 6749 allows it)
}


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    return {int: "int", float: "float", str: "str", list: "list", dict: "dict"}[type(value)]


def assert_same_shape(
    ours: Any, theirs: Any, where: str = "$", extra: frozenset[str] = frozenset()
) -> None:
    """``ours`` has ``theirs``'s keys and value types, recursively."""
    key = where.rsplit(".", 1)[-1]
    allowed = QUIRKS.get(key, {kind(theirs)}) | {kind(theirs)}
    assert kind(ours) in allowed, f"{where}: {kind(ours)} where the example has {kind(theirs)}"
    if isinstance(theirs, dict):
        assert set(ours) - extra == set(theirs), (
            f"{where}: keys differ: only ours {sorted(set(ours) - set(theirs) - extra)}, "
            f"only the example's {sorted(set(theirs) - set(ours))}"
        )
        for name, value in theirs.items():
            assert_same_shape(ours[name], value, f"{where}.{name}")
    elif isinstance(theirs, list) and theirs:
        assert ours, f"{where}: empty where the example has items"
        for index, item in enumerate(ours):
            model = theirs[index] if len(theirs) == len(ours) else theirs[0]
            assert_same_shape(item, model, f"{where}[{index}]")


def check(name: str, ours: Any) -> None:
    assert_same_shape(ours, example(name), extra=frozenset(EXTRA.get(name, ())))


@dataclass
class World:
    fake: FakeFlattr
    alice: V2
    anon: V2
    blog: FakeThing  # like thing 423405, owned by "flattr"
    gem: FakeThing  # like thing 450287, no image


@pytest.fixture
def w(fake: FakeFlattr) -> Iterator[World]:
    owner = fake.add_user("flattr", firstname="Flattr.com", description="The official account")
    fake.set_v2_profile(owner, url="http://flattr.com")
    smgt = fake.add_user("smgt", firstname="Simon", lastname="Gate", country="Sweden")
    blog = fake.add_thing(
        owner,
        url="http://blog.flattr.net/2011/10/api-v2-beta-out-whats-changed/",
        title="API v2 beta out - what's changed?",
        description="We have been working hard",
        tags=("api",),
        created=1319704532,
        image="http://flattr.com/thing/image/4/2/3/4/0/5/medium.png",
    )
    gem = fake.add_thing(
        smgt,
        url="https://github.com/simon/flattr",
        title="Ruby gem wrapping Flattrs API",
        category="software",
        tags=("gem", "ruby"),
        created=1323614098,
    )
    qzio = fake.add_user("qzio")
    fake.add_flattr(qzio, gem, created=1316697578)
    with v2_api(fake, fake.issue_v2_token(scopes=("flattr", "thing", "extendedread"))) as alice:
        yield World(fake, alice, alice.with_token(None), blog, gem)


def test_things_in_their_three_views(w: World) -> None:
    check("thing_public.json", w.anon.get(f"/things/{w.blog.int_id}").json())
    w.alice.post(f"/things/{w.blog.int_id}/subscriptions")
    check("thing.json", w.alice.get(f"/things/{w.blog.int_id}").json())
    owner = w.alice.with_token(w.fake.issue_v2_token(w.blog.owner))
    check("thing_full.json", owner.get(f"/things/{w.blog.int_id}").json())
    check("thing_public_2.json", w.anon.get(f"/things/{w.gem.int_id}").json())
    check("thing_full_owner.json", w.anon.get(f"/things/{w.gem.int_id}?full").json())


def test_thing_small_owner_differs_only_by_flattrs_user_count(w: World) -> None:
    # Emulator choice: flattrs_user_count only with ``full`` (the changelog's
    # small example has it, the main examples do not).
    ours = w.anon.get(f"/things/{w.gem.int_id}").json()
    theirs = example("thing_small_owner.json")
    del theirs["flattrs_user_count"]
    assert_same_shape(ours, theirs)


def test_lists_of_things(w: World) -> None:
    check("thing_many.json", w.anon.get(f"/things/{w.blog.int_id},{w.gem.int_id}").json())
    check("user_things.json", w.alice.get("/users/flattr/things").json())
    check("search.json", w.anon.get("/things/search", params={"query": "api"}).json())


def test_lookup_bodies(w: World) -> None:
    found = w.anon.get("/things/lookup", params={"url": w.blog.url})
    assert found.status_code == 302
    check("thing_lookup.json", found.json())
    missing = w.anon.get("/things/lookup", params={"url": "https://nowhere.example/"})
    check("thing_lookup_error.json", missing.json())
    assert missing.json() == example("thing_lookup_error.json")


def test_create_update_and_their_request_bodies_verbatim(w: World) -> None:
    created = w.alice.post("/things", json=example("thing_create_request.json"))
    assert created.status_code == 201
    check("thing_create.json", created.json())
    updated = w.alice.request(
        "PATCH", f"/things/{created.json()['id']}", json=example("thing_update_request.json")
    )
    check("thing_update.json", updated.json())
    assert updated.json() == example("thing_update.json")
    refused = w.alice.post("/things", json={"url": "nope"})
    check("thing_create_error.json", refused.json())
    assert (
        refused.json()["error_description"]
        == example("thing_create_error.json")["error_description"]
    )


def test_flattr_bodies(w: World) -> None:
    done = w.alice.post(f"/things/{w.blog.int_id}/flattr")
    check("flattr_create.json", done.json())
    assert done.json()["description"] == example("flattr_create.json")["description"]
    check("flattrs.json", w.anon.get("/users/qzio/flattrs").json())
    check("flattr.json", w.anon.get(f"/things/{w.gem.int_id}/flattrs").json()[0])


def test_flattr_url_request_verbatim_creates_and_flattrs(w: World) -> None:
    body = example("flattr_url_request.json")
    reply = w.alice.post("/flattr", json=body)
    # the example's inner URL is the blog thing, owned by "flattr": flattred, not created
    assert reply.status_code == 200
    assert reply.json()["thing"]["id"] == w.blog.int_id


def test_subscription_bodies(w: World) -> None:
    created = w.alice.post(f"/things/{w.blog.int_id}/subscriptions")
    check("subscription_create.json", created.json())
    assert created.json()["description"] == example("subscription_create.json")["description"]
    check("subscriptions.json", w.alice.get("/user/subscriptions").json())
    check("subscription.json", w.alice.get("/user/subscriptions").json()[0])
    paused = w.alice.request("PUT", f"/things/{w.blog.int_id}/subscriptions").json()
    assert paused == example("subscription_pause.json")
    assert w.alice.request("PUT", f"/things/{w.blog.int_id}/subscriptions").json() == example(
        "subscription_start.json"
    )


def test_users_and_activities(w: World) -> None:
    check("user.json", w.anon.get("/users/flattr").json())
    check("user_extended.json", w.alice.get("/user").json())
    check("activities.json", w.anon.get("/users/qzio/activities").json())


def test_catalogues_rate_limit_and_errors(w: World) -> None:
    assert w.anon.get("/categories").json() == example("categories.json")
    shortened = example("languages.json")
    assert w.anon.get("/languages").json()[: len(shortened)] == shortened
    check("rate_limit.json", w.anon.get("/rate_limit").json())
    check("error_not_found.json", w.anon.get("/things/nothing_here").json())


def test_token_request_and_response(fake: FakeFlattr) -> None:
    client = fake.oauth2_client
    url = f"{fake.base_url}/oauth/authorize?response_type=code&client_id={client.client_id}"
    code = fake.consent_v2(url).code
    assert code is not None
    body = {**example("token_request.json"), "code": code}
    del body["redirect_uri"]  # the authorize request sent none, so none must follow
    with requests.Session() as s:
        reply = s.post(
            f"{fake.base_url}/oauth/token",
            json=body,
            auth=(client.client_id, client.client_secret),
            timeout=10,
        )
    check("token_response.json", reply.json())


def test_the_comparison_can_fail() -> None:
    theirs = example("thing_public.json")
    with pytest.raises(AssertionError, match="keys differ"):
        assert_same_shape({k: v for k, v in theirs.items() if k != "image"}, theirs)
    with pytest.raises(AssertionError, match="int where the example has str"):
        assert_same_shape({**theirs, "title": 5}, theirs)
    with pytest.raises(AssertionError, match=r"owner\.username"):
        assert_same_shape({**theirs, "owner": {**theirs["owner"], "username": None}}, theirs)
