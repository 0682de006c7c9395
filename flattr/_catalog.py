"""Fixed facts of the Flattr REST 0.0.1 API: categories, languages, scopes and limits.

Both the client (to validate before sending) and :mod:`flattr.testing` (to
answer like the real server) read these tables, so the two can never drift.
The values are the ones Flattr's servers returned in 2010.
"""

from __future__ import annotations

from typing import Final

#: ``(id, name)`` of every category, in the server's order.
CATEGORIES: Final[tuple[tuple[str, str], ...]] = (
    ("text", "Written text"),
    ("images", "Images"),
    ("video", "Video"),
    ("audio", "Audio"),
    ("software", "Software"),
    ("rest", "The rest"),
)

#: ``(id, name)`` of every language, in the server's order (45 entries).
LANGUAGES: Final[tuple[tuple[str, str], ...]] = (
    ("sq_AL", "Albanian"),
    ("ar_DZ", "Arabic"),
    ("be_BY", "Belarusian"),
    ("bg_BG", "Bulgarian"),
    ("ca_ES", "Catalan"),
    ("zh_CN", "Chinese"),
    ("hr_HR", "Croatian"),
    ("cs_CZ", "Czech"),
    ("da_DK", "Danish"),
    ("nl_NL", "Dutch"),
    ("en_GB", "English"),
    ("et_EE", "Estonian"),
    ("fi_FI", "Finnish"),
    ("fr_FR", "French"),
    ("de_DE", "German"),
    ("el_GR", "Greek"),
    ("iw_IL", "Hebrew"),
    ("hi_IN", "Hindi"),
    ("hu_HU", "Hungarian"),
    ("is_IS", "Icelandic"),
    ("in_ID", "Indonesian"),
    ("ga_IE", "Irish"),
    ("it_IT", "Italian"),
    ("ja_JP", "Japanese"),
    ("ko_KR", "Korean"),
    ("lv_LV", "Latvian"),
    ("lt_LT", "Lithuanian"),
    ("mk_MK", "Macedonian"),
    ("ms_MY", "Malay"),
    ("mt_MT", "Maltese"),
    ("no_NO", "Norwegian"),
    ("pl_PL", "Polish"),
    ("pt_PT", "Portuguese"),
    ("ro_RO", "Romanian"),
    ("ru_RU", "Russian"),
    ("sr_RS", "Serbian"),
    ("sk_SK", "Slovak"),
    ("sl_SI", "Slovenian"),
    ("es_ES", "Spanish"),
    ("es_GL", "Galician"),
    ("sv_SE", "Swedish"),
    ("th_TH", "Thai"),
    ("tr_TR", "Turkish"),
    ("uk_UA", "Ukrainian"),
    ("vi_VN", "Vietnamese"),
)

CATEGORY_IDS: Final[frozenset[str]] = frozenset(cid for cid, _ in CATEGORIES)
LANGUAGE_IDS: Final[frozenset[str]] = frozenset(lid for lid, _ in LANGUAGES)

#: The scopes an access token can carry, as the client sends them.
SCOPES: Final[tuple[str, ...]] = ("read", "click", "publish", "extendedread")
#: Other spellings the old clients used, mapped onto :data:`SCOPES`.
SCOPE_ALIASES: Final[dict[str, str]] = {"readextended": "extendedread"}

#: Inclusive length limits of a thing's text fields (characters).
TITLE_LENGTH: Final[tuple[int, int]] = (5, 100)
DESCRIPTION_LENGTH: Final[tuple[int, int]] = (5, 1000)
#: Longest thing URL either side accepts.
MAX_URL_LENGTH: Final[int] = 2048
#: Most tags one thing may carry (our own bound; the 2010 server stated none).
MAX_TAGS: Final[int] = 50
#: Longest single tag (our own bound).
MAX_TAG_LENGTH: Final[int] = 100

API_VERSION: Final[str] = "0.0.1"
REST_PREFIX: Final[str] = "/rest/0.0.1/"
DEFAULT_BASE_URL: Final[str] = "https://api.flattr.com"
