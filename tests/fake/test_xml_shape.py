"""The fake's XML has the shape of the real 2010 captures (tests/data/real-2010)."""

from __future__ import annotations

from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
import pytest

from flattr.testing import FakeFlattr, FakeThing, FakeUser, _xmlout
from tests.kit import DATA

from .kit import rest

CAPTURES = DATA / "real-2010"
P = "/rest/0.0.1/"


def capture(name: str) -> bytes:
    return (CAPTURES / name).read_bytes()


def shape(element: Element) -> list[object]:
    """Tag names, recursively, in document order."""
    return [(child.tag, shape(child)) if len(child) else child.tag for child in element]


def test_feeds_match_the_captures_byte_for_byte() -> None:
    for name, ours in (
        ("categories.xml", _xmlout.categories_document()),
        ("languages.xml", _xmlout.languages_document()),
    ):
        # The captures differ only in how many blank lines trail the document.
        assert ours == capture(name).rstrip() + b"\n"


def test_one_thing_matches_the_capture_byte_for_byte() -> None:
    owner = FakeUser(id=202, username="test303")
    thing = FakeThing(
        id="e01957d12b703d8fa1e186e7f52c7ff7",
        int_id=62392,
        owner=owner,
        url="http://developers.flattr.net",
        title="The flattr developer site",
        description="The developer corner for flattr integration developers.",
        category="rest",
        language="en_GB",
        created=1284566106,
    )
    assert _xmlout.envelope([_xmlout.thing_node(thing, "owner")]) == capture("one_thing.xml")


def test_live_thing_list_has_the_capture_shape(fake: FakeFlattr) -> None:
    fake.add_thing(
        fake.user,
        url="http://a.example/1",
        title="First thing",
        description="One.",
        category="rest",
    )
    fake.add_thing(fake.user, url="http://a.example/2", title="Second thing", description="Two.")
    reply = rest(fake, fake.issue_access_token()).get(P + "thing/listbyuser/id/")
    assert reply.header("Content-Type") == "text/xml; charset=utf-8"
    assert reply.body.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n\n<flattr>\n')
    ours = SafeET.fromstring(reply.body)
    real = SafeET.fromstring(capture("things.xml"))
    assert shape(ours) == shape(real)
    assert [c.tag for c in ours] == ["version", "thing", "thing"]  # no wrapper element


def test_thing_with_tags_puts_them_before_category(fake: FakeFlattr) -> None:
    thing = fake.add_thing(
        fake.user, url="http://a.example/t", title="Tagged", description="T.", tags=("x", "y")
    )
    reply = rest(fake, fake.issue_access_token()).get(P + f"thing/get/id/{thing.id}")
    children = [c.tag for c in SafeET.fromstring(reply.body).find("thing")]  # type: ignore[union-attr]
    real = [c.tag for c in SafeET.fromstring(capture("one_thing.xml")).find("thing")]  # type: ignore[union-attr]
    assert children == [*real[:9], "tags", *real[9:]]


def test_user_has_the_capture_order_with_email_last(fake: FakeFlattr) -> None:
    reply = rest(fake, fake.issue_access_token(scopes=("extendedread",))).get(P + "user/me")
    ours = SafeET.fromstring(reply.body)
    real = SafeET.fromstring(capture("user_info.xml"))
    assert shape(ours) == shape(real)
    assert b"<description>\n            Writes about birds.\n        </description>" in reply.body


def test_values_are_padded_on_their_own_lines(fake: FakeFlattr) -> None:
    reply = rest(fake, fake.issue_access_token()).get(P + "user/me")
    assert b"    <version>\n        0.0.1\n    </version>\n" in reply.body
    assert b"<![CDATA[" not in reply.body  # user description is plain text


@pytest.mark.parametrize(
    "text",
    ["a ]]> b", "]]>", "x]]]]>y", "& < > \" ' ~ + % é 🐦", "multi\nline\ttext"],
)
def test_cdata_and_escaping_round_trip(text: str) -> None:
    owner = FakeUser(id=1, username="u", description=text)
    thing = FakeThing(
        id="0" * 32, int_id=1, owner=owner, url="http://x/?a=1&b=2", title=text, description=text
    )
    doc = SafeET.fromstring(
        _xmlout.envelope(
            [
                _xmlout.thing_node(thing, "ok"),
                _xmlout.user_node(owner, thingcount=1, with_email=False),
            ]
        )
    )
    assert (doc.findtext("thing/story") or "").strip() == text.strip()
    assert (doc.findtext("thing/title") or "").strip() == text.strip()
    assert (doc.findtext("user/description") or "").strip() == text.strip()
    assert (doc.findtext("thing/url") or "").strip() == "http://x/?a=1&b=2"


def test_error_envelope_is_exactly_as_documented() -> None:
    assert _xmlout.error_document(404, "thing not found") == (
        b'<?xml version="1.0" encoding="utf-8"?><flattr><version>0.0.1</version>'
        b"<error><code>404</code><message>thing not found</message></error></flattr>"
    )
