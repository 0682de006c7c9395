"""The REST resources under ``/rest/0.0.1/`` users, things, clicks and the catalogue.

Order of checks for every call: route (404, 405), OAuth (401), rate limit
(403), scope (403), then the resource itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypedDict
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from flattr._catalog import (
    CATEGORY_IDS,
    DESCRIPTION_LENGTH,
    LANGUAGE_IDS,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MAX_URL_LENGTH,
    REST_PREFIX,
    TITLE_LENGTH,
)

from . import _xmlout
from ._limits import ascii_int
from ._oauth import OAuthProblem, Provider
from ._store import AccessToken, FakeThing, FakeUser, Store
from ._wire import XML_TYPE, Incoming, Outgoing

BROWSE_KEYS = ("query", "tag", "category", "language", "user")


class RestError(Exception):
    """Ends a REST call with ``status`` and the XML error envelope."""

    def __init__(self, status: int, message: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = list(headers)

    def answer(self) -> Outgoing:
        """The XML error answer."""
        return Outgoing(
            self.status, XML_TYPE, _xmlout.error_document(self.status, self.message), self.headers
        )


@dataclass(frozen=True, slots=True)
class Call:
    """One authenticated REST call: the request, the caller and the token."""

    req: Incoming
    user: FakeUser
    token: AccessToken
    args: tuple[str, ...]


Handler = Callable[["Rest", Call], Outgoing]


def _ok(body: bytes) -> Outgoing:
    return Outgoing(200, XML_TYPE, body)


def _segment(raw: str) -> str:
    """Percent-decode one path segment as UTF-8 (400 when it is not)."""
    try:
        return unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise RestError(400, "path segment is not UTF-8") from None


class Rest:
    """Answers REST calls from one :class:`Store`.

    :param provider: checks OAuth signatures.
    :param rate_limit: REST calls allowed per hour per token (``None``: no limit).
    """

    def __init__(self, store: Store, provider: Provider, rate_limit: int | None) -> None:
        self.store = store
        self.provider = provider
        self.rate_limit = rate_limit

    # -- dispatch ---------------------------------------------------------

    def handle(self, req: Incoming) -> Outgoing:
        """Answer one request whose path starts with :data:`REST_PREFIX`."""
        try:
            return self._handle(req)
        except RestError as error:
            return error.answer()

    def _handle(self, req: Incoming) -> Outgoing:
        segs = req.path[len(REST_PREFIX) :].split("/")
        if len(segs) > 1 and segs[-1] == "":
            segs.pop()
        found = self._route(segs)
        if found is None:
            raise RestError(404, "no such resource")
        method, scope, handler, args = found
        if req.method != method:
            raise RestError(405, f"use {method} for this resource", [("Allow", method)])
        try:
            verified = self.provider.verify(req, "access")
        except OAuthProblem as problem:
            header = f'OAuth realm="Flattr", oauth_problem="{problem.problem}"'
            raise RestError(401, problem.problem, [("WWW-Authenticate", header)]) from None
        token = verified.access_token
        assert token is not None
        if not self.store.count_call(token, self.rate_limit):
            raise RestError(403, "rate limit exceeded")
        if not self._has_scope(token, scope):
            raise RestError(403, f"this token lacks the {scope} scope")
        with self.store.lock:
            user = self.store.users[token.user_id]
        return handler(self, Call(req, user, token, args))

    @staticmethod
    def _has_scope(token: AccessToken, scope: str) -> bool:
        if scope == "read":
            return "read" in token.scopes or "extendedread" in token.scopes
        return scope in token.scopes

    @staticmethod
    def _route(segs: list[str]) -> tuple[str, str, Handler, tuple[str, ...]] | None:
        match segs:
            case ["user", "me"]:
                return "GET", "read", Rest.user_me, ()
            case ["user", "get", "id", ident]:
                return "GET", "read", Rest.user_by_id, (ident,)
            case ["user", "get", "name", name]:
                return "GET", "read", Rest.user_by_name, (name,)
            case ["thing", "get", "id", ident]:
                return "GET", "read", Rest.thing_get, (ident,)
            case ["thing", "get"]:
                return "GET", "read", Rest.thing_by_url, ()
            case ["thing", "listbyuser", "id"]:
                return "GET", "read", Rest.list_by_user, ("",)
            case ["thing", "listbyuser", "id", ident]:
                return "GET", "read", Rest.list_by_user, (ident,)
            case ["thing", "click", "id", ident]:
                return "GET", "click", Rest.click, (ident,)
            case ["thing", "register"]:
                return "POST", "publish", Rest.register, ()
            case ["feed", "categories"]:
                return "GET", "read", Rest.categories, ()
            case ["feed", "languages"]:
                return "GET", "read", Rest.languages, ()
            case ["thing", "search", "q", query]:
                return "GET", "read", Rest.search, (query,)
            case ["thing", "browse", *criteria]:
                return "GET", "read", Rest.browse, tuple(criteria)
        return None

    # -- rendering helpers ------------------------------------------------

    def _user_doc(self, call: Call, user: FakeUser) -> Outgoing:
        with self.store.lock:
            count = len(self.store.things_of(user))
            with_email = user is call.user and "extendedread" in call.token.scopes
            node = _xmlout.user_node(user, thingcount=count, with_email=with_email)
        return _ok(_xmlout.envelope([node]))

    @staticmethod
    def status_for(thing: FakeThing, caller: FakeUser) -> str:
        """How ``thing`` relates to ``caller``: owner, clicked, inactive or ok."""
        if thing.owner is caller:
            return "owner"
        if caller.id in thing.clicked_by:
            return "clicked"
        if not (caller.active and thing.owner.active):
            return "inactive"
        return "ok"

    def _things_doc(self, call: Call, things: Iterable[FakeThing]) -> Outgoing:
        with self.store.lock:
            nodes = [_xmlout.thing_node(t, self.status_for(t, call.user)) for t in things]
        return _ok(_xmlout.envelope(nodes))

    def _thing_or_404(self, ident: str) -> FakeThing:
        text = _segment(ident)
        # Only a 32-hex id or a plain number can name a thing; nothing else reaches int().
        if ascii_int(text) is None and not (len(text) == 32 and text.isascii() and text.isalnum()):
            raise RestError(404, "thing not found")
        thing = self.store.find_thing(text)
        if thing is None:
            raise RestError(404, "thing not found")
        return thing

    def _visible(self) -> list[FakeThing]:
        with self.store.lock:
            return [t for t in self.store.things.values() if not t.hidden]

    # -- users -----------------------------------------------------------

    def user_me(self, call: Call) -> Outgoing:
        """R1 ``user/me``."""
        return self._user_doc(call, call.user)

    def user_by_id(self, call: Call) -> Outgoing:
        """R2 ``user/get/id/<id>``."""
        ident = _segment(call.args[0])
        with self.store.lock:
            number = ascii_int(ident)
            user = None if number is None else self.store.users.get(number)
        if user is None:
            raise RestError(404, "user not found")
        return self._user_doc(call, user)

    def user_by_name(self, call: Call) -> Outgoing:
        """R3 ``user/get/name/<name>``."""
        user = self.store.user_by_name(_segment(call.args[0]))
        if user is None:
            raise RestError(404, "user not found")
        return self._user_doc(call, user)

    # -- things ----------------------------------------------------------

    def thing_get(self, call: Call) -> Outgoing:
        """R4 ``thing/get/id/<hex id or int_id>``."""
        return self._things_doc(call, [self._thing_or_404(call.args[0])])

    def thing_by_url(self, call: Call) -> Outgoing:
        """R12 ``thing/get/?url=<url>``."""
        urls = [v for k, v in call.req.query_pairs() if k == "url"]
        if len(urls) != 1 or not urls[0]:
            raise RestError(400, "give exactly one url parameter")
        thing = self.store.thing_by_url(urls[0])
        if thing is None:
            raise RestError(404, "thing not found")
        return self._things_doc(call, [thing])

    def list_by_user(self, call: Call) -> Outgoing:
        """R5 ``thing/listbyuser/id/<userId>``, R5a with an empty id (own things)."""
        ident = _segment(call.args[0])
        with self.store.lock:
            if not ident:
                owner: FakeUser | None = call.user
            else:
                number = ascii_int(ident)
                owner = None if number is None else self.store.users.get(number)
            if owner is None:
                raise RestError(404, "user not found")
            things = [t for t in self.store.things_of(owner) if not t.hidden or owner is call.user]
        return self._things_doc(call, things)

    def click(self, call: Call) -> Outgoing:
        """R6 ``thing/click/id/<id>``: flattr a thing once."""
        thing = self._thing_or_404(call.args[0])
        with self.store.lock:
            status = self.status_for(thing, call.user)
            if status == "owner":
                raise RestError(403, "you cannot flattr your own thing")
            if status == "clicked":
                raise RestError(403, "you have already flattred this thing")
            if status == "inactive":
                raise RestError(403, "the user or the thing's owner is inactive")
            self.store.click(thing, call.user)
        return _ok(_xmlout.envelope())

    # -- R7: register -----------------------------------------------------

    def register(self, call: Call) -> Outgoing:
        """R7 ``POST thing/register`` with form field ``data`` (500 on any failure)."""
        data = [v for k, v in call.req.form_pairs() if k == "data"]
        if len(data) != 1:
            raise RestError(500, "data: send exactly one form field named data")
        fields = parse_thing(data[0])
        try:
            thing = self.store.add_thing(call.user, **fields)
        except ValueError as error:
            raise RestError(500, str(error)) from None
        return self._things_doc(call, [thing])

    # -- R8, R9: feeds ----------------------------------------------------

    def categories(self, call: Call) -> Outgoing:
        """R8 ``feed/categories``."""
        return _ok(_xmlout.categories_document())

    def languages(self, call: Call) -> Outgoing:
        """R9 ``feed/languages``."""
        return _ok(_xmlout.languages_document())

    # -- R10, R11: search and browse --------------------------------------

    @staticmethod
    def _matches_text(thing: FakeThing, folded: str) -> bool:
        texts = (thing.title, thing.description, *thing.tags)
        return any(folded in text.casefold() for text in texts)

    def search(self, call: Call) -> Outgoing:
        """R10 ``thing/search/q/<query>``: case-insensitive substring search."""
        folded = _segment(call.args[0]).strip().casefold()
        if not folded:
            raise RestError(400, "query: give some text to search for")
        return self._things_doc(call, [t for t in self._visible() if self._matches_text(t, folded)])

    def browse(self, call: Call) -> Outgoing:
        """R11 ``thing/browse/<key>/<value>/...``: AND between keys, OR within a list."""
        raw = call.args
        if not raw:
            raise RestError(400, "browse needs at least one criterion")
        if len(raw) % 2:
            raise RestError(400, "browse criteria come in /<key>/<value> pairs")
        tests: list[Callable[[FakeThing], bool]] = []
        for key, value in zip(raw[::2], raw[1::2], strict=True):
            if key not in BROWSE_KEYS:
                raise RestError(400, f"unknown browse key {key!r}; use one of {BROWSE_KEYS}")
            wanted = [v.strip() for v in _segment(value).split(",") if v.strip()]
            if not wanted:
                raise RestError(400, f"{key}: give at least one value")
            tests.append(self._criterion(key, wanted))
        return self._things_doc(call, [t for t in self._visible() if all(f(t) for f in tests)])

    def _criterion(self, key: str, wanted: list[str]) -> Callable[[FakeThing], bool]:
        folded = [w.casefold() for w in wanted]
        if key == "query":
            return lambda t: any(self._matches_text(t, w) for w in folded)
        if key == "tag":
            return lambda t: any(tag.casefold() in folded for tag in t.tags)
        if key == "category":
            return lambda t: t.category in wanted
        if key == "language":
            return lambda t: t.language in wanted
        ids = {n for n in map(ascii_int, wanted) if n is not None}
        return lambda t: t.owner.id in ids or t.owner.username.casefold() in folded


class ThingFields(TypedDict):
    """The validated fields of a registration, as :meth:`Store.add_thing` takes them."""

    url: str
    title: str
    description: str
    category: str
    language: str
    tags: tuple[str, ...]
    hidden: bool
    clicks: int
    created: int | None


def _text(root: Element, name: str) -> str | None:
    element = root.find(name)
    return None if element is None else (element.text or "").strip()


def _check_length(name: str, value: str | None, bounds: tuple[int, int]) -> str:
    low, high = bounds
    if value is None:
        raise RestError(500, f"{name}: missing")
    if not low <= len(value) <= high:
        raise RestError(500, f"{name}: must be {low} to {high} characters, not {len(value)}")
    return value


def parse_thing(data: str) -> ThingFields:
    """Parse and validate the ``data`` XML of a registration.

    :param data: the ``<thing>`` document as posted.
    :returns: keyword arguments for :meth:`Store.add_thing` (owner aside).
    :raises RestError: 500 naming the first field that is wrong.
    """
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except (SafeET.ParseError, DefusedXmlException) as error:
        raise RestError(500, f"data: not acceptable XML ({type(error).__name__})") from None
    if root.tag != "thing":
        raise RestError(500, f"data: the root element must be <thing>, not <{root.tag}>")
    url = _text(root, "url") or ""
    parts = urlsplit(url) if url and not any(c.isspace() for c in url) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise RestError(500, "url: must be an absolute http or https URL")
    if len(url) > MAX_URL_LENGTH:
        raise RestError(500, f"url: longer than {MAX_URL_LENGTH} characters")
    title = _check_length("title", _text(root, "title"), TITLE_LENGTH)
    description = _check_length("description", _text(root, "description"), DESCRIPTION_LENGTH)
    category = _text(root, "category") or ""
    if category not in CATEGORY_IDS:
        raise RestError(500, f"category: {category!r} is not a category id")
    language = _text(root, "language") or ""
    if language not in LANGUAGE_IDS:
        raise RestError(500, f"language: {language!r} is not a language id")
    hidden_text = (_text(root, "hidden") or "").lower()
    if hidden_text not in ("", "0", "1", "true", "false"):
        raise RestError(500, f"hidden: {hidden_text!r} is not 1 or 0")
    tags: list[str] = []
    for element in root.findall("tags/tag"):
        tag = (element.text or "").strip()
        if not tag or "," in tag or len(tag) > MAX_TAG_LENGTH:
            raise RestError(500, f"tags: each tag is 1 to {MAX_TAG_LENGTH} characters, no comma")
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise RestError(500, f"tags: at most {MAX_TAGS} tags")
    return {
        "url": url,
        "title": title,
        "description": description,
        "category": category,
        "language": language,
        "tags": tuple(tags),
        "hidden": hidden_text in ("1", "true"),
        "clicks": 0,
        "created": None,
    }
