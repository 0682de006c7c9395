"""One feed entry to the fields of one Flattr thing (the mapping behind :mod:`flattr.feeds`).

Everything here is pure: it reads what :mod:`feedparser` made of an entry and
returns a :class:`ThingDraft` that passes the client's own checks, or raises
:class:`~flattr.errors.ValidationError` naming the field that cannot be made
valid. Nothing is sent from here.

The rules, in the order the fields are made:

- **url**: the entry's link, resolved against ``xml:base`` (done by
  feedparser), then the feed's website link, then the feed's own URL, and
  normalised by :func:`normalize_url`.
- **title**: the entry title as plain text on one line, cut to 100 characters
  on a word boundary. No title: the start of the description. Under 5
  characters (``"Ep 1"``): the feed title is appended, with a warning.
- **description**: the summary, else the content, as plain text (HTML
  stripped, entities decoded, paragraphs kept), cut to 1000 characters on a
  word boundary. Under 5 characters or empty: the title is used, with a
  warning.
- **tags**: the entry's categories, commas removed, empty ones dropped,
  de-duplicated without regard to case; overlong ones are dropped and more
  than 50 cut, with a warning.
- **language**: the first of the entry's and the feed's languages that maps
  onto one of Flattr's 45 (:func:`flattr_language`), else the caller's
  fallback.
- **category**: the caller's, else ``audio`` for an audio enclosure, ``video``
  for a video one, ``text`` otherwise.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, Final
from urllib.parse import urljoin, urlsplit, urlunsplit

from flattr import _catalog, _validate
from flattr.errors import ValidationError

__all__ = [
    "FeedContext",
    "ThingDraft",
    "default_category",
    "entry_link",
    "entry_title",
    "flattr_language",
    "html_to_text",
    "map_entry",
    "normalize_url",
    "shorten",
]

_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_ELLIPSIS: Final = "…"


@dataclass(frozen=True, slots=True, kw_only=True)
class ThingDraft:
    """The fields of a thing made from one feed entry, ready for ``register_thing``.

    Every field already passes the client's checks.
    """

    url: str
    title: str
    description: str
    category: str
    language: str
    tags: tuple[str, ...] = ()
    hidden: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-serialisable dict of the fields."""
        return {
            "url": self.url,
            "title": self.title,
            "description": self.description,
            "category": self.category,
            "language": self.language,
            "tags": list(self.tags),
            "hidden": self.hidden,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedContext:
    """What the mapping needs to know about the feed and the caller's choices.

    :ivar base_url: the URL relative entry links are resolved against
        (``""`` when none is known).
    :ivar feed_title: the feed's title as plain text.
    :ivar feed_language: the feed's language tag as written (``en-us``).
    :ivar category: the category forced by the caller, or ``None`` to guess.
    :ivar language: the Flattr language id used when none of the feed's maps.
    :ivar hidden: the ``hidden`` flag of every thing.
    """

    base_url: str = ""
    feed_title: str = ""
    feed_language: str | None = None
    category: str | None = None
    language: str | None = None
    hidden: bool = False


# -- URLs ------------------------------------------------------------------


def normalize_url(url: str) -> str:
    """The form of ``url`` used for registering and comparing.

    Scheme and host are lower-cased, the default port and the fragment are
    dropped and an empty path becomes ``/``; the path and query are kept as
    they are.

    >>> normalize_url("HTTPS://Blog.Example.org:443/Post?id=1#comments")
    'https://blog.example.org/Post?id=1'

    :raises ValidationError: the URL cannot be parsed (e.g. a bad port).
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ValidationError("url", f"is not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host
    if port is not None and _DEFAULT_PORTS.get(scheme) != port:
        netloc = f"{host}:{port}"
    userinfo, at, _ = parts.netloc.rpartition("@")
    if at:
        netloc = f"{userinfo}@{netloc}"
    path = parts.path or ("/" if netloc else "")
    return urlunsplit((scheme, netloc, path, parts.query, ""))


def _entry_url(entry: Mapping[str, Any], base_url: str) -> str:
    link = entry.get("link")
    if not isinstance(link, str) or not link.strip():
        link = next(
            (
                candidate.get("href")
                for candidate in entry.get("links") or ()
                if candidate.get("rel", "alternate") == "alternate" and candidate.get("href")
            ),
            None,
        )
    if not isinstance(link, str) or not link.strip():
        raise ValidationError("url", "the entry has no link")
    return _validate.thing_url(_absolute(link, base_url))


def _absolute(link: str, base_url: str) -> str:
    """``link`` stripped, made absolute against ``base_url`` (when given) and normalised.

    :raises ValidationError: the result cannot be parsed as a URL.
    """
    link = link.strip()
    return normalize_url(urljoin(base_url, link) if base_url else link)


# -- text ------------------------------------------------------------------

#: Elements whose start and end break a paragraph.
_BLOCKS: Final = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "ul",
    }
)
#: Elements that end a line.
_LINES: Final = frozenset({"br", "li", "tr"})
#: Elements separated from their neighbours by a space (table cells).
_CELLS: Final = frozenset({"td", "th"})
#: Elements whose content is not text for a reader.
_HIDDEN: Final = frozenset(
    {"head", "iframe", "noscript", "object", "script", "style", "svg", "template", "title"}
)
_SPACES: Final = re.compile(r"[^\S\n]+")
#: Control characters (Unicode category Cc) but tab and newline, lone
#: surrogates, and the two non-characters XML cannot carry.
_UNSAFE: Final = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_BLANK_LINES: Final = re.compile(r"\n{3,}")


class _TextExtractor(HTMLParser):
    """Collects the text a reader would see; decodes entities on the way."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag in _LINES:
            self.parts.append("\n")
        elif tag in _CELLS:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag in _LINES:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def _clean(text: str) -> str:
    """NFC, no characters XML cannot carry, spaces collapsed, at most one blank line."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _UNSAFE.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    r"""The text of an HTML fragment: tags stripped, entities decoded, paragraphs kept.

    >>> html_to_text("<p>Fish &amp; chips</p><p>at <b>noon</b></p><script>x()</script>")
    'Fish & chips\n\nat noon'
    """
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return _clean("".join(parser.parts))


def _detail_text(detail: Mapping[str, Any] | None, fallback: object = None) -> str:
    """Plain text of a feedparser text construct (``title_detail``, a ``content`` item)."""
    value = detail.get("value") if detail else fallback
    if not isinstance(value, str):
        return ""
    kind = str((detail or {}).get("type") or "text/html").lower()
    if "html" in kind:
        return html_to_text(value)
    return _clean(value)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters on a word boundary, with ``…``.

    A single word longer than half the limit is cut inside the word.

    >>> shorten("The quick brown fox", 12)
    'The quick…'
    """
    if len(text) <= limit:
        return text
    room = limit - len(_ELLIPSIS)
    head = text[: room + 1]
    boundary = max(head.rfind(" "), head.rfind("\n"), head.rfind("\t"))
    cut = text[:boundary] if boundary > room // 2 else text[:room]
    return cut.rstrip(" \n\t,;:") + _ELLIPSIS


def _entry_text(entry: Mapping[str, Any]) -> str:
    summary = _detail_text(entry.get("summary_detail"), entry.get("summary"))
    if summary:
        return summary
    for item in entry.get("content") or ():
        text = _detail_text(item)
        if text:
            return text
    return ""


def _title(entry: Mapping[str, Any], text: str, feed_title: str, warnings: list[str]) -> str:
    low, high = _catalog.TITLE_LENGTH
    raw = _one_line(_detail_text(entry.get("title_detail"), entry.get("title")))
    if not raw:
        raw = _one_line(text)
        if not raw:
            raise ValidationError("title", "the entry has no title and no text to make one from")
        warnings.append("the entry has no title; the start of its description is used")
    title = shorten(raw, high)
    if len(title) < low:
        if not feed_title:
            raise ValidationError(
                "title", f"{title!r} is shorter than {low} characters and the feed has no title"
            )
        title = shorten(f"{title} - {feed_title}", high)
        warnings.append(f"the title was shorter than {low} characters; the feed title was added")
    return title


def _description(text: str, title: str, warnings: list[str]) -> str:
    low, high = _catalog.DESCRIPTION_LENGTH
    if len(text) >= low:
        return shorten(text, high)
    if text:
        warnings.append(
            f"the summary was shorter than {low} characters; the title was put before it"
        )
        return shorten(f"{title} - {text}", high)
    warnings.append("the entry has no summary or content; the title is used as description")
    return title


# -- tags, language, category ------------------------------------------------


def _tags(entry: Mapping[str, Any], warnings: list[str]) -> tuple[str, ...]:
    result: list[str] = []
    seen: set[str] = set()
    for item in entry.get("tags") or ():
        term = item.get("term") or item.get("label") or ""
        if not isinstance(term, str):
            continue
        tag = _one_line(_clean(term.replace(",", " ")))
        if not tag or tag.casefold() in seen:
            continue
        if len(tag) > _catalog.MAX_TAG_LENGTH:
            warnings.append(f"dropped a tag longer than {_catalog.MAX_TAG_LENGTH} characters")
            continue
        seen.add(tag.casefold())
        result.append(tag)
    if len(result) > _catalog.MAX_TAGS:
        warnings.append(
            f"kept the first {_catalog.MAX_TAGS} of {len(result)} tags (Flattr's limit)"
        )
        del result[_catalog.MAX_TAGS :]
    return tuple(result)


_LANGUAGE_BY_ID: Final = {code.lower(): code for code, _ in _catalog.LANGUAGES}
#: ISO 639-1 code -> Flattr id; Flattr used the old codes for Hebrew and
#: Indonesian and lists Galician as ``es_GL``.
_LANGUAGE_BY_PRIMARY: Final = {
    **{code.split("_")[0].lower(): code for code, _ in _catalog.LANGUAGES if code != "es_GL"},
    "gl": "es_GL",
    "he": "iw_IL",
    "id": "in_ID",
    "nb": "no_NO",
    "nn": "no_NO",
}


def flattr_language(tag: object) -> str | None:
    """The Flattr language id for a language tag, or ``None`` when there is none.

    Flattr knows one variant per language, so the region is ignored unless it
    names that variant exactly.

    >>> flattr_language("en-us"), flattr_language("de"), flattr_language("sv_SE")
    ('en_GB', 'de_DE', 'sv_SE')
    >>> flattr_language("x-klingon") is None
    True
    """
    if not isinstance(tag, str) or not tag.strip():
        return None
    key = tag.strip().replace("-", "_").lower()
    exact = _LANGUAGE_BY_ID.get(key)
    if exact is not None:
        return exact
    return _LANGUAGE_BY_PRIMARY.get(key.split("_", 1)[0])


def _language_tags(entry: Mapping[str, Any]) -> Iterable[object]:
    yield entry.get("language")
    for name in ("title_detail", "summary_detail"):
        detail = entry.get(name)
        if detail:
            yield detail.get("language")
    for item in entry.get("content") or ():
        yield item.get("language")


def _language(entry: Mapping[str, Any], context: FeedContext) -> str:
    written = [tag for tag in (*_language_tags(entry), context.feed_language) if tag]
    for tag in written:
        code = flattr_language(tag)
        if code is not None:
            return code
    if context.language is not None:
        return context.language
    if written:
        raise ValidationError(
            "language",
            f"{written[0]!r} is not one of Flattr's 45 languages; "
            "pass language= (e.g. 'en_GB') to use one instead",
        )
    raise ValidationError(
        "language", "neither the entry nor the feed names a language; pass language= (e.g. 'en_GB')"
    )


_AUDIO_EXTENSIONS: Final = frozenset(
    {"aac", "aif", "aiff", "flac", "m4a", "m4b", "mp3", "mpga", "oga", "ogg", "opus", "wav", "wma"}
)
_VIDEO_EXTENSIONS: Final = frozenset(
    {"avi", "m4v", "mkv", "mov", "mp4", "mpeg", "mpg", "ogv", "webm", "wmv"}
)


def _media_kind(media_type: object, href: object) -> str | None:
    kind = str(media_type or "").split(";", 1)[0].strip().lower()
    if kind.startswith(("audio/", "video/")):
        return kind.split("/", 1)[0]
    if kind and kind not in ("application/octet-stream", "binary/octet-stream"):
        return None
    path = urlsplit(str(href or "")).path
    extension = path.rpartition(".")[2].lower() if "." in path.rpartition("/")[2] else ""
    if extension in _AUDIO_EXTENSIONS:
        return "audio"
    if extension in _VIDEO_EXTENSIONS:
        return "video"
    return None


def default_category(entry: Mapping[str, Any]) -> str:
    """``audio`` for an entry with an audio enclosure, ``video`` for video, else ``text``.

    The type comes from the enclosure's ``type``, or from the file extension
    when the type is missing or generic; Media RSS ``media:content`` counts too.
    """
    kinds: set[str] = set()
    for link in entry.get("links") or ():
        if link.get("rel") == "enclosure":
            kinds.add(_media_kind(link.get("type"), link.get("href")) or "")
    for media in entry.get("media_content") or ():
        medium = str(media.get("medium") or "").lower()
        kinds.add(medium if medium in ("audio", "video") else "")
        kinds.add(_media_kind(media.get("type"), media.get("url")) or "")
    if "audio" in kinds:
        return "audio"
    if "video" in kinds:
        return "video"
    return "text"


# -- the whole entry ---------------------------------------------------------


def map_entry(entry: Mapping[str, Any], context: FeedContext) -> tuple[ThingDraft, tuple[str, ...]]:
    """The thing for one feedparser entry, and warnings about what was adapted.

    :param entry: one item of feedparser's ``entries``.
    :param context: the feed's facts and the caller's choices.
    :returns: the draft and the warnings (``()`` when nothing was adapted).
    :raises ValidationError: a field cannot be made valid (``.field`` names
        it: ``url``, ``title`` or ``language``).
    """
    warnings: list[str] = []
    url = _entry_url(entry, context.base_url)
    text = _entry_text(entry)
    title = _title(entry, text, context.feed_title, warnings)
    draft = ThingDraft(
        url=url,
        title=_validate.title(title),
        description=_validate.description(_description(text, title, warnings)),
        category=context.category or default_category(entry),
        language=_language(entry, context),
        tags=_validate.tags(_tags(entry, warnings)),
        hidden=context.hidden,
    )
    return draft, tuple(warnings)


def entry_title(entry: Mapping[str, Any]) -> str:
    """The entry's title as one line of plain text, for reports (``""`` when none)."""
    return _one_line(_detail_text(entry.get("title_detail"), entry.get("title")))


def entry_link(entry: Mapping[str, Any], base_url: str) -> str:
    """The entry's link made absolute if possible, for reports (``""`` when none)."""
    link = entry.get("link")
    if not isinstance(link, str) or not link.strip():
        return ""
    try:
        return _absolute(link, base_url)
    except ValidationError:
        return link.strip()
