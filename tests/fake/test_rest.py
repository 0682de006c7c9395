"""Every REST resource of 0.0.1 and its failure answers."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from flattr._catalog import CATEGORIES, LANGUAGES
from flattr.testing import FakeFlattr, FakeThing, FakeUser

from .kit import Reply, Signer, rest

P = "/rest/0.0.1/"
ALL = ("read", "click", "publish", "extendedread")


def texts(reply: Reply, path: str) -> list[str]:
    return [(e.text or "").strip() for e in reply.xml.findall(path)]


@pytest.fixture
def bob(fake: FakeFlattr) -> FakeUser:
    return fake.add_user("bob", firstname="Bob", city="Malmö", country="Sweden")


@pytest.fixture
def api(fake: FakeFlattr) -> Signer:
    return rest(fake, fake.issue_access_token(scopes=ALL))


@pytest.fixture
def bobs_thing(fake: FakeFlattr, bob: FakeUser) -> FakeThing:
    return fake.add_thing(
        bob,
        url="http://bob.example/1",
        title="Bob's first",
        description="About tools.",
        tags=("tools", "DIY"),
        category="software",
    )


def error_of(reply: Reply) -> tuple[int, str]:
    assert reply.header("Content-Type") == "text/xml; charset=utf-8"
    code = reply.xml.findtext("error/code")
    assert code == str(reply.status)
    return reply.status, reply.xml.findtext("error/message") or ""


# -- users ---------------------------------------------------------------


def test_user_me_and_email_rules(fake: FakeFlattr, bob: FakeUser) -> None:
    plain = rest(fake, fake.issue_access_token(scopes=("read",)))
    assert plain.get(P + "user/me").xml.find("user/email") is None
    extended = rest(fake, fake.issue_access_token(scopes=("extendedread",)))
    me = extended.get(P + "user/me")
    assert texts(me, "user/email") == ["alice@example.org"]
    other = extended.get(P + f"user/get/id/{bob.id}")
    assert other.xml.find("user/email") is None
    own = extended.get(P + f"user/get/id/{fake.user.id}")
    assert texts(own, "user/email") == ["alice@example.org"]


def test_user_get_by_id_and_name(
    fake: FakeFlattr, api: Signer, bob: FakeUser, bobs_thing: FakeThing
) -> None:
    by_id = api.get(P + f"user/get/id/{bob.id}")
    assert texts(by_id, "user/username") == ["bob"]
    assert texts(by_id, "user/city") == ["Malmö"]
    assert texts(by_id, "user/thingcount") == ["1"]
    by_name = api.get(P + "user/get/name/bob")
    assert by_name.body == by_id.body
    assert error_of(api.get(P + "user/get/id/999")) == (404, "user not found")
    assert error_of(api.get(P + "user/get/id/abc"))[0] == 404
    assert error_of(api.get(P + "user/get/name/nobody"))[0] == 404


# -- things --------------------------------------------------------------


def test_thing_get_by_hex_and_int_id(api: Signer, bobs_thing: FakeThing) -> None:
    hexed = api.get(P + f"thing/get/id/{bobs_thing.id}")
    assert texts(hexed, "thing/id") == [bobs_thing.id]
    assert texts(hexed, "thing/status") == ["ok"]
    assert texts(hexed, "thing/tags/tag") == ["tools", "DIY"]
    assert texts(hexed, "thing/category/name") == ["Software"]
    assert api.get(P + f"thing/get/id/{bobs_thing.int_id}").body == hexed.body
    assert error_of(api.get(P + "thing/get/id/" + "0" * 32)) == (404, "thing not found")


def test_thing_get_by_url(api: Signer, bobs_thing: FakeThing) -> None:
    found = api.get(P + "thing/get/?url=" + quote(bobs_thing.url, safe=""))
    assert texts(found, "thing/id") == [bobs_thing.id]
    assert error_of(api.get(P + "thing/get/?url=http%3A%2F%2Fnope.example%2F"))[0] == 404
    assert error_of(api.get(P + "thing/get/"))[0] == 400


def test_listbyuser_hides_hidden_things_from_others(
    fake: FakeFlattr, api: Signer, bob: FakeUser
) -> None:
    mine = fake.add_thing(
        fake.user, url="http://a.example/1", title="Mine!", description="Visible."
    )
    secret = fake.add_thing(
        fake.user, url="http://a.example/2", title="Hidden", description="Shh.", hidden=True
    )
    own = api.get(P + "thing/listbyuser/id/")
    assert texts(own, "thing/id") == [mine.id, secret.id]
    assert texts(own, "thing/status") == ["owner", "owner"]
    assert api.get(P + "thing/listbyuser/id").body == own.body
    assert api.get(P + f"thing/listbyuser/id/{fake.user.id}").body == own.body
    as_bob = rest(fake, fake.issue_access_token(bob))
    seen = as_bob.get(P + f"thing/listbyuser/id/{fake.user.id}")
    assert texts(seen, "thing/id") == [mine.id]
    assert texts(as_bob.get(P + "thing/listbyuser/id/"), "thing/id") == []
    assert error_of(api.get(P + "thing/listbyuser/id/999"))[0] == 404


def test_click(fake: FakeFlattr, api: Signer, bob: FakeUser, bobs_thing: FakeThing) -> None:
    reply = api.get(P + f"thing/click/id/{bobs_thing.id}")
    assert reply.status == 200
    assert [child.tag for child in reply.xml] == ["version"]
    assert bobs_thing.clicks == 1
    after = api.get(P + f"thing/get/id/{bobs_thing.id}")
    assert texts(after, "thing/status") == ["clicked"]
    assert texts(after, "thing/clicks") == ["1"]
    repeat = api.get(P + f"thing/click/id/{bobs_thing.id}")
    assert repeat.status == 403
    assert bobs_thing.clicks == 1
    own = fake.add_thing(
        fake.user, url="http://a.example/own", title="Own thing", description="Mine."
    )
    assert error_of(api.get(P + f"thing/click/id/{own.id}"))[0] == 403
    assert error_of(api.get(P + "thing/click/id/" + "1" * 32))[0] == 404
    # GET only
    assert api.call("POST", P + f"thing/click/id/{bobs_thing.id}", form={}).status == 405


def test_click_needs_active_users(fake: FakeFlattr, api: Signer) -> None:
    carol = fake.add_user("carol", active=False)
    thing = fake.add_thing(carol, url="http://c.example/", title="Carol's", description="Inactive.")
    assert texts(api.get(P + f"thing/get/id/{thing.id}"), "thing/status") == ["inactive"]
    assert error_of(api.get(P + f"thing/click/id/{thing.id}"))[0] == 403
    dave = fake.add_user("dave", active=False)
    as_dave = rest(fake, fake.issue_access_token(dave, scopes=ALL))
    other = fake.add_thing(fake.user, url="http://a.example/x", title="For dave", description="Hi.")
    assert error_of(as_dave.get(P + f"thing/click/id/{other.id}"))[0] == 403
    assert other.clicks == 0
    assert thing.clicks == 0


THING_XML = (
    '<?xml version="1.0" encoding="utf-8"?>\n<thing>\n  <url>{url}</url>\n'
    "  <title><![CDATA[{title}]]></title>\n  <category>{category}</category>\n"
    "  <description><![CDATA[{description}]]></description>\n  <language>{language}</language>\n"
    "  <hidden>{hidden}</hidden>\n  <temporary>1</temporary>\n"
    '  <tags type="Array">{tags}</tags>\n</thing>'
)


def register(api: Signer, **fields: str) -> Reply:
    values = {
        "url": "http://blog.example.org/2010/10/second-post",
        "title": "Second post",
        "category": "text",
        "description": "What the second post is about.",
        "language": "en_GB",
        "hidden": "0",
        "tags": "<tag>birds</tag><tag>autumn</tag>",
    }
    values.update(fields)
    return api.call("POST", P + "thing/register", form={"data": THING_XML.format(**values)})


def test_register_success(fake: FakeFlattr, api: Signer) -> None:
    reply = register(api)
    assert reply.status == 200, reply.body
    assert texts(reply, "thing/status") == ["owner"]
    assert texts(reply, "thing/clicks") == ["0"]
    assert texts(reply, "thing/story") == ["What the second post is about."]
    assert texts(reply, "thing/tags/tag") == ["birds", "autumn"]
    thing = fake.thing_by_url("http://blog.example.org/2010/10/second-post")
    assert thing is not None
    assert texts(reply, "thing/id") == [thing.id]
    assert texts(reply, "thing/int_id") == [str(thing.int_id)]


def test_register_round_trips_awkward_text(fake: FakeFlattr, api: Signer) -> None:
    title = 'Tom & "Jerry" <3 ~+ é 🐦'
    story = "Ends with ]]> inside, & more: ü ~ + 🐦 'quoted'"
    data = (
        "<thing><url>http://a.example/odd?x=1&amp;y=2</url>"
        f"<title>{title.replace('&', '&amp;').replace('<', '&lt;')}</title>"
        f"<description>{story.replace('&', '&amp;').replace('>', '&gt;')}</description>"
        "<category>text</category><language>en_GB</language><hidden></hidden>"
        "<tags><tag>ü+~</tag></tags></thing>"
    )
    reply = api.call("POST", P + "thing/register", form={"data": data})
    assert reply.status == 200, reply.body
    got = api.get(P + "thing/get/?url=" + quote("http://a.example/odd?x=1&y=2", safe=""))
    assert texts(got, "thing/title") == [title]
    assert texts(got, "thing/story") == [story]
    assert texts(got, "thing/url") == ["http://a.example/odd?x=1&y=2"]
    assert texts(got, "thing/tags/tag") == ["ü+~"]


def test_register_hidden_and_no_tags(fake: FakeFlattr, api: Signer) -> None:
    reply = register(api, hidden="1", tags="")
    assert reply.status == 200
    assert reply.xml.find("thing/tags") is None
    thing = fake.things[-1]
    assert thing.hidden
    assert thing.tags == ()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"url": "ftp://x.example/"}, "url"),
        ({"url": "/relative"}, "url"),
        ({"url": "http://x.example/" + "a" * 2048}, "url"),
        ({"title": "abcd"}, "title"),
        ({"title": "x" * 101}, "title"),
        ({"description": "abc"}, "description"),
        ({"description": "x" * 1001}, "description"),
        ({"category": "textx"}, "category"),
        ({"language": "en_US"}, "language"),
        ({"tags": "<tag>a,b</tag>"}, "tags"),
        ({"tags": "<tag> </tag>"}, "tags"),
        ({"hidden": "maybe"}, "hidden"),
    ],
)
def test_register_validation(api: Signer, fields: dict[str, str], field: str) -> None:
    status, message = error_of(register(api, **fields))
    assert status == 500
    assert message.startswith(field)


def test_register_limits_are_inclusive(api: Signer) -> None:
    assert register(api, title="x" * 5, description="y" * 1000).status == 200
    assert (
        register(api, url="http://b.example/", title="x" * 100, description="y" * 5).status == 200
    )


def test_register_duplicate_url(fake: FakeFlattr, api: Signer, bob: FakeUser) -> None:
    assert register(api).status == 200
    status, message = error_of(register(api))
    assert status == 500
    assert "already registered" in message
    as_bob = rest(fake, fake.issue_access_token(bob, scopes=ALL))
    status, message = error_of(register(as_bob))
    assert status == 500
    assert "already registered" in message
    assert len(fake.things) == 1


@pytest.mark.parametrize(
    "data",
    [
        "not xml at all",
        "<user><url>x</url></user>",
        '<!DOCTYPE thing [<!ENTITY e "x">]><thing><title>&e;</title></thing>',
    ],
)
def test_register_bad_data(api: Signer, data: str) -> None:
    reply = api.call("POST", P + "thing/register", form={"data": data})
    assert error_of(reply)[0] == 500


def test_register_needs_post_and_publish(fake: FakeFlattr) -> None:
    reader = rest(fake, fake.issue_access_token(scopes=("read",)))
    status, message = error_of(register(reader))
    assert status == 403
    assert "publish" in message
    assert error_of(reader.get(P + "thing/register")) == (405, "use POST for this resource")


# -- feeds ---------------------------------------------------------------


def test_categories_and_languages(api: Signer) -> None:
    cats = api.get(P + "feed/categories")
    ids = texts(cats, "categories/category/id")
    names = texts(cats, "categories/category/name")
    assert list(zip(ids, names, strict=True)) == list(CATEGORIES)
    langs = api.get(P + "feed/languages")
    pairs = zip(
        texts(langs, "languages/language/id"), texts(langs, "languages/language/name"), strict=True
    )
    assert list(pairs) == list(LANGUAGES)


# -- search and browse ---------------------------------------------------


@pytest.fixture
def library(fake: FakeFlattr, bob: FakeUser) -> dict[str, FakeThing]:
    a = fake.user
    return {
        "cake": fake.add_thing(
            a,
            url="http://a.example/cake",
            title="Gemüsekuchen recipe",
            description="Bake it.",
            tags=("food",),
            language="de_DE",
        ),
        "birds": fake.add_thing(
            a,
            url="http://a.example/birds",
            title="Birds of Lund",
            description="Spring RECIPE for birdwatching.",
            tags=("birds",),
        ),
        "tools": fake.add_thing(
            bob,
            url="http://b.example/tools",
            title="Tool list",
            description="Hammers.",
            tags=("tools", "recipe"),
            category="images",
        ),
        "hidden": fake.add_thing(
            bob, url="http://b.example/h", title="Hidden recipe", description="Secret.", hidden=True
        ),
    }


def ids(reply: Reply) -> set[str]:
    assert reply.status == 200, reply.body
    return set(texts(reply, "thing/id"))


def test_search(api: Signer, library: dict[str, FakeThing]) -> None:
    found = ids(api.get(P + "thing/search/q/recipe"))
    assert found == {library[k].id for k in ("cake", "birds", "tools")}
    assert ids(api.get(P + "thing/search/q/" + quote("gemüsekuchen"))) == {library["cake"].id}
    assert ids(api.get(P + "thing/search/q/nothing-like-it")) == set()
    assert error_of(api.get(P + "thing/search/q/"))[0] in (400, 404)


def test_browse(api: Signer, library: dict[str, FakeThing], bob: FakeUser) -> None:
    lib = library
    assert ids(api.get(P + "thing/browse/tag/birds,tools")) == {lib["birds"].id, lib["tools"].id}
    assert ids(api.get(P + "thing/browse/query/recipe/category/text")) == {
        lib["cake"].id,
        lib["birds"].id,
    }
    assert ids(api.get(P + "thing/browse/language/de_DE")) == {lib["cake"].id}
    assert ids(api.get(P + f"thing/browse/user/{bob.id}")) == {lib["tools"].id}
    assert ids(api.get(P + "thing/browse/user/bob,alice/tag/food")) == {lib["cake"].id}
    assert ids(api.get(P + "thing/browse/category/images/language/en_GB")) == {lib["tools"].id}
    assert ids(api.get(P + "thing/browse/query/" + quote("secret"))) == set()  # hidden
    assert error_of(api.get(P + "thing/browse"))[0] == 400
    assert error_of(api.get(P + "thing/browse/colour/red"))[0] == 400
    assert error_of(api.get(P + "thing/browse/tag"))[0] == 400


# -- routing, scopes, rate limit -----------------------------------------


def test_unknown_path_and_method(fake: FakeFlattr, api: Signer) -> None:
    assert error_of(api.get(P + "thing/nothing"))[0] == 404
    assert error_of(api.get("/nowhere"))[0] == 404
    reply = api.call("POST", P + "user/me", form={})
    assert reply.status == 405
    assert reply.header("Allow") == "GET"


def test_scopes(fake: FakeFlattr, bobs_thing: FakeThing) -> None:
    clicker = rest(fake, fake.issue_access_token(scopes=("click",)))
    assert error_of(clicker.get(P + "user/me"))[0] == 403
    assert clicker.get(P + f"thing/click/id/{bobs_thing.id}").status == 200


def test_rate_limit() -> None:
    now = [1_300_000_000.0]
    with FakeFlattr(rate_limit=2, clock=lambda: now[0]) as fake:
        api = Signer(fake, fake.consumer, fake.issue_access_token())
        stamp = str(int(now[0]))
        assert api.get(P + "user/me", timestamp=stamp).status == 200
        assert api.get(P + "user/me", timestamp=stamp).status == 200
        assert error_of(api.get(P + "user/me", timestamp=stamp)) == (403, "rate limit exceeded")
        other = Signer(fake, fake.consumer, fake.issue_access_token())
        assert other.get(P + "user/me", timestamp=stamp).status == 200
        now[0] += 3600
        assert api.get(P + "user/me", timestamp=str(int(now[0]))).status == 200
