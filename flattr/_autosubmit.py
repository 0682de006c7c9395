"""Auto-submit URLs: a Flattr payment link for content that need not be registered yet.

>>> import flattr
>>> flattr.auto_submit_url("alice", "https://example.org/episode-1", title="Episode 1",
...                        tags=("podcast", "audio"), category="audio")
'https://flattr.com/submit/auto?user_id=alice&url=https%3A%2F%2Fexample.org%2Fepisode-1&title=Episode%201&tags=podcast%2Caudio&category=audio'

Flattr creates the thing on its first flattr. Put the URL, unchanged, in a
feed's or page's ``rel="payment"`` link (see the payment-links page).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from urllib.parse import quote, urlencode

from flattr import _validate
from flattr.errors import ValidationError
from flattr.v2 import _catalog
from flattr.v2._validate import check_category, check_language

__all__ = ["auto_submit_url"]


def _user_id(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("user_id", "must be the owner's Flattr username (not empty)")
    name = value.strip()
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cs") for ch in name):
        raise ValidationError("user_id", "must not contain spaces or control characters")
    return name


def auto_submit_url(
    user_id: str,
    url: str,
    title: str | None = None,
    description: str | None = None,
    language: str | None = None,
    tags: Iterable[str] = (),
    hidden: bool = False,
    category: str | None = None,
) -> str:
    """The auto-submit URL of a piece of content (``https://flattr.com/submit/auto?...``).

    Only the options given go into the URL: ``None`` and empty values are left
    out, and ``hidden=1`` appears only when ``hidden`` is true. The metadata is
    checked as for a thing (the button docs' limits: titles 5 to 100
    characters, descriptions 5 to 1000), before anything else.

    :param user_id: the owner's Flattr username.
    :param url: the content's absolute http(s) URL.
    :param title: its title.
    :param description: its description.
    :param language: a v2 language id (``en_GB``, ...).
    :param tags: tags, none with a comma.
    :param hidden: hide the thing from Flattr's listings.
    :param category: a v2 category id (``text``, ``audio``, ...).
    :returns: the URL, every value percent-encoded.
    :raises ValidationError: naming the field, for an empty ``user_id`` or
        ``url`` or any invalid value.
    """
    params = [("user_id", _user_id(user_id))]
    if not isinstance(url, str) or not url.strip():
        raise ValidationError("url", "must be the content's absolute http(s) URL (not empty)")
    params.append(("url", _validate.thing_url(url)))
    if title:
        params.append(("title", _validate.title(title)))
    if description:
        params.append(("description", _validate.description(description)))
    if language:
        params.append(("language", check_language(language)))
    checked_tags = _validate.tags(tags)
    if checked_tags:
        params.append(("tags", ",".join(checked_tags)))
    if _validate.hidden(hidden):
        params.append(("hidden", "1"))
    if category:
        params.append(("category", check_category(category)))
    return f"{_catalog.AUTO_SUBMIT_URL}?{urlencode(params, quote_via=quote, safe='')}"
