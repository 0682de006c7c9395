"""register_thing: every validation rule refuses before sending; valid text round-trips."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import flattr
from flattr.testing import FakeFlattr

VALID: dict[str, object] = {
    "url": "https://blog.example.org/2010/10/post",
    "title": "A valid title",
    "category": "text",
    "description": "A valid description.",
    "language": "en_GB",
    "tags": ("one", "two"),
    "hidden": False,
}

CASES: list[tuple[str, object]] = [
    # url: absolute http(s), no credentials, no blanks, at most 2048 characters
    ("url", ""),
    ("url", "blog.example.org/post"),
    ("url", "/2010/10/post"),
    ("url", "javascript:alert(1)"),
    ("url", "ftp://example.org/file"),
    ("url", "file:///etc/passwd"),
    ("url", "https://user:pw@example.org/"),
    ("url", "https://example.org/a b"),
    ("url", "https://example.org/" + "a" * 2049),
    ("url", "http://[::1/"),
    ("url", None),
    # title: 5 to 100 characters, one line
    ("title", ""),
    ("title", "    "),
    ("title", "abcd"),
    ("title", "  abc  "),
    ("title", "x" * 101),
    ("title", "two\nlines"),
    ("title", "nul\x00byte"),
    ("title", 12345),
    # description: 5 to 1000 characters
    ("description", "abc"),
    ("description", "y" * 1001),
    ("description", "bell \x07 rings"),
    ("description", "lone surrogate \ud800 here"),
    ("description", None),
    # category and language: from the fixed lists
    ("category", "textx"),
    ("category", "people"),
    ("category", "TEXT"),
    ("language", "en_US"),
    ("language", "en_XX"),
    ("language", "en-gb"),
    ("language", ""),
    # tags: non-empty, no comma, not one string
    ("tags", ("ok", "")),
    ("tags", ("a,b",)),
    ("tags", ("   ",)),
    ("tags", "birds"),
    ("tags", (1, 2)),
    ("tags", tuple(f"t{i}" for i in range(51))),
    ("tags", ("x" * 101,)),
    ("tags", ("new\nline",)),
    # hidden: a real bool
    ("hidden", "0"),
    ("hidden", 1),
    ("hidden", None),
]


@pytest.mark.parametrize(("field", "value"), CASES, ids=[f"{f}={v!r:.30}" for f, v in CASES])
def test_invalid_field_is_named_and_nothing_is_sent(
    client: flattr.FlattrClient, fake: FakeFlattr, field: str, value: object
) -> None:
    arguments = {**VALID, field: value}
    with pytest.raises(flattr.ValidationError) as info:
        client.register_thing(**arguments)  # type: ignore[arg-type]
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert fake.requests == []


def test_error_lists_what_is_allowed(client: flattr.FlattrClient) -> None:
    with pytest.raises(flattr.ValidationError) as info:
        client.register_thing(**{**VALID, "category": "textx"})  # type: ignore[arg-type]
    assert "text, images, video, audio, software, rest" in str(info.value)
    with pytest.raises(flattr.ValidationError) as info:
        client.register_thing(**{**VALID, "title": "abc"})  # type: ignore[arg-type]
    assert "5 to 100" in str(info.value)


def test_limits_are_inclusive(client: flattr.FlattrClient) -> None:
    thing = client.register_thing(
        url="http://example.org/limits",
        title="x" * 100,
        category="rest",
        description="y" * 1000,
        language="sv_SE",
    )
    assert (len(thing.title), len(thing.description)) == (100, 1000)
    short = client.register_thing(
        url="http://example.org/short",
        title="abcde",
        category="rest",
        description="fghij",
        language="sv_SE",
    )
    assert (short.title, short.description, short.tags) == ("abcde", "fghij", ())


def test_blanks_are_trimmed_and_newlines_normalised(client: flattr.FlattrClient) -> None:
    thing = client.register_thing(
        url="  http://example.org/trim  ",
        title="  Padded title\t",
        category="text",
        description="\r\n first line\r\nsecond line\rthird line  ",
        language="en_GB",
        tags=(" spaced ", "spaced", "other"),
    )
    assert thing.url == "http://example.org/trim"
    assert thing.title == "Padded title"
    assert thing.description == "first line\nsecond line\nthird line"
    assert thing.tags == ("spaced", "other")


# -- property: any valid text round-trips unchanged ---------------------------------

# Characters XML 1.0 can carry, minus C0/C1 controls (never valid in a title) and
# surrogates; the validators trim surrounding blanks, so generated values are trimmed.
_text_chars = st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff")


def _trimmed(
    low: int, high: int, alphabet: st.SearchStrategy[str] = _text_chars
) -> st.SearchStrategy[str]:
    return (
        st.text(alphabet, min_size=low, max_size=high)
        .map(str.strip)
        .filter(lambda s: low <= len(s) <= high)
    )


_description_chars = st.one_of(_text_chars, st.sampled_from("\n\t"))
# Valid tags: no comma, and not "." or ".." (browse puts tags in path segments).
_tag = _trimmed(1, 30).filter(lambda s: "," not in s and s not in (".", ".."))


@pytest.fixture(scope="module")
def shared_fake() -> FakeFlattr:
    with FakeFlattr() as server:
        yield server  # type: ignore[misc]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    title=_trimmed(5, 100),
    description=_trimmed(5, 1000, _description_chars),
    tags=st.lists(_tag, max_size=8, unique=True),
    path=st.text(string.ascii_letters + string.digits + "-._~", min_size=1, max_size=40),
)
def test_register_round_trips_arbitrary_valid_text(
    shared_fake: FakeFlattr, title: str, description: str, tags: list[str], path: str
) -> None:
    token = shared_fake.issue_access_token(scopes=("read", "publish"))
    with flattr.FlattrClient(
        shared_fake.consumer.key,
        shared_fake.consumer.secret,
        token,
        base_url=shared_fake.base_url,
    ) as client:
        url = f"http://example.org/{len(shared_fake.things)}/{path}"
        registered = client.register_thing(
            url=url,
            title=title,
            category="text",
            description=description,
            language="en_GB",
            tags=tags,
        )
        fetched = client.thing(registered.id)
    for thing in (registered, fetched):
        assert thing.title == title
        assert thing.description == description
        assert thing.tags == tuple(tags)
        assert thing.url == url
