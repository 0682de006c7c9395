"""Printing results: aligned plain-text tables for people, JSON for scripts.

Text that came from a server (titles, descriptions, names) is shown with
control characters replaced, so a hostile title cannot move the cursor or
recolour the terminal. JSON output is ``json.dumps`` of plain data, which
escapes them anyway.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TextIO

from flattr import v2
from flattr.models import Category, Language, Thing, User

__all__ = [
    "clean",
    "print_fields",
    "print_json",
    "print_table",
    "thing_fields",
    "thing_rows",
    "V2_THING_HEADERS",
    "to_jsonable",
    "user_fields",
]

#: The widest a table cell may be before it is shortened with "...".
MAX_CELL = 60


def to_jsonable(value: Any) -> Any:
    """Plain JSON data for a model, a tuple of models, a datetime, an enum ...

    :param value: what to convert.
    :returns: dicts, lists, strings, numbers, booleans and ``None`` only.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    return value


def print_json(value: Any, out: TextIO) -> None:
    """Write ``value`` as indented JSON (non-ASCII kept) and a newline."""
    print(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False), file=out)


def clean(value: object, limit: int | None = None) -> str:
    """One line of safe text: control characters become ``?``, blanks collapse.

    :param value: anything; ``None`` becomes ``-``.
    :param limit: shorten to this many characters, ending in ``...``.
    """
    if value is None:
        return "-"
    text = str(value)
    text = "".join(
        "?" if unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\t\n\r" else ch
        for ch in text
    )
    text = " ".join(text.split())
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 3, 1)] + "..."
    return text


def print_table(headers: Sequence[str], rows: Iterable[Sequence[object]], out: TextIO) -> None:
    """An aligned table with a header line; nothing but the header when there are no rows."""
    cells = [[clean(c, MAX_CELL) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    print(line(headers), file=out)
    for row in cells:
        print(line(row), file=out)


def print_fields(pairs: Iterable[tuple[str, object]], out: TextIO) -> None:
    """``name: value`` lines with the values aligned (long text is not shortened)."""
    items = [(name, clean(value)) for name, value in pairs]
    width = max((len(name) for name, _ in items), default=0)
    for name, value in items:
        print(f"{name + ':':<{width + 1}} {value}", file=out)


def user_fields(user: User | v2.User) -> list[tuple[str, object]]:
    """The rows :func:`print_fields` shows for a user of either API (empty fields left out)."""
    if isinstance(user, v2.User):
        return _v2_user_fields(user)
    full_name, place = _name_and_place(user)
    rows: list[tuple[str, object]] = [
        ("username", user.username),
        ("id", user.id),
        ("name", full_name),
        ("place", place),
        ("language", user.language),
        ("things", user.thingcount),
        ("email", user.email),
        ("gravatar", user.gravatar),
        ("about", user.description),
    ]
    return [(k, v) for k, v in rows if v not in (None, "")]


def _name_and_place(user: User | v2.User) -> tuple[str | None, str | None]:
    """``"First Last"`` and ``"City, Country"``, each ``None`` when empty."""
    full_name = " ".join(p for p in (user.firstname, user.lastname) if p) or None
    place = ", ".join(p for p in (user.city, user.country) if p) or None
    return full_name, place


def _v2_user_fields(user: v2.User) -> list[tuple[str, object]]:
    full_name, place = _name_and_place(user)
    rows: list[tuple[str, object]] = [
        ("username", user.username),
        ("id", user.id),
        ("name", full_name),
        ("place", place),
        ("email", user.email),
        ("url", user.url),
        ("link", user.link),
        ("about", user.about),
    ]
    return [(k, v) for k, v in rows if v not in (None, "")]


def thing_fields(thing: Thing | v2.Thing) -> list[tuple[str, object]]:
    """The rows :func:`print_fields` shows for one thing of either API."""
    if isinstance(thing, v2.Thing):
        return [
            ("id", thing.id),
            ("title", thing.title),
            ("url", thing.url),
            ("owner", thing.owner.username),
            ("category", thing.category),
            ("language", thing.language),
            ("tags", ", ".join(thing.tags) or "-"),
            ("flattrs", thing.flattrs),
            ("hidden", "yes" if thing.hidden else "no"),
            ("created", thing.created.isoformat()),
            ("link", thing.link),
            ("description", thing.description),
        ]
    return [
        ("id", thing.id),
        ("int_id", thing.int_id),
        ("title", thing.title),
        ("url", thing.url),
        ("owner", f"{thing.owner.username} (id {thing.owner.id})"),
        ("category", f"{thing.category.id} ({thing.category.name})"),
        ("language", thing.language),
        ("tags", ", ".join(thing.tags) or "-"),
        ("clicks", thing.clicks),
        ("status", thing.status.value),
        ("created", thing.created.isoformat()),
        ("description", thing.description),
    ]


THING_HEADERS = ("ID", "TITLE", "OWNER", "CATEGORY", "LANGUAGE", "CLICKS", "URL")
#: The columns of a table of API v2 things (v2 counts flattrs, not clicks).
V2_THING_HEADERS = ("ID", "TITLE", "OWNER", "CATEGORY", "LANGUAGE", "FLATTRS", "URL")


def thing_rows(things: Iterable[Thing | v2.Thing]) -> list[tuple[object, ...]]:
    """The rows of a things table (see :data:`THING_HEADERS`, :data:`V2_THING_HEADERS`)."""
    return [
        (t.id, t.title, t.owner.username, t.category, t.language, t.flattrs, t.url)
        if isinstance(t, v2.Thing)
        else (t.id, t.title, t.owner.username, t.category.id, t.language, t.clicks, t.url)
        for t in things
    ]


def catalogue_rows(items: Iterable[Category | Language]) -> list[tuple[str, str]]:
    """``(id, name)`` rows for categories or languages."""
    return [(item.id, item.name) for item in items]
