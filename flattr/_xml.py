"""XML in and out: response bodies to models, and the ``<thing>`` registration document.

Every response is parsed with :mod:`defusedxml` with DTDs forbidden, so entity
bombs, external entities and DTD fetches are refused before any expansion.
Values are trimmed, because the real 2010 server padded every value with
newlines and indentation; CDATA and plain text read the same.

A body that is not the document we expect never yields a half-filled object:
it raises :class:`~flattr.errors.ResponseError` naming the element.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import TypeVar
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from flattr import _xmlstream
from flattr._xmlstream import EXCERPT_CHARACTERS
from flattr.errors import ResponseError
from flattr.models import Category, Language, Owner, Thing, ThingStatus, User

__all__ = [
    "iter_things",
    "parse_categories",
    "parse_error",
    "parse_languages",
    "parse_thing",
    "parse_things",
    "parse_user",
    "thing_document",
]

_T = TypeVar("_T")
#: The most digits an integer in a response may have (ids, counts, Unix
#: times): 20 holds any unsigned 64-bit number.
MAX_INTEGER_DIGITS = 20
#: Bodies up to this size take the fast parser: even all elements, their worst
#: case costs little. Larger ones are parsed within depth and element budgets.
_SMALL_BODY = 32 * 1024


class _Parser(DefusedXMLParser):
    """defusedxml's parser, DTDs forbidden, building the tree without Python detours.

    The pure-Python ``XMLParser`` under defusedxml routes every start and end
    tag through Python methods that only turn expat's attribute list into a
    dict and spell namespaced names ``{uri}name``; for the small answers of
    this API that costs more than the parsing. Here expat builds the dict
    itself and hands tags straight to the C ``TreeBuilder``. defusedxml's
    guards (doctype, entity declarations, external references) are untouched.
    The only difference: a namespaced tag reads ``uri}name`` in the tree,
    which matches none of the API's element names either way (and
    :func:`parse_root` names it ``{uri}name`` as before).
    """

    def __init__(self) -> None:
        target = TreeBuilder()
        super().__init__(target=target, forbid_dtd=True)
        expat = self.parser
        expat.ordered_attributes = False
        expat.StartElementHandler = target.start
        expat.EndElementHandler = target.end


def _parse(body: bytes) -> Element:
    if len(body) > _SMALL_BODY:
        return _xmlstream.bounded_tree(body)
    parser = _Parser()
    parser.feed(body)
    root: Element = parser.close()
    return root


def parse_root(body: bytes) -> Element:
    """Parse a response body and check the ``<flattr>`` envelope.

    :raises ResponseError: for anything that is not well-formed, safe XML with
        a ``<flattr>`` root.
    """
    try:
        root = _parse(body)
    except DefusedXmlException as exc:
        raise ResponseError(
            f"refused an unsafe XML response ({type(exc).__name__}): "
            "DTDs and entities are never accepted",
            excerpt=_xmlstream.excerpt(body),
        ) from exc
    except (ParseError, ValueError, LookupError) as exc:
        raise ResponseError(
            f"the response is not well-formed XML: {exc}", excerpt=_xmlstream.excerpt(body)
        ) from exc
    if root.tag != "flattr":
        tag = root.tag if "}" not in root.tag else "{" + root.tag  # see _Parser
        raise ResponseError(
            f"expected a <flattr> document, got <{tag[:40]}>", excerpt=_xmlstream.excerpt(body)
        )
    return root


def _text(parent: Element, name: str, where: str) -> str:
    child = parent.find(name)
    if child is None:
        raise ResponseError(f"{where}: the response has no <{name}> element")
    return (child.text or "").strip()


def _optional_text(parent: Element, name: str) -> str | None:
    child = parent.find(name)
    if child is None:
        return None
    return (child.text or "").strip()


def _int(value: str, name: str, where: str) -> int:
    # int() would also take "1_000", "+5", " 7", Arabic-Indic or full-width
    # digits, and thousands of digits (slowly): none of that is a Flattr number.
    if not (0 < len(value) <= MAX_INTEGER_DIGITS and value.isascii() and value.isdigit()):
        raise ResponseError(
            f"{where}: <{name}> should be a whole number of 1 to {MAX_INTEGER_DIGITS} ASCII "
            f"digits, got {value[:40]!r}" + ("..." if len(value) > 40 else "")
        )
    return int(value)


def _required_int(parent: Element, name: str, where: str) -> int:
    return _int(_text(parent, name, where), name, where)


def _timestamp(parent: Element, name: str, where: str) -> datetime:
    seconds = _required_int(parent, name, where)
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise ResponseError(
            f"{where}: <{name}> is not a usable Unix time: {str(seconds)[:40]}"
        ) from None


def _optional_int(parent: Element, name: str, where: str) -> int | None:
    value = _optional_text(parent, name)
    return None if value is None or value == "" else _int(value, name, where)


def _single(root: Element, name: str) -> Element:
    element = root.find(name)
    if element is None:
        error = parse_error_element(root)
        detail = f" (the server sent an error: {error[1]})" if error else ""
        raise ResponseError(f"the response holds no <{name}>{detail}")
    return element


def _user(element: Element) -> User:
    where = "user"
    return User(
        id=_required_int(element, "id", where),
        username=_text(element, "username", where),
        firstname=_optional_text(element, "firstname"),
        lastname=_optional_text(element, "lastname"),
        city=_optional_text(element, "city"),
        country=_optional_text(element, "country"),
        gravatar=_optional_text(element, "gravatar"),
        email=_optional_text(element, "email"),
        description=_optional_text(element, "description"),
        thingcount=_optional_int(element, "thingcount", where),
        language=_optional_text(element, "language"),
    )


def _id_name(element: Element, where: str) -> tuple[str, str]:
    return _text(element, "id", where), _text(element, "name", where)


def _thing(element: Element) -> Thing:
    where = "thing"
    owner = element.find("user")
    if owner is None:
        raise ResponseError("thing: the response has no <user> element")
    category = element.find("category")
    if category is None:
        raise ResponseError("thing: the response has no <category> element")
    category_id, category_name = _id_name(category, "thing category")
    status = _text(element, "status", where)
    try:
        thing_status = ThingStatus(status)
    except ValueError:
        raise ResponseError(f"thing: unknown <status> {status[:40]!r}") from None
    tags_element = element.find("tags")
    tags: tuple[str, ...] = ()
    if tags_element is not None:
        tags = tuple(text for tag in tags_element.iter("tag") if (text := (tag.text or "").strip()))
    return Thing(
        id=_text(element, "id", where),
        int_id=_optional_int(element, "int_id", where),
        url=_text(element, "url", where),
        title=_text(element, "title", where),
        description=_text(element, "story", where),
        category=Category(id=category_id, name=category_name),
        language=_text(element, "language", where),
        owner=Owner(
            id=_required_int(owner, "id", "thing owner"),
            username=_text(owner, "username", "thing owner"),
        ),
        created=_timestamp(element, "created", where),
        clicks=_required_int(element, "clicks", where),
        status=thing_status,
        tags=tags,
    )


def _all(elements: Iterable[Element], build: Callable[[Element], _T]) -> tuple[_T, ...]:
    return tuple(build(element) for element in elements)


def parse_user(body: bytes) -> User:
    """Read the ``<user>`` of a ``user/...`` response."""
    return _user(_single(parse_root(body), "user"))


def parse_thing(body: bytes) -> Thing:
    """Read the single ``<thing>`` of a ``thing/get`` or ``thing/register`` response."""
    return _thing(_single(parse_root(body), "thing"))


def parse_things(body: bytes) -> tuple[Thing, ...]:
    """Read a list of things: ``<thing>`` siblings straight under ``<flattr>``."""
    return tuple(iter_things(body))


def iter_things(body: bytes) -> Iterator[Thing]:
    """The things of a list answer, one at a time.

    A body over 32 KiB is parsed one thing at a time (see
    :mod:`flattr._xmlstream`), so a long list costs the memory of the thing
    being read, not of a tree; a smaller one takes the faster whole-tree parse.
    """
    if len(body) > _SMALL_BODY:
        return (_thing(element) for element in _xmlstream.iter_thing_elements_in(body))
    return iter(_all(parse_root(body).findall("thing"), _thing))


def parse_categories(body: bytes) -> tuple[Category, ...]:
    """Read a ``feed/categories`` response."""
    wrapper = _single(parse_root(body), "categories")

    def build(element: Element) -> Category:
        cid, name = _id_name(element, "category")
        return Category(id=cid, name=name)

    return _all(wrapper.findall("category"), build)


def parse_languages(body: bytes) -> tuple[Language, ...]:
    """Read a ``feed/languages`` response."""
    wrapper = _single(parse_root(body), "languages")

    def build(element: Element) -> Language:
        lid, name = _id_name(element, "language")
        return Language(id=lid, name=name)

    return _all(wrapper.findall("language"), build)


def parse_error_element(root: Element) -> tuple[str | None, str] | None:
    """``(code, message)`` of an ``<error>`` element under the root, if any.

    Both are cut short (code 40, message 200 characters): they end up in
    exception messages and logs, which a hostile server must not flood.
    """
    error = root.find("error")
    if error is None:
        return None
    code = (_optional_text(error, "code") or "")[:40] or None
    message = (_optional_text(error, "message") or "")[:EXCERPT_CHARACTERS]
    return code, message


def parse_error(body: bytes) -> tuple[str | None, str] | None:
    """``(code, message)`` from an error body, or ``None`` when it has none.

    The ``<error>`` body is FakeFlattr's convention (the 2010 server's error
    bodies were never recorded), so anything unreadable simply yields ``None``.
    """
    try:
        return parse_error_element(parse_root(body))
    except ResponseError:
        return None


def _cdata(text: str) -> str:
    # "]]>" cannot appear inside one CDATA section: split it across two.
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def thing_document(
    *,
    url: str,
    title: str,
    category: str,
    description: str,
    language: str,
    tags: tuple[str, ...],
    hidden: bool,
) -> str:
    """The ``<thing>`` XML document sent as the ``data`` field of ``thing/register``.

    The values must already be validated (see :mod:`flattr._validate`).
    """
    tag_lines = "".join(f"    <tag>{_escape(tag)}</tag>\n" for tag in tags)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        "<thing>\n"
        f"  <url>{_escape(url)}</url>\n"
        f"  <title>{_cdata(title)}</title>\n"
        f"  <category>{_escape(category)}</category>\n"
        f"  <description>{_cdata(description)}</description>\n"
        f"  <language>{_escape(language)}</language>\n"
        f"  <hidden>{1 if hidden else 0}</hidden>\n"
        f"  <tags>\n{tag_lines}  </tags>\n"
        "</thing>\n"
    )
