"""Sizes the fake server bounds, and number parsing that cannot blow up.

Every number a client sends (``Content-Length``, ``oauth_timestamp``, ids in
paths) goes through :func:`ascii_int`: :meth:`str.isdigit` accepts
superscripts and other scripts' digits that :func:`int` refuses, and
:func:`int` refuses more than 4,300 digits, so neither may reach it unchecked.
"""

from __future__ import annotations

__all__ = ["HEAD_LIMIT", "MAX_BODY", "MAX_HEADERS", "ascii_int"]

#: Largest request body the fake reads (bigger ones get 413).
MAX_BODY = 1024 * 1024
#: Largest request line plus headers (bigger ones get 414 or 431).
HEAD_LIMIT = 64 * 1024
#: Most header fields in one request (http.client's own limit).
MAX_HEADERS = 100


def ascii_int(text: str, max_digits: int = 18) -> int | None:
    """``text`` as a non-negative integer when it is plain ASCII digits of a sane length.

    :param text: the digits as received.
    :param max_digits: longest accepted; 18 digits always fit in 63 bits.
    :returns: the number, or ``None`` for anything else (signs, ``_``,
        whitespace, non-ASCII digits, the empty string, too many digits).
    """
    if not 0 < len(text) <= max_digits or not text.isascii() or not text.isdigit():
        return None
    return int(text)
