"""Property tests: whatever bytes or XML tree arrive, every parser answers a model or ResponseError.

Nothing else may escape (no ``ParseError``, ``ValueError``, ``OverflowError``,
``UnicodeError``, ``KeyError`` ...), and a returned model is fully typed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flattr import _xml
from flattr.errors import ResponseError
from flattr.models import Category, Language, Thing, ThingStatus, User

PARSERS: dict[str, Callable[[bytes], Any]] = {
    "parse_user": _xml.parse_user,
    "parse_thing": _xml.parse_thing,
    "parse_things": _xml.parse_things,
    "parse_categories": _xml.parse_categories,
    "parse_languages": _xml.parse_languages,
    "parse_root": _xml.parse_root,
}

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# The names the parsers look for, so that generated trees get deep enough to
# reach the field checks, plus a few they do not know.
NAMES = [
    "flattr", "version", "user", "thing", "things", "id", "int_id", "username",
    "firstname", "lastname", "city", "country", "gravatar", "email", "description",
    "thingcount", "language", "languages", "category", "categories", "name", "url",
    "title", "story", "created", "clicks", "status", "tags", "tag", "error", "code",
    "message", "newfield", "x",
]  # fmt: skip

NUMBERISH = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["", " ", "abc", "1.5", "1e9", "0x10", "+7", "-0", "NaN", "9" * 5000]),
    # beyond what a timestamp can hold: year 10000, time_t overflow, far past
    st.sampled_from(["253402300800", "100000000000000000000", "-99999999999999"]),
)
TEXT = st.one_of(
    NUMBERISH,
    st.sampled_from(["owner", "inactive", "active", "text", "en_GB", "http://a.example/"]),
    st.text(max_size=40),
    st.just("y" * 5000),
)


def _check(value: Any) -> None:
    """A returned model is complete and typed: never half-filled."""
    if isinstance(value, User):
        assert isinstance(value.id, int) and isinstance(value.username, str)
    elif isinstance(value, Thing):
        assert isinstance(value.id, str) and isinstance(value.clicks, int)
        assert isinstance(value.created, datetime) and isinstance(value.status, ThingStatus)
        assert isinstance(value.owner.id, int)
    elif isinstance(value, tuple):
        for item in value:
            assert isinstance(item, Thing | Category | Language)
            _check(item)


def _feed(body: bytes) -> None:
    for name, parse in PARSERS.items():
        error: ResponseError | None = None
        try:
            result = parse(body)
        except ResponseError as exc:
            error = exc
        if error is not None:
            # the message and the excerpt stay short, whatever came in
            assert len(str(error)) <= 400, str(error)[:1000]
            assert len(error.excerpt) <= 200
        elif name != "parse_root":
            _check(result)
    # parse_error never raises: unreadable bodies simply carry no error
    error = _xml.parse_error(body)
    assert error is None or isinstance(error[1], str)


@FUZZ
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(body: bytes) -> None:
    _feed(body)


@FUZZ
@given(st.binary(max_size=500))
def test_arbitrary_bytes_after_an_xml_prolog(tail: bytes) -> None:
    _feed(b'<?xml version="1.0" encoding="utf-8"?>\n<flattr>' + tail)


@st.composite
def trees(draw: st.DrawFn, depth: int = 4) -> Element:
    def build(parent: Element, level: int) -> None:
        for _ in range(draw(st.integers(0, 4 if level < depth else 0))):
            child = SubElement(parent, draw(st.sampled_from(NAMES)))
            if draw(st.booleans()):
                child.set(draw(st.sampled_from(["type", "new", "id"])), draw(TEXT))
            if draw(st.booleans()):
                child.text = draw(TEXT)
            build(child, level + 1)

    root = Element(draw(st.sampled_from(["flattr", "flattr", "flattr", "rss", "user", "x" * 5000])))
    build(root, 0)
    return root


PREFIXES = st.sampled_from(
    [
        b"",
        b'<?xml version="1.0" encoding="utf-8"?>\n',
        b'<?xml version="1.0" encoding="iso-8859-1"?>\n',
        b'<?xml version="1.0" encoding="no-such-codec"?>\n',
        b"<!DOCTYPE flattr>\n",
        b'<!DOCTYPE flattr [<!ENTITY a "aaaaaaaaaa">]>\n',
        b'<!DOCTYPE flattr SYSTEM "http://127.0.0.1:9/x.dtd">\n',
        b"<!-- a comment -->\n",
        b"<?php echo 1; ?>\n",
        b"\xef\xbb\xbf",
    ]
)


@FUZZ
@given(trees(), PREFIXES, st.sampled_from(["utf-8", "utf-16", "latin-1"]))
def test_generated_xml_trees(root: Element, prefix: bytes, encoding: str) -> None:
    body = tostring(root, encoding="unicode")
    try:
        data = prefix + body.encode(encoding)
    except UnicodeEncodeError:
        data = prefix + body.encode("utf-8")
    _feed(data)


VALID_THING = {
    "id": "0123456789abcdef0123456789abcdef",
    "int_id": "42",
    "created": "1288000000",
    "clicks": "3",
    "status": "ok",
    "owner": "7",
    "username": "bob",
    "url": "http://a.example/",
    "title": "A title",
    "story": "A story",
    "language": "en_GB",
    "category": "text",
}
HOSTILE = st.one_of(NUMBERISH, TEXT, st.sampled_from(["ok", "owner", "clicked", "inactive"]))


@FUZZ
@given(st.dictionaries(st.sampled_from(sorted(VALID_THING)), HOSTILE, min_size=1, max_size=3))
def test_well_shaped_thing_with_hostile_values(overrides: dict[str, str]) -> None:
    """Every element present and valid but one to three, so each value check is reached."""
    values = {**VALID_THING, **overrides}
    flattr_root = Element("flattr")
    thing = SubElement(flattr_root, "thing")
    for name in ("id", "int_id", "created", "clicks", "status", "url", "title", "story"):
        SubElement(thing, name).text = values[name]
    SubElement(thing, "language").text = values["language"]
    owner = SubElement(thing, "user")
    SubElement(owner, "id").text = values["owner"]
    SubElement(owner, "username").text = values["username"]
    category = SubElement(thing, "category")
    SubElement(category, "id").text = values["category"]
    SubElement(category, "name").text = "Text"
    _feed(tostring(flattr_root))
