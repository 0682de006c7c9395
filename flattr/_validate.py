"""Input checks, run before anything is sent.

Each function either returns the value in the form the wire needs or raises
:class:`~flattr.errors.ValidationError` naming the field and saying what is
allowed. Limits come from :mod:`flattr._catalog`, the same table the fake
server enforces.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from flattr import _catalog
from flattr.errors import ValidationError

__all__ = [
    "base_url",
    "callback",
    "category",
    "credential",
    "description",
    "hidden",
    "language",
    "scopes",
    "tags",
    "thing_id",
    "thing_url",
    "title",
    "user_id",
    "username",
]


def credential(field: str, value: object) -> str:
    """A consumer key/secret or token part: a non-empty string without spaces."""
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a string, not {type(value).__name__}")
    if not value.strip():
        raise ValidationError(field, "must not be empty")
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in value):
        raise ValidationError(field, "must not contain spaces or control characters")
    return value


def base_url(value: object) -> str:
    """The server root, e.g. ``https://api.flattr.com``, without a trailing slash."""
    if not isinstance(value, str) or not value:
        raise ValidationError("base_url", "must be an absolute http(s) URL")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            "base_url", f"must be an absolute http(s) URL such as {_catalog.DEFAULT_BASE_URL}"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValidationError("base_url", "must not carry a query, fragment or credentials")
    return value.rstrip("/")


def callback(value: object) -> str:
    """An OAuth callback: an absolute http(s) URL, or ``"oob"`` for the PIN flow."""
    if value == "oob":
        return "oob"
    if isinstance(value, str):
        parts = urlsplit(value)
        if parts.scheme in ("http", "https") and parts.hostname and not parts.fragment:
            return value
    raise ValidationError(
        "callback_url", "must be an absolute http(s) URL (without #fragment) or 'oob'"
    )


def scopes(value: object) -> tuple[str, ...]:
    """Scope names, de-duplicated, in canonical spelling (``readextended`` → ``extendedread``)."""
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, Iterable):
        raise ValidationError("scopes", "must be a sequence of scope names")
    result: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise ValidationError("scopes", f"scope names are strings, not {type(item).__name__}")
        name = item.strip().lower()
        name = _catalog.SCOPE_ALIASES.get(name, name)
        if name not in _catalog.SCOPES:
            allowed = ", ".join(_catalog.SCOPES)
            raise ValidationError("scopes", f"unknown scope {item!r}; choose from {allowed}")
        if name not in result:
            result.append(name)
    if not result:
        raise ValidationError("scopes", "name at least one scope (usually 'read')")
    return tuple(result)


def _forbidden_char(text: str, *, allow_newlines: bool) -> str | None:
    for ch in text:
        if ch in "\n\t" and allow_newlines:
            continue
        kind = unicodedata.category(ch)
        if kind in ("Cc", "Cs") or ch in "\ufffe\uffff":
            return ch
    return None


def _text(field: str, value: object, limits: tuple[int, int], *, multiline: bool) -> str:
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a string, not {type(value).__name__}")
    text = value.replace("\r\n", "\n").replace("\r", "\n") if multiline else value
    text = text.strip()
    low, high = limits
    if not low <= len(text) <= high:
        raise ValidationError(
            field, f"must be {low} to {high} characters long (got {len(text)} after trimming)"
        )
    bad = _forbidden_char(text, allow_newlines=multiline)
    if bad is not None:
        raise ValidationError(field, f"contains a character XML cannot carry: {bad!r}")
    return text


def title(value: object) -> str:
    """A thing title: 5 to 100 characters on one line, surrounding blanks trimmed."""
    return _text("title", value, _catalog.TITLE_LENGTH, multiline=False)


def description(value: object) -> str:
    """A thing description: 5 to 1000 characters, line breaks normalised to LF."""
    return _text("description", value, _catalog.DESCRIPTION_LENGTH, multiline=True)


def thing_url(value: object, field: str = "url") -> str:
    """The content URL of a thing: absolute http(s), no credentials, at most 2048 characters."""
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a string, not {type(value).__name__}")
    url = value.strip()
    if len(url) > _catalog.MAX_URL_LENGTH:
        raise ValidationError(field, f"must be at most {_catalog.MAX_URL_LENGTH} characters long")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        has_credentials = parts.username is not None or parts.password is not None
    except ValueError as exc:
        raise ValidationError(field, f"is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise ValidationError(field, "must be an absolute http:// or https:// URL")
    if has_credentials:
        raise ValidationError(field, "must not contain a user name or password")
    if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in url):
        raise ValidationError(field, "must not contain spaces or control characters")
    return url


def category(value: object) -> str:
    """A category id from ``feed/categories`` (``text``, ``images``, ...)."""
    if value not in _catalog.CATEGORY_IDS:
        allowed = ", ".join(cid for cid, _ in _catalog.CATEGORIES)
        raise ValidationError("category", f"unknown category {value!r}; choose from {allowed}")
    return str(value)


def language(value: object) -> str:
    """A language id from ``feed/languages`` (``en_GB``, ``sv_SE``, ...)."""
    if value not in _catalog.LANGUAGE_IDS:
        raise ValidationError(
            "language",
            f"unknown language {value!r}; use a code such as en_GB, de_DE or sv_SE "
            "(client.languages() lists all 45)",
        )
    return str(value)


def tags(value: object) -> tuple[str, ...]:
    """Tags: each non-empty, without commas, de-duplicated in order."""
    if isinstance(value, str):
        raise ValidationError("tags", "must be a sequence of strings, not one string")
    if not isinstance(value, Iterable):
        raise ValidationError("tags", "must be a sequence of strings")
    result: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise ValidationError("tags", f"each tag must be a string, not {type(item).__name__}")
        tag = item.strip()
        if not tag:
            raise ValidationError("tags", "a tag must not be empty")
        if "," in tag:
            raise ValidationError("tags", f"a tag must not contain a comma: {tag!r}")
        if len(tag) > _catalog.MAX_TAG_LENGTH:
            raise ValidationError(
                "tags", f"a tag must be at most {_catalog.MAX_TAG_LENGTH} characters long"
            )
        bad = _forbidden_char(tag, allow_newlines=False)
        if bad is not None:
            raise ValidationError("tags", f"a tag contains a character XML cannot carry: {bad!r}")
        if tag not in result:
            result.append(tag)
    if len(result) > _catalog.MAX_TAGS:
        raise ValidationError("tags", f"at most {_catalog.MAX_TAGS} tags")
    return tuple(result)


def hidden(value: object) -> bool:
    """The ``hidden`` flag: a real bool (``"0"`` would be true in Python)."""
    if not isinstance(value, bool):
        raise ValidationError("hidden", f"must be True or False, not {value!r}")
    return value


def _segment(field: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "must be a non-empty string")
    if "/" in value or any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValidationError(field, "must not contain '/' or control characters")
    return value.strip()


def thing_id(value: object) -> str:
    """A thing id: the 32-hex ``id``, or the numeric ``int_id``."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise ValidationError("thing_id", "must be positive")
        return str(value)
    return _segment("thing_id", value)


def user_id(value: Any) -> int:
    """A numeric user id."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationError("id", f"must be a positive integer, not {value!r}")
    return value


def username(value: object) -> str:
    """A user name, as one path segment."""
    return _segment("name", value)
