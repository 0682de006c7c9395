"""XML parsing with budgets: list answers one thing at a time, other bodies within limits.

A size cap bounds the bytes of an answer, not the memory of parsing them: an
8 MiB body of nested or empty elements becomes hundreds of MB of ``Element``
objects. Both parsers here run expat with defusedxml's guards (a DOCTYPE, an
entity declaration or an external reference is refused the moment expat
meets it) and count depth, elements and attributes in the same pass, so a
hostile body is refused before its tree can grow.

:func:`iter_thing_elements` reads a ``<thing>`` list answer piece by piece and
builds each ``<thing>`` alone, so memory follows the largest thing, not the
list: a 100,000-thing answer (about 100 MB) costs less than a MB of parsing.
:func:`bounded_tree` builds the whole tree of any other answer, refusing it
past :data:`MAX_DEPTH` levels or :data:`MAX_ELEMENTS` elements.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final, NoReturn
from xml.etree.ElementTree import Element, ParseError, TreeBuilder
from xml.parsers import expat

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml.common import ExternalReferenceForbidden

from flattr.errors import ResponseError

__all__ = [
    "CHUNK_BYTES",
    "EXCERPT_CHARACTERS",
    "MAX_DEPTH",
    "MAX_ELEMENTS",
    "MAX_LIST_DEPTH",
    "MAX_OTHER_ELEMENTS",
    "MAX_SILENT_BYTES",
    "MAX_THING_ELEMENTS",
    "MAX_THING_TEXT",
    "bounded_tree",
    "excerpt",
    "iter_thing_elements",
    "iter_thing_elements_in",
]

#: Deepest nesting accepted in any answer (the API's own go four levels deep).
MAX_DEPTH: Final = 32
#: Most elements and attributes, together, in an answer that is not a list of things.
MAX_ELEMENTS: Final = 10_000
#: Deepest nesting accepted in a list of things (``flattr/thing/tags/tag`` is four).
MAX_LIST_DEPTH: Final = 16
#: Most elements and attributes in one ``<thing>`` of a list (one with 100 tags has about 130).
MAX_THING_ELEMENTS: Final = 2_000
#: Most characters of text in one ``<thing>`` of a list (its fields allow a few thousand).
MAX_THING_TEXT: Final = 1024 * 1024
#: Most elements and attributes outside the ``<thing>`` elements of a list (``<version>``).
MAX_OTHER_ELEMENTS: Final = 1_000
#: How much of a body expat is handed at once.
CHUNK_BYTES: Final = 64 * 1024
#: Most bytes expat may read without reporting anything. expat hands over a
#: start tag only once it is complete, with all its attributes in one dict, so
#: a single 8 MiB tag would cost far more than 8 MiB before any budget is
#: checked; a tag (or comment) this long is refused while it is still being read.
MAX_SILENT_BYTES: Final = 1024 * 1024


class _Refused(Exception):
    """A budget ran out; the message says which."""


def _forbid_doctype(name: str, sysid: str | None, pubid: str | None, internal: bool) -> NoReturn:
    raise DTDForbidden(name, sysid, pubid)


def _forbid_entity(
    name: str,
    is_parameter: bool,
    value: str | None,
    base: str | None,
    sysid: str | None,
    pubid: str | None,
    notation: str | None,
) -> NoReturn:
    raise EntitiesForbidden(name, value, base, sysid, pubid, notation)


def _forbid_unparsed_entity(
    name: str, base: str | None, sysid: str | None, pubid: str | None, notation: str | None
) -> NoReturn:
    raise EntitiesForbidden(name, None, base, sysid, pubid, notation)


def _forbid_external(
    context: str, base: str | None, sysid: str | None, pubid: str | None
) -> NoReturn:
    raise ExternalReferenceForbidden(context, base, sysid, pubid)


def _safe_expat() -> expat.XMLParserType:
    """An expat parser with defusedxml's guards, spelling namespaced tags as ElementTree does."""
    parser = expat.ParserCreate(None, "}")
    parser.StartDoctypeDeclHandler = _forbid_doctype
    parser.EntityDeclHandler = _forbid_entity
    parser.UnparsedEntityDeclHandler = _forbid_unparsed_entity
    parser.ExternalEntityRefHandler = _forbid_external
    parser.ordered_attributes = False
    # One text event per run of characters instead of one per line.
    parser.buffer_text = True
    parser.buffer_size = CHUNK_BYTES
    return parser


