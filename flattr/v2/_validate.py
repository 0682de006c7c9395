"""Input checks of API v2: every argument is refused here, naming its field, before any I/O.

Where v2 shares a rule with 0.0.1 (URLs, categories, tags) the check is
:mod:`flattr._validate`'s; what differs (integer ids, no title or
description length limits, the v2 catalogue) lives here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Final

from flattr import _validate
from flattr.errors import ValidationError
from flattr.v2 import _catalog

__all__ = [
    "MAX_AUTO_SUBMIT_URL_LENGTH",
    "check_category",
    "check_language",
    "check_lookup_url",
    "check_tags",
    "check_text",
    "check_thing_id",
    "check_username",
    "one_or_more",
]


def check_thing_id(value: object, field: str = "thing_id") -> int:
    """A thing id: a positive int (a string of decimal digits is read as one)."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise ValidationError(field, f"must be a positive integer, not {value!r}")
    return value


#: Auto-submit URLs carry a whole thing's metadata, so they may be longer
#: than a content URL (``flattr._catalog.MAX_URL_LENGTH``).
MAX_AUTO_SUBMIT_URL_LENGTH: Final = 8192
_AUTO_SUBMIT: Final = re.compile(r"https?://(?:www\.)?flattr\.com/submit/auto/?\?", re.I)


def check_lookup_url(value: object, field: str = "url") -> str:
    """A URL to look up or flattr: a content URL, or an auto-submit URL (up to 8192 characters)."""
    if isinstance(value, str) and _AUTO_SUBMIT.match(value.strip()):
        url = value.strip()
        if len(url) > MAX_AUTO_SUBMIT_URL_LENGTH:
            raise ValidationError(
                field, f"an auto-submit URL must be at most {MAX_AUTO_SUBMIT_URL_LENGTH} characters"
            )
        if any(ch.isspace() or unicodedata.category(ch) == "Cc" for ch in url):
            raise ValidationError(field, "must not contain spaces or control characters")
        return url
    return _validate.thing_url(value, field)


def check_text(field: str, value: object, *, multiline: bool) -> str:
    """A title or description: any string without NUL or other control characters.

    v2 documents no length limits for things, so none are invented here.
    """
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a string, not {type(value).__name__}")
    for ch in value:
        if multiline and ch in "\n\r\t":
            continue
        if unicodedata.category(ch) in ("Cc", "Cs"):
            raise ValidationError(field, f"must not contain the control character {ch!r}")
    return value


def check_category(value: object) -> str:
    """A v2 category id (``text``, ``images``, ``video``, ``audio``, ``software``, ...)."""
    if not isinstance(value, str) or value not in _catalog.CATEGORY_IDS:
        allowed = ", ".join(cid for cid, _ in _catalog.CATEGORIES)
        raise ValidationError("category", f"unknown category {value!r}; choose from {allowed}")
    return value


def check_language(value: object) -> str:
    """A v2 language id (``en_GB``, ``sv_SE``, ...)."""
    if not isinstance(value, str) or value not in _catalog.LANGUAGE_IDS:
        raise ValidationError(
            "language",
            f"unknown language {value!r}; use a code such as en_GB, de_DE or sv_SE "
            "(client.languages() lists them)",
        )
    return value


def check_tags(value: object) -> str:
    """Tags as the wire carries them: one comma-separated string."""
    return ",".join(_validate.tags(value))


def one_or_more(field: str, value: object, check: Callable[[object], str]) -> str:
    """One id, or several (a sequence), comma-joined for search."""
    if isinstance(value, str):
        return check(value)
    if not isinstance(value, Iterable):
        raise ValidationError(field, "must be an id or a sequence of ids")
    items = [check(item) for item in value]
    if not items:
        raise ValidationError(field, "must name at least one id")
    return ",".join(items)


def check_username(value: object, field: str = "username") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "must be a non-empty string")
    if "/" in value or any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise ValidationError(field, "must not contain '/' or control characters")
    return value.strip()
