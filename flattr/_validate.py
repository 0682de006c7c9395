"""Input checks, run before anything is sent.

Each function either returns the value in the form the wire needs or raises
:class:`~flattr.errors.ValidationError` naming the field and saying what is
allowed. Limits come from :mod:`flattr._catalog`, the same table the fake
server enforces, and from the ``MAX_*`` constants here. A message never
repeats more than the first characters of a rejected value.
"""

from __future__ import annotations

import ipaddress
import unicodedata
from collections.abc import Iterable
from typing import Any, Final
from urllib.parse import urlsplit

from flattr import _catalog
from flattr._redact import Secret
from flattr.errors import ValidationError

__all__ = [
    "MAX_CREDENTIAL_LENGTH",
    "MAX_ID_DIGITS",
    "MAX_ID_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_QUERY_LENGTH",
    "MAX_VERIFIER_LENGTH",
    "base_url",
    "is_loopback_host",
    "callback",
    "category",
    "credential",
    "description",
    "hidden",
    "language",
    "path_segment",
    "query",
    "redirect_url",
    "scopes",
    "tags",
    "thing_id",
    "thing_url",
    "title",
    "user_id",
    "username",
    "verifier",
]

#: Longest consumer key or secret, token key or secret (real ones are 32 to 64).
MAX_CREDENTIAL_LENGTH: Final = 256
#: Most digits of a numeric id (``int_id``, user id): any unsigned 64-bit number.
MAX_ID_DIGITS: Final = 20
#: Longest thing id given as text (the real ones are 32 hex digits).
MAX_ID_LENGTH: Final = 64
#: Longest user name.
MAX_NAME_LENGTH: Final = 64
#: Longest search or browse query.
MAX_QUERY_LENGTH: Final = 256
#: Longest OAuth verifier (or PIN).
MAX_VERIFIER_LENGTH: Final = 256
#: How much of a rejected value a message shows.
_SHOWN: Final = 40


def _show(value: object) -> str:
    """A short, printable picture of a rejected value, for messages."""
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) >= 10**_SHOWN:
            return f"an integer of {value.bit_length()} bits"
        return str(value)
    text = repr(value) if isinstance(value, str) else type(value).__name__
    if isinstance(value, str) and len(text) > _SHOWN:
        return f"{text[:_SHOWN]}... ({len(value)} characters)"
    return text


def _bad_char(text: str) -> str | None:
    """The first control character or lone surrogate in ``text``, if any."""
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cs"):
            return ch
    return None


def _string(field: str, value: object, limit: int) -> str:
    """A string of at most ``limit`` characters without control characters or lone surrogates."""
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a string, not {type(value).__name__}")
    if len(value) > limit:
        raise ValidationError(field, f"must be at most {limit} characters long (got {len(value)})")
    bad = _bad_char(value)
    if bad is not None:
        kind = "a lone surrogate" if unicodedata.category(bad) == "Cs" else "a control character"
        raise ValidationError(field, f"contains {kind} ({bad!a}), which cannot be sent")
    return value


def secret(field: str, value: object) -> Secret:
    """A consumer secret or token secret, checked like :func:`credential`, kept masked.

    The check runs in a helper that returns, so the frame that raises holds
    only the :class:`~flattr._redact.Secret`, never the text.
    """
    wrapped = value if isinstance(value, Secret) else None
    if isinstance(value, str):
        wrapped = Secret(value)
    del value
    if wrapped is None:
        raise ValidationError(field, "must be a string")
    problem = _credential_problem(wrapped.reveal(), MAX_CREDENTIAL_LENGTH)
    if problem:
        raise ValidationError(field, problem)
    return wrapped


def _credential_problem(text: str, limit: int, *, spaces: bool = False) -> str | None:
    """What is wrong with a secret, in words that never quote it; ``None`` when nothing."""
    if len(text) > limit:
        return f"must be at most {limit} characters long (got {len(text)})"
    if not text.strip():
        return "must not be empty"
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        return "contains a lone surrogate, which cannot be sent"
    if any(not ch.isprintable() and not (spaces and ch == " ") for ch in text):
        return "must not contain control characters"
    if not spaces and any(ch.isspace() for ch in text):
        return "must not contain spaces or control characters"
    return None


