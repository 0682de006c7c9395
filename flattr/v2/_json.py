"""Reading API v2's JSON with bounded memory and strict types.

The transport caps the body's size; :func:`loads` adds a nesting-depth and an
element budget, checked on the raw bytes before :func:`json.loads` builds
anything, so a hostile answer cannot make the parser recurse deeply or
allocate millions of small objects. The field readers then check each type
(an id is a positive int, not a bool; a timestamp becomes an aware
datetime) and raise :class:`~flattr.errors.ResponseError` naming the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final, NoReturn

from flattr.errors import ResponseError

__all__ = [
    "MAX_DEPTH",
    "MAX_ELEMENTS",
    "array",
    "boolean",
    "count",
    "excerpt",
    "loads",
    "obj",
    "opt_bool",
    "opt_str",
    "opt_timestamp",
    "positive_id",
    "string",
    "string_list",
    "timestamp",
]

#: Deepest nesting accepted; v2's deepest documented answer has 4 levels.
MAX_DEPTH: Final = 64
#: Most values (containers, and items separated by commas) in one document.
MAX_ELEMENTS: Final = 500_000

# A JSON string, escapes included, matched without backtracking.
_STRING: Final = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS: Final = bytes(b for b in range(256) if b not in b"[]{}")
# Bodies this short cannot exceed either budget: no need to scan them.
_SMALL: Final = 2 * MAX_DEPTH


def excerpt(body: bytes) -> str:
    """At most the first 200 characters of a body, for error messages."""
    return body[:200].decode("utf-8", "replace")


def _reject(constant: str) -> NoReturn:
    raise ValueError(f"{constant} is not JSON")


#: One decoder for every answer (``json.loads`` with an option builds one per call);
#: it keeps no state between documents, so threads share it.
_DECODER: Final = json.JSONDecoder(parse_constant=_reject)


def _check_budget(body: bytes) -> None:
    # Counted on the raw bytes first: brackets and commas inside strings only
    # add to the counts, so raw counts within budget mean the document is. Only
    # a document that could be over budget has its strings removed and is
    # counted again.
    brackets = body.translate(None, _NOT_BRACKETS)
    if len(brackets) <= 2 * MAX_DEPTH and len(brackets) + body.count(b",") <= MAX_ELEMENTS:
        return
    structure = _STRING.sub(b"", body)
    brackets = structure.translate(None, _NOT_BRACKETS)
    if len(brackets) + structure.count(b",") > MAX_ELEMENTS:
        raise ValueError(f"more than {MAX_ELEMENTS} values")
    if len(brackets) <= 2 * MAX_DEPTH:
        return
    depth = 0
    for byte in brackets:
        if byte in b"[{":  # iterating bytes gives ints; `in` on bytes compares them
            depth += 1
            if depth > MAX_DEPTH:
                raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
        else:
            depth -= 1


def loads(body: bytes, *, what: str, status: int | None = None) -> Any:
    """Parse a JSON body within the depth and element budgets.

    :param body: the raw body (UTF-8).
    :param what: names the answer in the error message (``"GET /user"``).
    :param status: the HTTP status, for the error.
    :returns: the parsed value.
    :raises ResponseError: for a body that is not JSON, not UTF-8, or over budget.
    """
    try:
        if len(body) > _SMALL:
            _check_budget(body)
        return _DECODER.decode(body.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise ResponseError(
            f"{what}: the answer is not valid JSON ({exc})",
            status=status,
            content_type="application/json",
            excerpt=excerpt(body),
        ) from None


def _bad(what: str, key: str, expected: str, value: object) -> NoReturn:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    raise ResponseError(f"{what}: field {key!r} should be {expected}, got {shown}")


def obj(value: object, what: str) -> Mapping[str, Any]:
    """``value`` as a JSON object, or :class:`ResponseError`."""
    if not isinstance(value, dict):
        _bad(what, "(answer)", "an object", type(value).__name__)
    return value


def array(value: object, what: str) -> list[Any]:
    """``value`` as a JSON array, or :class:`ResponseError`."""
    if not isinstance(value, list):
        _bad(what, "(answer)", "an array", type(value).__name__)
    return value


def string(data: Mapping[str, Any], key: str, what: str) -> str:
    """A required string field."""
    value = data.get(key)
    if not isinstance(value, str):
        _bad(what, key, "a string", value)
    return value


def opt_str(data: Mapping[str, Any], key: str, what: str) -> str | None:
    """An optional string field; absent, ``null`` and ``""`` are ``None``."""
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        _bad(what, key, "a string", value)
    return value


def string_list(data: Mapping[str, Any], key: str, what: str) -> tuple[str, ...]:
    """An array of strings (absent is empty)."""
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        _bad(what, key, "an array of strings", value)
    return tuple(value)


def positive_id(data: Mapping[str, Any], key: str, what: str) -> int:
    """A required id: a positive JSON integer below 2**63 (``true`` and ``1.0`` are refused)."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        _bad(what, key, "a positive integer", value)
    return value


def count(data: Mapping[str, Any], key: str, what: str, *, required: bool = True) -> int | None:
    """A non-negative integer; a numeric string is read too (a 2013 server sent ``"2"``)."""
    value = data.get(key)
    if value is None and not required:
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        _bad(what, key, "a non-negative integer", value)
    return value


def boolean(data: Mapping[str, Any], key: str, what: str, *, default: bool | None = None) -> bool:
    """A flag sent as ``true``/``false`` or as ``1``/``0`` (both occur)."""
    value = data.get(key, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    _bad(what, key, "true, false, 0 or 1", value)


def opt_bool(data: Mapping[str, Any], key: str, what: str) -> bool | None:
    """A flag the server may leave out (``None`` then: it did not say)."""
    if data.get(key) is None:
        return None
    return boolean(data, key, what)


def _when(value: object, what: str, key: str) -> datetime:
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 12:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**37:
        _bad(what, key, "a Unix time in seconds", value)
    return datetime.fromtimestamp(value, UTC)


def timestamp(data: Mapping[str, Any], key: str, what: str) -> datetime:
    """A required Unix time, as an aware UTC datetime."""
    return _when(data.get(key), what, key)


def opt_timestamp(data: Mapping[str, Any], key: str, what: str) -> datetime | None:
    """A Unix time that may be absent, ``null`` or ``0`` ("never"): ``None`` then."""
    value = data.get(key)
    if value is None or value == 0:
        return None
    return _when(value, what, key)
