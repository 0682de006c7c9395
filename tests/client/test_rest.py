"""Every REST 0.0.1 resource (R1-R12) over real HTTP against FakeFlattr, with its failures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

import flattr
from flattr import ThingStatus
from flattr.testing import FakeFlattr, FakeThing, FakeUser

MakeClient = Callable[..., flattr.FlattrClient]


@pytest.fixture
def bob(fake: FakeFlattr) -> FakeUser:
    return fake.add_user("bob", firstname="Bob", lastname="Builder", city="Malmö", country="Sweden")


@pytest.fixture
def bobs_post(fake: FakeFlattr, bob: FakeUser) -> FakeThing:
    return fake.add_thing(
        bob,
        url="http://bob.example.org/2010/10/birds",
        title="Birds of Skåne",
        description="A post about birds & bees <3",
        category="text",
        language="sv_SE",
        tags=("birds", "spring"),
        created=1288000000,
    )


# -- R1-R3: users ---------------------------------------------------------------


def test_me(client: flattr.FlattrClient, fake: FakeFlattr) -> None:
    me = client.me()
    assert me.id == fake.user.id
    assert me.username == "alice"
    assert me.firstname == "Alice"
    assert me.email == fake.user.email  # the client fixture holds extendedread
    assert me.thingcount == 0
    assert me.language == "en_GB"
    assert me.gravatar is not None and me.gravatar.startswith("https://")


def test_email_needs_extendedread(make_client: MakeClient, fake: FakeFlattr, bob: FakeUser) -> None:
    assert make_client(scopes=("read",)).me().email is None
    # readextended is the other spelling of the same scope
    assert make_client(scopes=("readextended",)).me().email == fake.user.email
    # never someone else's email, whatever the scope
    assert make_client().user(id=bob.id).email is None


def test_user_by_id_and_by_name(client: flattr.FlattrClient, bob: FakeUser) -> None:
    by_id = client.user(id=bob.id)
    by_name = client.user(name="bob")
    assert by_id == by_name
    assert by_id.city == "Malmö"
    assert by_id.lastname == "Builder"


def test_unknown_user_is_not_found(client: flattr.FlattrClient) -> None:
    with pytest.raises(flattr.NotFoundError) as info:
        client.user(name="nobody")
    assert info.value.status == 404
    assert info.value.path == "/rest/0.0.1/user/get/name/nobody"
    with pytest.raises(flattr.NotFoundError):
        client.user(id=999_999)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"id": 1, "name": "alice"},
        {"id": 0},
        {"id": "1"},
        {"id": True},
        {"name": ""},
        {"name": "a/b"},
    ],
)
def test_user_arguments_are_checked_before_sending(
    client: flattr.FlattrClient, fake: FakeFlattr, kwargs: dict[str, object]
) -> None:
    with pytest.raises(flattr.ValidationError) as info:
        client.user(**kwargs)  # type: ignore[arg-type]
    assert info.value.field in {"id", "name"}
    assert fake.requests == []


# -- R4, R5, R12: things ---------------------------------------------------------


def test_thing_by_hex_id_and_int_id(client: flattr.FlattrClient, bobs_post: FakeThing) -> None:
    thing = client.thing(bobs_post.id)
    assert thing == client.thing(bobs_post.int_id)
    assert thing.id == bobs_post.id
    assert thing.int_id == bobs_post.int_id
    assert thing.title == "Birds of Skåne"
    assert thing.description == "A post about birds & bees <3"
    assert thing.category == flattr.Category(id="text", name="Written text")
    assert thing.language == "sv_SE"
    assert thing.tags == ("birds", "spring")
    assert thing.owner == flattr.Owner(id=bobs_post.owner.id, username="bob")
    assert thing.created == datetime(2010, 10, 25, 9, 46, 40, tzinfo=UTC)
    assert thing.clicks == 0
    assert thing.status is ThingStatus.OK


def test_unknown_thing(client: flattr.FlattrClient) -> None:
    with pytest.raises(flattr.NotFoundError) as info:
        client.thing("0" * 32)
    assert "404" in str(info.value)


def test_things_of_a_user_hide_hidden_ones_from_others(
    client: flattr.FlattrClient,
    make_client: MakeClient,
    fake: FakeFlattr,
    bob: FakeUser,
    bobs_post: FakeThing,
) -> None:
    fake.add_thing(
        bob,
        url="http://bob.example.org/secret",
        title="Hidden post",
        description="Not for listings",
        hidden=True,
    )
    seen_by_alice = client.things(bob.id)
    assert [t.id for t in seen_by_alice] == [bobs_post.id]
    bobs_own = make_client(user=bob).things()
    assert {t.url for t in bobs_own} == {bobs_post.url, "http://bob.example.org/secret"}
    assert all(t.status is ThingStatus.OWNER for t in bobs_own)


def test_things_of_unknown_user(client: flattr.FlattrClient) -> None:
    with pytest.raises(flattr.NotFoundError):
        client.things(424242)


def test_thing_by_url(client: flattr.FlattrClient, bobs_post: FakeThing) -> None:
    found = client.thing_by_url(bobs_post.url)
    assert found is not None and found.id == bobs_post.id
    assert client.thing_by_url("http://bob.example.org/never-registered?a=1&b=2") is None
    with pytest.raises(flattr.ValidationError) as info:
        client.thing_by_url("javascript:alert(1)")
    assert info.value.field == "url"


# -- R6: click -------------------------------------------------------------------


def test_click_counts_once(
    client: flattr.FlattrClient, fake: FakeFlattr, bobs_post: FakeThing
) -> None:
    client.click(bobs_post.id)
    after = client.thing(bobs_post.id)
    assert after.clicks == 1
    assert after.status is ThingStatus.CLICKED
    with pytest.raises(flattr.ForbiddenError) as info:
        client.click(bobs_post.id)
    assert info.value.status == 403
    assert client.thing(bobs_post.id).clicks == 1
    # the click is a GET but changes state: each call is sent exactly once
    assert len(fake.requests_to("/rest/0.0.1/thing/click/")) == 2


def test_click_own_thing_is_forbidden(client: flattr.FlattrClient, fake: FakeFlattr) -> None:
    mine = fake.add_thing(
        fake.user,
        url="http://alice.example.org/a",
        title="My own post",
        description="Written by alice",
    )
    with pytest.raises(flattr.ForbiddenError):
        client.click(mine.id)
    assert client.thing(mine.id).status is ThingStatus.OWNER


def test_click_needs_the_click_scope(make_client: MakeClient, bobs_post: FakeThing) -> None:
    with pytest.raises(flattr.ForbiddenError) as info:
        make_client(scopes=("read",)).click(bobs_post.id)
    assert "scope" in str(info.value)


def test_click_inactive_owner_and_unknown_thing(
    client: flattr.FlattrClient, fake: FakeFlattr
) -> None:
    carol = fake.add_user("carol", active=False)
    dormant = fake.add_thing(
        carol, url="http://carol.example.org/", title="Dormant blog", description="Nobody home"
    )
    assert client.thing(dormant.id).status is ThingStatus.INACTIVE
    with pytest.raises(flattr.ForbiddenError):
        client.click(dormant.id)
    with pytest.raises(flattr.NotFoundError):
        client.click("f" * 32)


# -- R7: register ------------------------------------------------------------------


def register(client: flattr.FlattrClient, **overrides: object) -> flattr.Thing:
    fields: dict[str, object] = {
        "url": "http://alice.example.org/2010/10/first-post",
        "title": "My first post",
        "category": "text",
        "description": "A short text about the first post.",
        "language": "en_GB",
        "tags": ("birds", "spring"),
    }
    fields.update(overrides)
    return client.register_thing(**fields)  # type: ignore[arg-type]


def test_register_thing(client: flattr.FlattrClient, fake: FakeFlattr) -> None:
    thing = register(client)
    assert len(thing.id) == 32
    assert thing.int_id is not None
    assert thing.status is ThingStatus.OWNER
    assert thing.clicks == 0
    assert thing.owner.username == "alice"
    assert thing.tags == ("birds", "spring")
    stored = fake.thing_by_url("http://alice.example.org/2010/10/first-post")
    assert stored is not None and stored.id == thing.id
    assert client.thing(thing.id) == thing
    assert client.me().thingcount == 1
    (call,) = fake.requests_to("/rest/0.0.1/thing/register")
    assert call.method == "POST"
    assert call.header("Content-Type") == "application/x-www-form-urlencoded"
    assert list(call.query) == []


def test_register_sends_one_data_field_holding_the_thing_document(
    client: flattr.FlattrClient, fake: FakeFlattr
) -> None:
    from urllib.parse import parse_qs

    import defusedxml.ElementTree as ET

    register(client, hidden=True)
    (call,) = fake.requests_to("/rest/0.0.1/thing/register")
    form = parse_qs(call.body.decode("ascii"))
    assert list(form) == ["data"]
    document = ET.fromstring(form["data"][0])
    assert document.tag == "thing"
    assert document.findtext("description") == "A short text about the first post."
    assert document.findtext("hidden") == "1"
    assert [t.text for t in document.iter("tag")] == ["birds", "spring"]


def test_hidden_thing_is_registered_but_not_listed_publicly(
    client: flattr.FlattrClient, fake: FakeFlattr, bob: FakeUser, make_client: MakeClient
) -> None:
    register(client, hidden=True, tags=("unlisted",))
    assert make_client(user=bob).things(fake.user.id) == ()
    assert client.search("first post") == ()
    assert len(client.things()) == 1


def test_register_duplicate_url(client: flattr.FlattrClient, fake: FakeFlattr) -> None:
    first = register(client)
    with pytest.raises(flattr.RegistrationError) as info:
        register(client, title="Same URL again")
    error = info.value
    assert error.status == 500
    assert error.duplicate is True
    assert "thing_by_url" in str(error)
    assert client.thing_by_url(first.url) == first
    assert len(fake.things) == 1


def test_register_url_owned_by_someone_else(
    client: flattr.FlattrClient, bobs_post: FakeThing
) -> None:
    with pytest.raises(flattr.RegistrationError) as info:
        register(client, url=bobs_post.url)
    assert info.value.duplicate


def test_register_needs_publish(make_client: MakeClient, fake: FakeFlattr) -> None:
    with pytest.raises(flattr.ForbiddenError):
        register(make_client(scopes=("read", "click")))
    assert fake.things == ()


def test_text_survives_the_round_trip_exactly(client: flattr.FlattrClient) -> None:
    title = 'Räksmörgås & "quotes" <b>~+ 50% off ]]> 🐦'
    description = "Line one & two < three\nline 2: ~ + = % ' \" ]]> 日本語 🐝"
    tags = ("a&b", "<tag>", "~tilde+plus", "ümlaut", "🐦", "semi;colon")
    thing = register(
        client,
        title=title,
        description=description,
        tags=tags,
        url="http://example.org/path?a=1&b=%2F~x+y",
    )
    again = client.thing(thing.id)
    assert (again.title, again.description, again.tags) == (title, description, tags)
    assert again.url == "http://example.org/path?a=1&b=%2F~x+y"


# -- R8, R9: categories and languages ---------------------------------------------


def test_categories(client: flattr.FlattrClient) -> None:
    categories = client.categories()
    assert [c.id for c in categories] == ["text", "images", "video", "audio", "software", "rest"]
    assert categories[-1] == flattr.Category(id="rest", name="The rest")


def test_languages(client: flattr.FlattrClient) -> None:
    languages = client.languages()
    assert len(languages) == 45
    assert languages[0] == flattr.Language(id="sq_AL", name="Albanian")
    assert flattr.Language(id="en_GB", name="English") in languages
    assert "en_US" not in {lang.id for lang in languages}


# -- R10, R11: search and browse --------------------------------------------------


@pytest.fixture
def library(fake: FakeFlattr, bob: FakeUser) -> dict[str, FakeThing]:
    return {
        "cake": fake.add_thing(
            bob,
            url="http://bob.example.org/cake",
            title="Gemüsekuchen recipe",
            description="Vegetable cake, step by step",
            tags=("food",),
            language="de_DE",
        ),
        "slash": fake.add_thing(
            bob,
            url="http://bob.example.org/io",
            title="Input/Output basics",
            description="AC/DC and friends",
            category="software",
            tags=("io", "tech"),
        ),
        "song": fake.add_thing(
            fake.user,
            url="http://alice.example.org/song",
            title="A song about spring",
            description="Listen to it",
            category="audio",
            tags=("music", "spring"),
        ),
        "hidden": fake.add_thing(
            bob,
            url="http://bob.example.org/hidden",
            title="Hidden cake notes",
            description="Draft",
            hidden=True,
        ),
    }


def test_search_encodes_the_query_as_one_segment(
    client: flattr.FlattrClient, fake: FakeFlattr, library: dict[str, FakeThing]
) -> None:
    assert [t.id for t in client.search("gemüsekuchen")] == [library["cake"].id]
    assert [t.id for t in client.search("input/output")] == [library["slash"].id]
    assert [t.id for t in client.search("step by step")] == [library["cake"].id]
    assert client.search("no such words anywhere") == ()
    assert "/thing/search/q/gem%C3%BCsekuchen" in fake.requests[0].path
    with pytest.raises(flattr.ValidationError):
        client.search("   ")


def test_search_never_shows_hidden_things(
    client: flattr.FlattrClient, library: dict[str, FakeThing]
) -> None:
    assert [t.id for t in client.search("cake")] == [library["cake"].id]


def test_browse_combines_criteria(
    client: flattr.FlattrClient, fake: FakeFlattr, bob: FakeUser, library: dict[str, FakeThing]
) -> None:
    ids = lambda things: {t.id for t in things}  # noqa: E731
    assert ids(client.browse(categories=["audio", "software"])) == {
        library["song"].id,
        library["slash"].id,
    }
    assert ids(client.browse(tags=["spring"], categories=["audio"])) == {library["song"].id}
    assert ids(client.browse(tags=["spring"], categories=["text"])) == set()
    assert ids(client.browse(users=[bob.id])) == {library["cake"].id, library["slash"].id}
    assert ids(client.browse(users=["alice"], query="song")) == {library["song"].id}
    assert ids(client.browse(languages=["de_DE"])) == {library["cake"].id}
    assert fake.requests[-1].path == "/rest/0.0.1/thing/browse/language/de_DE"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "criteria"),
        ({"categories": ["textx"]}, "category"),
        ({"languages": ["en_XX"]}, "language"),
        ({"tags": ["a,b"]}, "tags"),
        ({"tags": [""]}, "tags"),
        ({"query": " "}, "query"),
        ({"users": [0]}, "id"),
    ],
)
def test_browse_arguments_are_checked_before_sending(
    client: flattr.FlattrClient, fake: FakeFlattr, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(flattr.ValidationError) as info:
        client.browse(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field
    assert fake.requests == []


# -- authentication failures on REST calls ------------------------------------------


def test_revoked_token(fake: FakeFlattr) -> None:
    token = fake.issue_access_token()
    client = flattr.FlattrClient(
        fake.consumer.key, fake.consumer.secret, token, base_url=fake.base_url
    )
    assert client.me().username == "alice"
    fake.revoke(token.key)
    with pytest.raises(flattr.AuthenticationError) as info:
        client.me()
    assert info.value.status == 401
    assert info.value.code == "token_rejected"
    assert "authorize again" in str(info.value)
    assert token.secret not in str(info.value)
    client.close()


def test_wrong_token_secret(fake: FakeFlattr) -> None:
    token = fake.issue_access_token()
    with (
        flattr.FlattrClient(
            fake.consumer.key, fake.consumer.secret, (token.key, "wrong"), base_url=fake.base_url
        ) as client,
        pytest.raises(flattr.AuthenticationError) as info,
    ):
        client.me()
    assert info.value.code == "signature_invalid"


def test_clock_skew_is_explained(fake: FakeFlattr) -> None:
    import time

    with FakeFlattr(clock=lambda: time.time() + 3600) as future:
        token = future.issue_access_token()
        with (
            flattr.FlattrClient(
                future.consumer.key, future.consumer.secret, token, base_url=future.base_url
            ) as client,
            pytest.raises(flattr.AuthenticationError) as info,
        ):
            client.me()
    assert info.value.code == "timestamp_refused"
    assert "clock" in str(info.value)


def test_forbidden_hints_name_the_scope_only_when_it_is_the_cause(
    make_client: MakeClient, bobs_post: FakeThing
) -> None:
    client = make_client()
    client.click(bobs_post.id)
    with pytest.raises(flattr.ForbiddenError) as repeat:
        client.click(bobs_post.id)
    assert "already flattred" in str(repeat.value)
    assert "scope" not in str(repeat.value)
    with pytest.raises(flattr.ForbiddenError) as scope:
        make_client(scopes=("read",)).click(bobs_post.id)
    assert str(scope.value).endswith("Authorize again, asking for the click scope")
    assert scope.value.missing_scope == "click"
    assert scope.value.advice is flattr.Advice.ADD_SCOPE
