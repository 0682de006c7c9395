"""XML answers in the shape Flattr's 0.0.1 servers sent in 2010.

The captures in ``tests/data/real-2010/`` show the layout copied here: an XML
declaration, a blank line, ``<flattr>``, ``<version>``; every leaf value on
its own line, padded with indentation; a blank line before each closing tag
of a container; the thing ``story`` as CDATA and the user ``description``
as plain text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeAlias
from xml.sax.saxutils import escape

from flattr._catalog import API_VERSION, CATEGORIES, LANGUAGES

from ._store import FakeThing, FakeUser

_INDENT = "    "
_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'
_CATEGORY_NAMES = dict(CATEGORIES)

# A node is (tag, text) for a leaf, (tag, text, True) for a CDATA leaf, or
# (tag, [children]) for a container.
Node: TypeAlias = tuple[str, "str | Sequence[Node]"] | tuple[str, str, bool]


def cdata(text: str) -> str:
    """Wrap ``text`` in CDATA, splitting any ``]]>`` so it survives.

    :param text: any XML-safe text.
    :returns: one or more adjacent CDATA sections holding exactly ``text``.
    """
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _render(node: Node, depth: int, out: list[str]) -> None:
    pad = _INDENT * depth
    tag = node[0]
    if len(node) == 3:
        out.append(f"{pad}<{tag}>\n{pad}{_INDENT}{cdata(node[1])}\n\n{pad}</{tag}>\n")
        return
    body = node[1]
    if isinstance(body, str):
        out.append(f"{pad}<{tag}>\n{pad}{_INDENT}{escape(body)}\n{pad}</{tag}>\n")
        return
    out.append(f"{pad}<{tag}>\n")
    for child in body:
        _render(child, depth + 1, out)
    out.append(f"\n{pad}</{tag}>\n")


def envelope(children: Iterable[Node] = ()) -> bytes:
    """Build a whole ``<flattr>`` document.

    :param children: the payload elements that follow ``<version>``.
    :returns: the UTF-8 bytes of the document.
    """
    out = [_DECLARATION, "\n"]
    _render(("flattr", [("version", API_VERSION), *children]), 0, out)
    return "".join(out).encode("utf-8")


def error_document(code: int, message: str) -> bytes:
    """Build the error envelope (our own invention; 0.0.1 had none on record).

    :param code: the HTTP status.
    :param message: what went wrong, in plain words.
    :returns: the UTF-8 bytes of the one-line document.
    """
    return (
        f'<?xml version="1.0" encoding="utf-8"?><flattr><version>{API_VERSION}</version>'
        f"<error><code>{code}</code><message>{escape(message)}</message></error></flattr>"
    ).encode()


def user_node(user: FakeUser, *, thingcount: int, with_email: bool) -> Node:
    """The ``<user>`` element: id, username, ..., language, then email if allowed.

    :param user: whom to describe.
    :param thingcount: how many things the user owns.
    :param with_email: add ``<email>`` (own user, extendedread scope).
    """
    children: list[Node] = [
        ("id", str(user.id)),
        ("username", user.username),
        ("firstname", user.firstname),
        ("lastname", user.lastname),
        ("city", user.city),
        ("country", user.country),
        ("gravatar", user.gravatar),
        ("description", user.description),
        ("thingcount", str(thingcount)),
        ("language", user.language),
    ]
    if with_email:
        children.append(("email", user.email))
    return ("user", children)


def thing_node(thing: FakeThing, status: str) -> Node:
    """The ``<thing>`` element, in the order of ``one_thing.xml``.

    :param thing: what to describe.
    :param status: ``owner``, ``clicked``, ``inactive`` or ``ok`` for the caller.
    """
    children: list[Node] = [
        ("id", thing.id),
        ("int_id", str(thing.int_id)),
        ("created", str(thing.created)),
        ("language", thing.language),
        ("url", thing.url),
        ("title", thing.title),
        ("story", thing.description, True),
        ("clicks", str(thing.clicks)),
        ("user", [("id", str(thing.owner.id)), ("username", thing.owner.username)]),
    ]
    if thing.tags:
        children.append(("tags", [("tag", t) for t in thing.tags]))
    children.append(
        ("category", [("id", thing.category), ("name", _CATEGORY_NAMES[thing.category])])
    )
    children.append(("status", status))
    return ("thing", children)


def _id_name_list(outer: str, inner: str, pairs: Sequence[tuple[str, str]]) -> Node:
    return (outer, [(inner, [("id", i), ("name", n)]) for i, n in pairs])


def categories_document() -> bytes:
    """The answer to ``feed/categories``."""
    return envelope([_id_name_list("categories", "category", CATEGORIES)])


def languages_document() -> bytes:
    """The answer to ``feed/languages``."""
    return envelope([_id_name_list("languages", "language", LANGUAGES)])
