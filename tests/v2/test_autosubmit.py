"""flattr.auto_submit_url: only the options given, checked like a thing, read back by a parser."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

import flattr
from flattr.errors import ValidationError


def _params(url: str) -> list[tuple[str, str]]:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://flattr.com/submit/auto"
    return parse_qsl(parts.query, keep_blank_values=True)


def test_only_the_required_parameters() -> None:
    url = flattr.auto_submit_url("alice", "https://example.org/a?b=1&c=2#d")
    assert _params(url) == [("user_id", "alice"), ("url", "https://example.org/a?b=1&c=2#d")]
    # the inner URL is encoded as a whole, so its own & and # cannot leak out
    assert "&c=" not in url and "#" not in url


def test_every_option_in_order() -> None:
    url = flattr.auto_submit_url(
        user_id="alice",
        url="https://example.org/ep1",
        title="Episode one",
        description="All about it\nin two lines",
        language="sv_SE",
        tags=("podcast", "ljud"),
        hidden=True,
        category="audio",
    )
    assert _params(url) == [
        ("user_id", "alice"),
        ("url", "https://example.org/ep1"),
        ("title", "Episode one"),
        ("description", "All about it\nin two lines"),
        ("language", "sv_SE"),
        ("tags", "podcast,ljud"),
        ("hidden", "1"),
        ("category", "audio"),
    ]
    assert " " not in url


def test_unset_and_empty_options_are_left_out() -> None:
    url = flattr.auto_submit_url(
        "alice",
        "https://example.org/",
        title="",
        description=None,
        language="",
        tags=[],
        hidden=False,
        category=None,
    )
    assert [name for name, _ in _params(url)] == ["user_id", "url"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"user_id": ""}, "user_id"),
        ({"user_id": "   "}, "user_id"),
        ({"user_id": None}, "user_id"),
        ({"user_id": "al ice"}, "user_id"),
        ({"url": ""}, "url"),
        ({"url": None}, "url"),
        ({"url": "ftp://example.org/"}, "url"),
        ({"url": "https://user:pw@example.org/"}, "url"),
        ({"title": "abc"}, "title"),
        ({"title": "x" * 101}, "title"),
        ({"description": "x" * 1001}, "description"),
        ({"language": "english"}, "language"),
        ({"category": "books"}, "category"),
        ({"tags": "a,b"}, "tags"),
        ({"tags": ["a,b"]}, "tags"),
        ({"hidden": 1}, "hidden"),
    ],
)
def test_bad_values_name_their_field(kwargs: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {"user_id": "alice", "url": "https://example.org/", **kwargs}
    with pytest.raises(ValidationError) as caught:
        flattr.auto_submit_url(**args)
    assert caught.value.field == field