def credential(field: str, value: object) -> str:
    """A consumer key/secret or token part: a non-empty string without spaces.

    At most :data:`MAX_CREDENTIAL_LENGTH` characters.
    """
    value = _string(field, value, MAX_CREDENTIAL_LENGTH)
    if not value.strip():
        raise ValidationError(field, "must not be empty")
    if any(ch.isspace() for ch in value):
        raise ValidationError(field, "must not contain spaces or control characters")
    return value


def verifier(value: object) -> Secret:
    """An ``oauth_verifier`` (or PIN): non-empty, at most :data:`MAX_VERIFIER_LENGTH` characters.

    :returns: the stripped verifier, masked until it is signed.
    """
    wrapped = Secret(value.strip()) if isinstance(value, str) else None
    del value
    if wrapped is None or not wrapped:
        raise ValidationError("verifier", "must be the non-empty oauth_verifier (or PIN)")
    problem = _credential_problem(wrapped.reveal(), MAX_VERIFIER_LENGTH, spaces=True)
    if problem:
        raise ValidationError("verifier", problem)
    return wrapped


#: Longest callback URL :meth:`FlattrAuth.parse_callback` reads.
_MAX_REDIRECT_LENGTH: Final = 4 * _catalog.MAX_URL_LENGTH


def redirect_url(value: object) -> str:
    """The URL (or query string) the user was sent back to, before it is parsed."""
    if not isinstance(value, str):
        raise ValidationError("redirect_url", "must be the callback URL as a string")
    # Pasted URLs often end in a line break; inside one, control characters are refused.
    return _string("redirect_url", value.strip(), _MAX_REDIRECT_LENGTH)


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (as :func:`urllib.parse.urlsplit` gives it) is this machine.

    ``localhost``, 127.0.0.0/8 (also written as ``::ffff:127.x.y.z``) and
    ``::1``; no name is looked up.
    """
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    # ::ffff:127.0.0.1 is 127.0.0.1; Python says so only from 3.13 on.
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def base_url(value: object, *, allow_cleartext_http: bool = False) -> str:
    """The server root, e.g. ``https://api.flattr.com``, without a trailing slash.

    The string is checked as given (``urlsplit`` would silently drop tabs and
    line breaks), and the port must be a number from 1 to 65535. Plain
    ``http://`` is allowed only to a loopback host, unless
    ``allow_cleartext_http`` is true: elsewhere every request would carry the
    token in clear text.
    """
    shape = f"must be an absolute http(s) URL such as {_catalog.DEFAULT_BASE_URL}"
    if not isinstance(value, str) or not value:
        raise ValidationError("base_url", shape)
    _string("base_url", value, _catalog.MAX_URL_LENGTH)
    if any(ch.isspace() for ch in value):
        raise ValidationError("base_url", "must not contain spaces, tabs or line breaks")
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
        port = parts.port
    except ValueError as exc:
        raise ValidationError("base_url", f"is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise ValidationError("base_url", shape)
    if port == 0:
        raise ValidationError("base_url", "port 0 is not a port to connect to")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValidationError("base_url", "must not carry a query, fragment or credentials")
    if parts.scheme == "http" and not allow_cleartext_http and not is_loopback_host(hostname):
        raise ValidationError(
            "base_url",
            f"plain http:// to {hostname} would send every request, and the token, in clear "
            "text; use https://, or pass allow_cleartext_http=True if you really mean it",
        )
    return value.rstrip("/")


def callback(value: object) -> str:
    """An OAuth callback: an absolute http(s) URL, or ``"oob"`` for the PIN flow."""
    if value == "oob":
        return "oob"
    if isinstance(value, str):
        _string("callback_url", value, _catalog.MAX_URL_LENGTH)
        try:
            parts = urlsplit(value)
            hostname = parts.hostname
        except ValueError:
            hostname = None
        if (
            parts.scheme in ("http", "https")
            and hostname
            and not parts.fragment
            and not any(ch.isspace() for ch in value)
        ):
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
            raise ValidationError("scopes", f"unknown scope {_show(item)}; choose from {allowed}")
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
    if len(value) > 4 * limits[1]:  # far beyond the limit even before trimming
        raise ValidationError(
            field, f"must be {limits[0]} to {limits[1]} characters long (got {len(value)})"
        )
    text = value.replace("\r\n", "\n").replace("\r", "\n") if multiline else value
    text = text.strip()
    low, high = limits
    if not low <= len(text) <= high:
        raise ValidationError(
            field, f"must be {low} to {high} characters long (got {len(text)} after trimming)"
        )
    bad = _forbidden_char(text, allow_newlines=multiline)
    if bad is not None:
        raise ValidationError(field, f"contains a character XML cannot carry: {bad!a}")
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
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cs") for ch in url):
        raise ValidationError(
            field, "must not contain spaces, control characters or lone surrogates"
        )
    return url


def category(value: object) -> str:
    """A category id from ``feed/categories`` (``text``, ``images``, ...)."""
    if value not in _catalog.CATEGORY_IDS:
        allowed = ", ".join(cid for cid, _ in _catalog.CATEGORIES)
        raise ValidationError("category", f"unknown category {_show(value)}; choose from {allowed}")
    return str(value)


def language(value: object) -> str:
    """A language id from ``feed/languages`` (``en_GB``, ``sv_SE``, ...)."""
    if value not in _catalog.LANGUAGE_IDS:
        raise ValidationError(
            "language",
            f"unknown language {_show(value)}; use a code such as en_GB, de_DE or sv_SE "
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
        if len(tag) > _catalog.MAX_TAG_LENGTH:
            raise ValidationError(
                "tags", f"a tag must be at most {_catalog.MAX_TAG_LENGTH} characters long"
            )
        if "," in tag:
            raise ValidationError("tags", f"a tag must not contain a comma: {_show(tag)}")
        if tag in (".", ".."):
            raise ValidationError("tags", f"a tag must not be {tag!r}")
        bad = _forbidden_char(tag, allow_newlines=False)
        if bad is not None:
            raise ValidationError("tags", f"a tag contains a character XML cannot carry: {bad!a}")
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


def path_segment(field: str, value: str) -> str:
    """Refuse ``.`` and ``..``: a proxy that normalises paths would resolve them.

    :returns: ``value`` unchanged.
    """
    if value in (".", ".."):
        raise ValidationError(
            field, f"must not be {value!r}, which a URL path resolves to another resource"
        )
    return value


def _segment(field: str, value: object, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "must be a non-empty string")
    text = _string(field, value, limit).strip()
    if "/" in text:
        raise ValidationError(field, "must not contain '/' or control characters")
    return path_segment(field, text)


def _positive(field: str, value: int) -> int:
    # Compared, never converted: str() of an int over 4,300 digits raises ValueError.
    if value <= 0 or value >= 10**MAX_ID_DIGITS:
        raise ValidationError(
            field,
            f"must be a positive integer of at most {MAX_ID_DIGITS} digits, not {_show(value)}",
        )
    return value


def thing_id(value: object) -> str:
    """A thing id: the 32-hex ``id``, or the numeric ``int_id``.

    At most :data:`MAX_ID_LENGTH` characters, or :data:`MAX_ID_DIGITS` digits.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return str(_positive("thing_id", value))
    return _segment("thing_id", value, MAX_ID_LENGTH)


def user_id(value: Any, field: str = "id") -> int:
    """A numeric user id: positive, at most :data:`MAX_ID_DIGITS` digits."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, f"must be a positive integer, not {_show(value)}")
    return _positive(field, value)


def username(value: object, field: str = "name") -> str:
    """A user name, as one path segment: at most :data:`MAX_NAME_LENGTH` characters."""
    return _segment(field, value, MAX_NAME_LENGTH)


def query(value: object) -> str:
    """A search or browse query: non-empty, at most :data:`MAX_QUERY_LENGTH` characters."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("query", "must be a non-empty string")
    return path_segment("query", _string("query", value, MAX_QUERY_LENGTH).strip())
