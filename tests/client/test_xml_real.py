"""The parser reads every real 2010 response exactly (tests/data/real-2010/)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import flattr
from flattr import _xml
from flattr.models import Category, Language, Owner, Thing, ThingStatus, User
from tests.kit import DATA

CAPTURES = DATA / "real-2010"

DEVELOPER_SITE = Thing(
    id="e01957d12b703d8fa1e186e7f52c7ff7",
    int_id=62392,
    created=datetime.fromtimestamp(1284566106, UTC),
    language="en_GB",
    url="http://developers.flattr.net",
    title="The flattr developer site",
    description="The developer corner for flattr integration developers.",
    clicks=0,
    owner=Owner(id=202, username="test303"),
    category=Category(id="rest", name="The rest"),
    status=ThingStatus.OWNER,
    tags=(),
)
TESTING = Thing(
    id="e1c6d59abe633b4ad59fc753ca36e6e8",
    int_id=695,
    created=datetime.fromtimestamp(1272620596, UTC),
    language="en_GB",
    url="http://testingtesting.com",
    title="Flattr is testing",
    description="This is a test!",
    clicks=0,
    owner=Owner(id=202, username="test303"),
    category=Category(id="text", name="Written text"),
    status=ThingStatus.OWNER,
    tags=(),
)


def body(name: str) -> bytes:
    return (CAPTURES / name).read_bytes()


def test_user_info() -> None:
    assert _xml.parse_user(body("user_info.xml")) == User(
        id=2,
        username="someusername",
        firstname="some_firstname",
        lastname="some_lastname",
        # the real server HTML-escaped the city before XML-escaping it; the
        # parser keeps the text as sent rather than guessing
        city="Malm&ouml;",
        country="St. Pierre and Miquelon",
        gravatar="https://secure.gravatar.com/avatar/somehash",
        email="some@email",
        description="description of the user.",
        thingcount=2,
        language="en_GB",
    )


def test_one_thing() -> None:
    assert _xml.parse_thing(body("one_thing.xml")) == DEVELOPER_SITE


@pytest.mark.parametrize("name", ["things.xml", "user_things.xml"])
def test_thing_lists_without_wrapper(name: str) -> None:
    assert _xml.parse_things(body(name)) == (DEVELOPER_SITE, TESTING)


def test_categories() -> None:
    assert _xml.parse_categories(body("categories.xml")) == (
        Category(id="text", name="Written text"),
        Category(id="images", name="Images"),
        Category(id="video", name="Video"),
        Category(id="audio", name="Audio"),
        Category(id="software", name="Software"),
        Category(id="rest", name="The rest"),
    )


def test_languages_match_the_catalogue() -> None:
    from flattr import _catalog

    languages = _xml.parse_languages(body("languages.xml"))
    assert languages == tuple(Language(id=i, name=n) for i, n in _catalog.LANGUAGES)
    assert len(languages) == 45


def test_fake_flattr_answers_in_the_same_shape(client: flattr.FlattrClient, fake) -> None:  # type: ignore[no-untyped-def]
    """FakeFlattr pads values like the real server, and the parser reads both alike."""
    import defusedxml.ElementTree as ET

    fake.add_thing(
        fake.user,
        url="http://alice.example.org/x",
        title="Padded like 2010",
        description="Story text",
    )
    client.things()
    live = fake.requests_to("/rest/0.0.1/thing/listbyuser/")[0]
    assert live.status == 200
    real_order = [child.tag for child in ET.fromstring(body("one_thing.xml")).find("thing")]
    # the fake's own answer, fetched raw, has the real element order
    import http.client
    from urllib.parse import urlsplit

    from flattr._http import Credentials, Request, sign

    token = fake.issue_access_token()
    url = f"{fake.base_url}/rest/0.0.1/thing/listbyuser/id/"
    signed = sign(
        Request("GET", url),
        Credentials(fake.consumer.key, fake.consumer.secret, token.key, token.secret),
    )
    conn = http.client.HTTPConnection(urlsplit(fake.base_url).netloc, timeout=10)
    try:
        conn.request("GET", urlsplit(url).path, headers=signed.headers)
        raw = conn.getresponse().read()
    finally:
        conn.close()
    fake_order = [child.tag for child in ET.fromstring(raw).find("thing")]
    assert fake_order == real_order
    assert b"<id>\n" in raw  # values padded with newlines, as in 2010
    assert b"<![CDATA[Story text]]>" in raw
    assert _xml.parse_things(raw)[0].title == "Padded like 2010"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"<flattr><version>0.0.1</version></flattr>", "no <user>"),
        (b"<flattr><user><id>1</id></user></flattr>", "<username>"),
        (b"<flattr><user><id>abc</id><username>x</username></user></flattr>", "<id>"),
        (
            b"<flattr><user><id>1</id><username>x</username><thingcount>many</thingcount>"
            b"</user></flattr>",
            "<thingcount>",
        ),
        (b"<html><body>Bad Gateway</body></html>", "<flattr>"),
        (b"<flattr><user><id>1</id>", "well-formed"),
        (b"", "well-formed"),
    ],
)
def test_broken_user_documents_name_the_problem(document: bytes, message: str) -> None:
    with pytest.raises(flattr.ResponseError) as info:
        _xml.parse_user(document)
    assert message in str(info.value)


def test_unknown_elements_are_ignored() -> None:
    document = body("user_info.xml").replace(
        b"<username>", b"<newfield a='1'>x</newfield><username>"
    )
    assert _xml.parse_user(document).username == "someusername"


def test_unknown_status_is_an_error_not_a_guess() -> None:
    document = body("one_thing.xml").replace(b"owner", b"hidden", 1)
    with pytest.raises(flattr.ResponseError) as info:
        _xml.parse_thing(document)
    assert "<status>" in str(info.value)