#: How much of a refused body an error quotes.
EXCERPT_CHARACTERS: Final = 200


def excerpt(body: bytes) -> str:
    """The first characters of a body, decoded leniently, for error messages."""
    return body[:EXCERPT_CHARACTERS].decode("utf-8", "replace")


def _refusal(exc: BaseException, head: bytes) -> ResponseError:
    """The :class:`ResponseError` for what stopped a parse."""
    quoted = excerpt(head)
    if isinstance(exc, _Refused):
        return ResponseError(f"refused the XML response: {exc}", excerpt=quoted)
    if isinstance(exc, DefusedXmlException):
        return ResponseError(
            f"refused an unsafe XML response ({type(exc).__name__}): "
            "DTDs and entities are never accepted",
            excerpt=quoted,
        )
    return ResponseError(f"the response is not well-formed XML: {exc}", excerpt=quoted)


def _root_check(tag: str) -> None:
    if tag != "flattr":
        shown = tag if "}" not in tag else "{" + tag
        raise _Refused(f"expected a <flattr> document, got <{shown[:40]}>")


class _Progress:
    """Counts what expat reports, so that :func:`_feed` can tell it is stuck in one token."""

    __slots__ = ("events",)

    def __init__(self) -> None:
        self.events = 0


def _feed(
    parser: expat.XMLParserType, chunk: bytes | memoryview, progress: _Progress, silent: int
) -> int:
    """Hand ``chunk`` to expat; returns the bytes read since it last reported anything."""
    before = progress.events
    parser.Parse(chunk, False)
    silent = silent + len(chunk) if progress.events == before else 0
    if silent > MAX_SILENT_BYTES:
        raise _Refused(f"a single tag, text or comment longer than {MAX_SILENT_BYTES} bytes")
    return silent


def _slices(body: bytes) -> Iterator[memoryview]:
    view = memoryview(body)
    for start in range(0, len(body), CHUNK_BYTES):
        yield view[start : start + CHUNK_BYTES]


def bounded_tree(body: bytes) -> Element:
    """Parse a whole answer into a tree, refusing it past the depth or element budget.

    :param body: the response body.
    :returns: the root element (its tag is not checked here).
    :raises DefusedXmlException: a DOCTYPE, an entity declaration or an external reference.
    :raises ParseError: the body is not well-formed XML.
    :raises ResponseError: deeper than :data:`MAX_DEPTH`, more than
        :data:`MAX_ELEMENTS` elements and attributes, or one tag longer
        than :data:`MAX_SILENT_BYTES`.
    """
    builder = TreeBuilder()
    parser = _safe_expat()
    progress = _Progress()
    depth = 0
    count = 0

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal depth, count
        depth += 1
        count += 1 + len(attrs)
        progress.events = count
        if depth > MAX_DEPTH:
            raise _Refused(f"nested deeper than {MAX_DEPTH} levels")
        if count > MAX_ELEMENTS:
            raise _Refused(f"more than {MAX_ELEMENTS} elements and attributes")
        builder.start(tag, attrs)

    def end(tag: str) -> None:
        nonlocal depth
        depth -= 1
        progress.events += 1
        builder.end(tag)

    def data(text: str) -> None:
        progress.events += 1
        builder.data(text)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    silent = 0
    try:
        for piece in _slices(body):
            silent = _feed(parser, piece, progress, silent)
        parser.Parse(b"", True)
    except _Refused as exc:
        raise _refusal(exc, body[:200]) from None
    except expat.ExpatError as exc:
        raise ParseError(str(exc)) from None
    root: Element = builder.close()
    return root


