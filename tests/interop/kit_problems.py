"""Reading an OAuth refusal the way a third-party client would: header or form body."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qs

_IN_HEADER = re.compile(r'oauth_problem="([A-Za-z_]+)"')


def oauth_problem(headers: Mapping[str, str], body: bytes | str) -> str | None:
    """The ``oauth_problem`` of a refusal: from ``WWW-Authenticate``, else the form body."""
    lowered = {name.lower(): value for name, value in headers.items()}
    match = _IN_HEADER.search(lowered.get("www-authenticate", ""))
    if match:
        return match.group(1)
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return parse_qs(text).get("oauth_problem", [None])[0]
