"""Fixed facts of Flattr's REST API v2: hosts, scopes, categories, languages, paging.

Both the v2 client (to validate before sending) and the fake server may read
these tables. The categories are the seven of the official ``/categories``
example; the full v2 language list was never published (the docs showed four
entries and said the list was shortened), so it is the 45 languages of API
0.0.1 with ``en_GB`` first, as the docs' example had it.
"""

from __future__ import annotations

from typing import Final

from flattr import _catalog as _v1

__all__ = [
    "API_BASE_URL",
    "AUTH_BASE_URL",
    "AUTO_SUBMIT_URL",
    "CATEGORIES",
    "CATEGORY_IDS",
    "LANGUAGES",
    "LANGUAGE_IDS",
    "MAX_IDS",
    "MAX_PAGE_SIZE",
    "REST_PREFIX",
    "SCOPES",
    "SEARCH_SORTS",
]

#: Where the REST resources live (``/rest/v2`` is appended).
API_BASE_URL: Final = "https://api.flattr.com"
#: Where the OAuth 2 pages live (``/oauth/authorize``, ``/oauth/token``).
AUTH_BASE_URL: Final = "https://flattr.com"
REST_PREFIX: Final = "/rest/v2"
#: The prefix clients recognise Flattr payment links by.
AUTO_SUBMIT_URL: Final = "https://flattr.com/submit/auto"

#: The scopes a v2 token can carry.
SCOPES: Final[tuple[str, ...]] = ("flattr", "thing", "email", "extendedread")

#: ``(id, text)`` of every category, in the server's order.
CATEGORIES: Final[tuple[tuple[str, str], ...]] = (
    ("text", "Text"),
    ("images", "Images"),
    ("video", "Video"),
    ("audio", "Audio"),
    ("software", "Software"),
    ("people", "People"),
    ("rest", "Other"),
)

#: ``(id, text)`` of every language: ``en_GB`` first, then 0.0.1's order.
LANGUAGES: Final[tuple[tuple[str, str], ...]] = (
    ("en_GB", "English"),
    *(entry for entry in _v1.LANGUAGES if entry[0] != "en_GB"),
)

CATEGORY_IDS: Final[frozenset[str]] = frozenset(cid for cid, _ in CATEGORIES)
LANGUAGE_IDS: Final[frozenset[str]] = frozenset(lid for lid, _ in LANGUAGES)

#: The most items one page may ask for (the fake clamps larger counts to it).
MAX_PAGE_SIZE: Final = 100
#: The most ids one ``/things/:id,:id`` call may carry.
MAX_IDS: Final = 100

#: The values ``/things/search`` accepts for ``sort``.
SEARCH_SORTS: Final[frozenset[str]] = frozenset(
    {"relevance", "trend", "flattrs", "flattrs_month", "flattrs_week", "flattrs_day"}
)