class _ThingList:
    """expat handlers that cut a ``<flattr><thing>...`` list into one element per thing."""

    def __init__(self, parser: expat.XMLParserType) -> None:
        self._parser = parser
        self.progress = _Progress()
        self.depth = 0
        self.root_seen = False
        self._other = 0
        self._builder: TreeBuilder | None = None
        self._count = 0
        self._text = 0
        self.ready: list[Element] = []
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self.progress.events += 1
        self.depth = depth = self.depth + 1
        if depth > MAX_LIST_DEPTH:
            raise _Refused(f"nested deeper than {MAX_LIST_DEPTH} levels")
        builder = self._builder
        if builder is not None:
            self._count += 1 + len(attrs)
            if self._count > MAX_THING_ELEMENTS:
                raise _Refused(f"a <thing> with more than {MAX_THING_ELEMENTS} elements")
            builder.start(tag, attrs)
        elif depth == 2 and tag == "thing":
            self._builder = builder = TreeBuilder()
            self._count = 1 + len(attrs)
            self._text = 0
            self._parser.CharacterDataHandler = self.data
            builder.start(tag, attrs)
        elif depth == 1:
            _root_check(tag)
            self.root_seen = True
        else:
            # <version>, or anything else beside the things: counted, not kept.
            self._other += 1 + len(attrs)
            if self._other > MAX_OTHER_ELEMENTS:
                raise _Refused(f"more than {MAX_OTHER_ELEMENTS} elements beside the things")

    def data(self, text: str) -> None:
        self.progress.events += 1
        self._text += len(text)
        if self._text > MAX_THING_TEXT:
            raise _Refused(f"a <thing> with more than {MAX_THING_TEXT} characters of text")
        builder = self._builder
        if builder is not None:  # always: this handler is set only inside a <thing>
            builder.data(text)

    def end(self, tag: str) -> None:
        self.progress.events += 1
        builder = self._builder
        if builder is not None:
            builder.end(tag)
            if self.depth == 2:
                self._builder = None
                self._parser.CharacterDataHandler = None
                self.ready.append(builder.close())
        self.depth -= 1


def iter_thing_elements(chunks: Iterable[bytes | memoryview]) -> Iterator[Element]:
    """The ``<thing>`` elements straight under ``<flattr>``, as they are read.

    Each is yielded before the next piece of the body is parsed; the caller
    reads it into a model (and raises :class:`ResponseError` for one that is
    not a thing).

    :param chunks: the body, in pieces of any size.
    :returns: an iterator of ``<thing>`` elements, in document order.
    :raises ResponseError: the body is not well-formed, safe XML with a
        ``<flattr>`` root, a budget ran out (:data:`MAX_LIST_DEPTH`,
        :data:`MAX_THING_ELEMENTS`, :data:`MAX_THING_TEXT`,
        :data:`MAX_OTHER_ELEMENTS`, :data:`MAX_SILENT_BYTES`), or a thing is incomplete; the things
        before it have been yielded.
    """
    parser = _safe_expat()
    state = _ThingList(parser)
    head = b""
    silent = 0
    try:
        for chunk in chunks:
            if len(head) < 200:
                head += bytes(chunk[: 200 - len(head)])
            silent = _feed(parser, chunk, state.progress, silent)
            if state.ready:
                ready, state.ready = state.ready, []
                yield from ready
        parser.Parse(b"", True)
    except ResponseError:
        raise  # the caller's verdict on a thing: already says which
    except (_Refused, expat.ExpatError, ValueError, LookupError) as exc:
        # ValueError covers defusedxml's refusals; LookupError an unknown encoding.
        raise _refusal(exc, head) from None
    yield from state.ready


def iter_thing_elements_in(body: bytes) -> Iterator[Element]:
    """:func:`iter_thing_elements` over a body held whole, handed to expat in slices.

    :param body: the response body.
    :returns: an iterator of ``<thing>`` elements, in document order.
    :raises ResponseError: as :func:`iter_thing_elements`.
    """
    return iter_thing_elements(_slices(body))
