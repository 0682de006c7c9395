"""The pure parts of the entry-to-thing mapping: URLs, languages, text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flattr import _catalog
from flattr.feeds._mapping import (
    default_category,
    flattr_language,
    html_to_text,
    normalize_url,
    shorten,
)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        (
            "HTTPS://Blog.Example.ORG:443/Path/Post?Q=1#frag",
            "https://blog.example.org/Path/Post?Q=1",
        ),
        ("http://example.org:80", "http://example.org/"),
        ("http://example.org:8080/x", "http://example.org:8080/x"),
        ("https://example.org:80/x", "https://example.org:80/x"),
        ("http://[::1]:80/x", "http://[::1]/x"),
        ("http://[::1]:8000/x#y", "http://[::1]:8000/x"),
        ("  https://example.org/a b  ", "https://example.org/a b"),
        ("https://example.org/?", "https://example.org/"),
    ],
)
def test_normalize_url(raw: str, normalised: str) -> None:
    assert normalize_url(raw) == normalised
    assert normalize_url(normalised) == normalised


def test_every_flattr_language_maps_to_itself() -> None:
    for code, _ in _catalog.LANGUAGES:
        assert flattr_language(code) == code
        assert flattr_language(code.replace("_", "-").lower()) == code


@pytest.mark.parametrize(
    ("tag", "code"),
    [
        ("en-us", "en_GB"),
        ("EN", "en_GB"),
        ("de", "de_DE"),
        ("de-AT", "de_DE"),
        ("pt-BR", "pt_PT"),
        ("zh-Hant-TW", "zh_CN"),
        ("es-MX", "es_ES"),
        ("gl", "es_GL"),
        ("he", "iw_IL"),
        ("id", "in_ID"),
        ("nb-NO", "no_NO"),
        ("nn", "no_NO"),
        (" sv ", "sv_SE"),
        ("x-klingon", None),
        ("tlh", None),
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_flattr_language(tag: object, code: str | None) -> None:
    assert flattr_language(tag) == code


def test_html_to_text() -> None:
    html = (
        "<div><h1>Title</h1><p>One&nbsp;&amp;&#160;two &lt;three&gt;</p>"
        "<script>var x = '<p>no</p>';</script><style>p{}</style>"
        "<ul><li>a</li><li>b</li></ul>line<br>break<br/>again</div>"
    )
    assert html_to_text(html) == "Title\n\nOne & two <three>\n\na\nb\n\nline\nbreak\nagain"
    assert html_to_text("a\u0000b\u0007c\ufffe") == "abc"
    assert html_to_text("   ") == ""


def test_shorten_on_a_word_boundary() -> None:
    assert shorten("exactly ten", 11) == "exactly ten"
    assert shorten("The quick brown fox", 12) == "The quick…"
    assert shorten("The quick, brown fox", 12) == "The quick…"
    assert shorten("a" * 30, 10) == "a" * 9 + "…"


@given(st.text(), st.integers(min_value=2, max_value=200))
def test_shorten_never_exceeds_the_limit_and_keeps_a_prefix(text: str, limit: int) -> None:
    result = shorten(text, limit)
    assert len(result) <= limit
    if result != text:
        assert result.endswith("…")
        assert text.startswith(result[:-1])


def test_default_category() -> None:
    def entry(*enclosures: dict[str, str]) -> dict[str, object]:
        return {"links": [{"rel": "enclosure", **e} for e in enclosures]}

    assert default_category({}) == "text"
    assert default_category(entry({"type": "audio/mpeg", "href": "x"})) == "audio"
    assert default_category(entry({"type": "video/mp4", "href": "x"})) == "video"
    assert default_category(entry({"type": "image/png", "href": "x.mp3"})) == "text"
    assert default_category(entry({"href": "https://e.org/show.OGG"})) == "audio"
    assert default_category(entry({"type": "application/octet-stream", "href": "a.webm"})) == (
        "video"
    )
    assert default_category(entry({"href": "https://e.org/file.mp3/"})) == "text"
    both = entry({"type": "video/mp4", "href": "v"}, {"type": "audio/mpeg", "href": "a"})
    assert default_category(both) == "audio"
    assert default_category({"media_content": [{"medium": "video", "url": "x"}]}) == "video"
