"""The REST resources of API v2 under ``/rest/v2``, from the root to the rate limit.

Every documented resource is served. Order of checks: route (404, 405), token (401), rate limit
(403), format (406), scope (403 ``insufficient_scope``), existence (404),
ownership and business rules (403), validation (400).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from flattr.v2 import _catalog

from ._limits import ascii_int
from ._store import FakeThing, FakeUser, Store
from ._v2json import JSON_TYPE, JSONValue, Renderer, dumps
from ._v2store import BearerRecord, FlattrRecord, Subscription, V2Store
from ._wire import Incoming, Outgoing

__all__ = [
    "CATEGORIES_V2",
    "DEFAULT_RATE_LIMIT",
    "LANGUAGES_V2",
    "V2_PREFIX",
    "V2Error",
    "V2Rest",
    "parse_auto_submit",
]

V2_PREFIX: Final[str] = "/rest/v2"
# The catalogue is the client's (flattr.v2._catalog): the fake serves the same facts.
CATEGORIES_V2: Final = _catalog.CATEGORIES
CATEGORY_IDS_V2: Final = _catalog.CATEGORY_IDS
LANGUAGES_V2: Final = _catalog.LANGUAGES
LANGUAGE_IDS_V2: Final = _catalog.LANGUAGE_IDS
#: Hourly limit of the late-2012 API (5000 in early 2012).
DEFAULT_RATE_LIMIT: Final[int] = 1000
MAX_COUNT: Final[int] = 100
DEFAULT_COUNT: Final[int] = 30
DOCS: Final[str] = "http://developers.flattr.net/api"
SORTS: Final[dict[str, int | None]] = {
    "relevance": None,
    "trend": 7 * 86400,
    "flattrs": 0,
    "flattrs_month": 30 * 86400,
    "flattrs_week": 7 * 86400,
    "flattrs_day": 86400,
}
T = TypeVar("T")
_TRUE = ("", "1", "true", "yes", "full")
_FALSE = ("0", "false", "no")
_JSONP_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$.]*")
_CORS = [("Access-Control-Allow-Origin", "*")]
_AS_TYPE = "application/stream+json"
_SUFFIXES = ("json", "xml", "yaml", "as", "atom", "txt")


class V2Error(Exception):
    """Ends a v2 call with ``status`` and the JSON error body."""

    def __init__(
        self,
        status: int,
        error: str,
        description: str,
        resource: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.uri = f"{DOCS}/resources/{resource}/" if resource else f"{DOCS}/"
        self.headers = list(headers)

    def body(self) -> dict[str, JSONValue]:
        """``error``, ``error_description``, ``error_uri``."""
        return {"error": self.error, "error_description": self.description, "error_uri": self.uri}


class _Answer(Exception):
    """Ends a call early with a ready body (lookup's 404 is not an error body)."""

    def __init__(self, status: int, body: JSONValue) -> None:
        super().__init__(status)
        self.status = status
        self.value = body


def _not_found(what: str, resource: str) -> V2Error:
    return V2Error(404, "not_found", f"The requested {what} could not be found", resource)


@dataclass(slots=True)
class Call:
    """One v2 call: the request, its parameters and who makes it."""

    req: Incoming
    args: tuple[str, ...]
    params: dict[str, str]
    user: FakeUser | None
    token: BearerRecord | None
    fmt: str
    render: Renderer

    def need_user(self) -> FakeUser:
        """The caller, or 401 ``unauthorized`` for an anonymous call."""
        if self.user is None:
            raise V2Error(401, "unauthorized", "This resource needs an access token (no token?)")
        return self.user

    def need_scope(self, scope: str, resource: str) -> FakeUser:
        """The caller, who must hold ``scope`` (401 anonymous, 403 ``insufficient_scope``)."""
        user = self.need_user()
        assert self.token is not None
        if scope not in self.token.scopes:
            raise V2Error(403, "insufficient_scope", f"This call needs the {scope} scope", resource)
        return user

    def flag(self, name: str) -> bool:
        """Read a ``full``-style flag: on when present and empty, 1, true, yes or full."""
        value = self.params.get(name)
        if value is None:
            return False
        folded = value.strip().lower()
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
        raise V2Error(400, "invalid_parameters", f"{name}: use 1 or 0")


Handler = Callable[["V2Rest", Call], "Outgoing | JSONValue"]


@dataclass(frozen=True, slots=True)
class Route:
    """What a path resolves to."""

    method: str
    handler: Handler
    args: tuple[str, ...] = ()
    formats: tuple[str, ...] = ("json",)
    limited: bool = True


def _int_param(call: Call, name: str, default: int) -> int:
    raw = call.params.get(name)
    if raw is None:
        return default
    number = ascii_int(raw)
    if number is None or number < 1:
        raise V2Error(400, "invalid_parameters", f"{name}: must be a whole number from 1")
    return number


def _page_of(call: Call, items: list[T]) -> tuple[int, int, list[T]]:
    count = min(_int_param(call, "count", DEFAULT_COUNT), MAX_COUNT)
    page = _int_param(call, "page", 1)
    start = (page - 1) * count
    return page, count, items[start : start + count]


def _newest_first(things: Iterable[FakeThing]) -> list[FakeThing]:
    return sorted(things, key=lambda t: (t.created, t.int_id), reverse=True)


def _norm_url(url: str) -> str:
    """Lower-case scheme and host; nothing else (the reference's matching rule)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()))


def parse_auto_submit(url: str) -> dict[str, str] | None:
    """The parameters of a ``flattr.com/submit/auto`` URL, or ``None`` for another URL."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() not in ("http", "https") or host not in (
        "flattr.com",
        "www.flattr.com",
    ):
        return None
    if parts.path.rstrip("/") != "/submit/auto":
        return None
    return dict(parse_qsl(parts.query, keep_blank_values=True))


def _tag_matcher(expression: str) -> Callable[[FakeThing], bool]:
    """``|`` OR, ``&`` or a space AND, ``!`` NOT (tightest), left to right."""
    alternatives: list[list[tuple[bool, str]]] = []
    for alternative in expression.split("|"):
        terms: list[tuple[bool, str]] = []
        negate = False
        for token in re.findall(r"!|[^\s&!]+", alternative):
            if token == "!":
                negate = not negate
                continue
            terms.append((negate, token.casefold()))
            negate = False
        if terms:
            alternatives.append(terms)

    def match(thing: FakeThing) -> bool:
        tags = {t.casefold() for t in thing.tags}
        return any(all((tag in tags) != negate for negate, tag in alt) for alt in alternatives)

    return match


class V2Rest:
    """Answers API v2 calls from the shared store and the v2 state.

    :param store: users and things (shared with 0.0.1).
    :param v2: v2-only state.
    :param rate_limit: calls allowed per hour per token (or for all anonymous
        callers together); ``None``: the mode's documented limit.
    :param mode: ``late-2012`` (default), ``early-2012`` or ``2014``.
    """

    def __init__(self, store: Store, v2: V2Store, rate_limit: int | None, mode: str) -> None:
        self.store = store
        self.v2 = v2
        self.mode = mode
        default = 5000 if mode == "early-2012" else DEFAULT_RATE_LIMIT
        self.limit = default if rate_limit is None else rate_limit

    # -- dispatch ---------------------------------------------------------

    def handle(self, req: Incoming) -> Outgoing:
        """Answer one request under :data:`V2_PREFIX`."""
        headers: list[tuple[str, str]] = list(_CORS)
        jsonp = None
        try:
            jsonp = self._jsonp(req)
            return self._handle(req, headers, jsonp)
        except V2Error as error:
            return self._out(error.status, error.body(), headers + error.headers, jsonp)

    @staticmethod
    def _jsonp(req: Incoming) -> str | None:
        names = [v for k, v in req.query_pairs() if k == "jsonp"]
        if not names:
            return None
        if not _JSONP_NAME.fullmatch(names[-1]):
            raise V2Error(400, "invalid_parameters", "jsonp: not a JavaScript name")
        return names[-1]

    @staticmethod
    def _out(
        status: int,
        value: JSONValue,
        headers: list[tuple[str, str]],
        jsonp: str | None,
        content_type: str = JSON_TYPE,
    ) -> Outgoing:
        if jsonp is not None:
            # Browsers run a JSONP callback only on 200, so errors are 200 too.
            body = f"{jsonp}(".encode() + dumps(value) + b")"
            return Outgoing(200, "text/javascript;charset=utf-8", body, headers)
        if status == 204:
            return Outgoing(204, content_type, b"", headers)
        return Outgoing(status, content_type, dumps(value), headers)

    def _handle(self, req: Incoming, headers: list[tuple[str, str]], jsonp: str | None) -> Outgoing:
        rest = req.path[len(V2_PREFIX) :]
        segs = [s for s in rest.split("/") if s != ""] if rest not in ("", "/") else []
        fmt = ""
        if segs and "." in segs[-1]:
            base, _, suffix = segs[-1].rpartition(".")
            if suffix.lower() in _SUFFIXES and base:
                segs[-1], fmt = base, suffix.lower()
        if req.method == "OPTIONS":
            headers += [
                ("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS"),
                ("Access-Control-Allow-Headers", "Authorization, Content-Type"),
                ("Access-Control-Max-Age", "86400"),
            ]
            return Outgoing(204, JSON_TYPE, b"", headers)
        params = self._params(req)
        route = self._route(segs, req.method, params)
        if route is None:
            raise V2Error(404, "not_found", "The resource was not found")
        if isinstance(route, str):
            raise V2Error(
                405, "invalid_request", f"use {route} for this resource", None, [("Allow", route)]
            )
        token = self._token(req)
        user = None
        if token is not None:
            with self.store.lock:
                user = self.store.users.get(token.user_id)
        if route.limited:
            self._count(token, headers)
        fmt = self._format(req, fmt, route.formats)
        render = Renderer(
            api=f"{req.scheme}://{req.host}{V2_PREFIX}",
            v2=self.v2,
            viewer=user,
            scopes=token.scopes if token else (),
            mode=self.mode,
            now=self.store.clock(),
        )
        call = Call(req, route.args, params, user, token, fmt, render)
        try:
            result = route.handler(self, call)
        except _Answer as answer:
            return self._out(answer.status, answer.value, headers, jsonp)
        if isinstance(result, Outgoing):
            result.headers[:0] = headers
            return result
        if fmt == "as":
            return self._out(200, result, headers, jsonp, _AS_TYPE)
        return self._out(200, result, headers, jsonp)

    # -- request parts ----------------------------------------------------

    @staticmethod
    def _params(req: Incoming) -> dict[str, str]:
        """Query parameters, overridden by the JSON or form body (reference 2.3)."""
        params = dict(req.query_pairs())
        if not req.body or req.method in ("GET", "DELETE", "HEAD"):
            return params
        ctype = (req.header("content-type") or "").split(";", 1)[0].strip().lower()
        try:
            text = req.body.decode("utf-8")
        except UnicodeDecodeError:
            raise V2Error(400, "invalid_request", "The body is not UTF-8") from None
        if ctype == "application/json" or ctype.endswith("+json"):
            try:
                loaded = json.loads(text)
            except ValueError:
                raise V2Error(400, "invalid_request", "The body is not valid JSON") from None
            if not isinstance(loaded, dict):
                raise V2Error(400, "invalid_request", "The JSON body must be an object")
            for key, value in loaded.items():
                params[str(key)] = _json_param(str(key), value)
        else:
            params.update(parse_qsl(text, keep_blank_values=True))
        return params

    def _token(self, req: Incoming) -> BearerRecord | None:
        header = req.header("authorization")
        if header is None:
            return None
        scheme, _, value = header.strip().partition(" ")
        challenge = 'Bearer realm="flattr", error="invalid_token"'
        with self.v2.lock:
            record = self.v2.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
            valid = record is not None and not record.revoked
            valid = valid and record is not None and record.user_id in self.store.users
        if not valid:
            raise V2Error(
                401,
                "unauthorized",
                "The access token is invalid or revoked",
                None,
                [("WWW-Authenticate", challenge)],
            )
        return record

    def _count(self, token: BearerRecord | None, headers: list[tuple[str, str]]) -> None:
        key = f"token:{token.token}" if token else "anonymous"
        within, window = self.v2.count_call(key, self.limit)
        headers += [
            ("X-RateLimit-Limit", str(self.limit)),
            ("X-RateLimit-Remaining", str(max(0, self.limit - window.count))),
        ]
        if self.mode != "early-2012":
            headers += [
                ("X-RateLimit-Current", str(window.count)),
                ("X-RateLimit-Reset", str(int(window.start + 3600))),
            ]
        if not within:
            raise V2Error(403, "rate_limit_exceeded", "Too many requests in the last hour")

    @staticmethod
    def _format(req: Incoming, suffix: str, allowed: tuple[str, ...]) -> str:
        if suffix:
            if suffix not in allowed:
                raise V2Error(406, "not_acceptable", f"The format {suffix!r} is not available")
            return suffix
        accept = req.header("accept")
        if not accept:
            return allowed[0]
        types = {part.split(";", 1)[0].strip().lower() for part in accept.split(",")}
        wanted = {"*/*", "application/*", "application/json", "text/javascript"}
        if "as" in allowed:
            wanted.add(_AS_TYPE)
        if "txt" in allowed and ("text/plain" in types or "text/*" in types):
            return "txt" if not types & wanted else allowed[0]
        if not types & wanted:
            raise V2Error(406, "not_acceptable", "Only JSON is available")
        return allowed[0]

    def _route(self, segs: list[str], method: str, params: dict[str, str]) -> Route | str | None:
        if method == "POST" and params.get("_method", "").lower() == "patch":
            method = "PATCH"
        table = self._table(segs)
        if table is None:
            return None
        if method == "HEAD" and "GET" in table:
            method = "GET"
        found = table.get(method)
        if found is None:
            return ", ".join(table)
        return found

    def _table(self, segs: list[str]) -> dict[str, Route] | None:
        subs = self.mode != "early-2012"
        match segs:
            case []:
                return {"GET": Route("GET", V2Rest.root, limited=False)}
            case ["users", name]:
                return {"GET": Route("GET", V2Rest.user_get, (name,))}
            case ["user"]:
                return {"GET": Route("GET", V2Rest.user_me)}
            case ["users", name, "things"]:
                return {"GET": Route("GET", V2Rest.user_things, (name,))}
            case ["user", "things"]:
                return {"GET": Route("GET", V2Rest.user_things, ())}
            case ["users", name, "flattrs"]:
                return {"GET": Route("GET", V2Rest.user_flattrs, (name,))}
            case ["user", "flattrs"]:
                return {"GET": Route("GET", V2Rest.user_flattrs, ())}
            case ["users", name, "activities"]:
                return {"GET": Route("GET", V2Rest.activities, (name,), ("as", "json"))}
            case ["user", "activities"]:
                return {"GET": Route("GET", V2Rest.activities, (), ("as", "json"))}
            case ["user", "subscriptions"] if subs:
                return {"GET": Route("GET", V2Rest.subscriptions)}
            case ["things"]:
                return {"POST": Route("POST", V2Rest.thing_create)}
            case ["things", "search"]:
                return {"GET": Route("GET", V2Rest.search)}
            case ["things", "lookup"]:
                return {"GET": Route("GET", V2Rest.lookup, ())}
            case ["things", "lookup", "q", *rest] if rest:
                return {"GET": Route("GET", V2Rest.lookup, ("/".join(rest),))}
            case ["things", ident] if "," in ident:
                return {"GET": Route("GET", V2Rest.things_many, (ident,))}
            case ["things", ident]:
                return {
                    "GET": Route("GET", V2Rest.thing_get, (ident,)),
                    "PATCH": Route("PATCH", V2Rest.thing_update, (ident,)),
                    "DELETE": Route("DELETE", V2Rest.thing_delete, (ident,)),
                }
            case ["things", ident, "flattrs"]:
                return {"GET": Route("GET", V2Rest.thing_flattrs, (ident,))}
            case ["things", ident, "flattr"]:
                return {"POST": Route("POST", V2Rest.flattr_thing, (ident,))}
            case ["things", ident, "subscriptions"] if subs:
                return {
                    "POST": Route("POST", V2Rest.subscribe, (ident,)),
                    "PUT": Route("PUT", V2Rest.toggle, (ident,)),
                    "DELETE": Route("DELETE", V2Rest.unsubscribe, (ident,)),
                }
            case ["flattr"]:
                return {"POST": Route("POST", V2Rest.flattr_url)}
            case ["categories"]:
                return {"GET": Route("GET", V2Rest.categories, (), ("json", "txt"))}
            case ["languages"]:
                return {"GET": Route("GET", V2Rest.languages, (), ("json", "txt"))}
            case ["rate_limit"]:
                return {"GET": Route("GET", V2Rest.rate_limit, (), limited=False)}
        return None

    # -- lookups ----------------------------------------------------------

    def _user_or_404(self, raw: str, resource: str = "users") -> FakeUser:
        user = self.store.user_by_name(unquote(raw))
        if user is None:
            raise _not_found("user", resource)
        return user

    def _thing_or_404(self, raw: str, resource: str = "things") -> FakeThing:
        number = ascii_int(raw)
        if number is None:
            raise _not_found("thing(s)", resource)
        with self.store.lock:
            thing = next((t for t in self.store.things.values() if t.int_id == number), None)
        if thing is None:
            raise _not_found("thing(s)", resource)
        return thing

    # -- root, users and their things -------------------------------------

    def root(self, call: Call) -> JSONValue:
        """R1 ``GET /``: the liveness probe gPodder used."""
        return {"message": "hello_world", "description": "Flattr REST API v2"}

    def user_get(self, call: Call) -> JSONValue:
        """R2 ``GET /users/:username`` (never private fields)."""
        return call.render.user(self._user_or_404(call.args[0]))

    def user_me(self, call: Call) -> JSONValue:
        """R3 ``GET /user``: adds ``email``/``registered_at`` as the scopes allow."""
        return call.render.user(call.need_user(), private=True)

    def user_things(self, call: Call) -> JSONValue:
        """R4 ``GET /users/:username/things`` and R5 ``GET /user/things``."""
        owner = self._user_or_404(call.args[0]) if call.args else call.need_user()
        own = owner is call.user
        full = call.flag("full") and self.mode != "early-2012"
        with self.store.lock:
            things = _newest_first(t for t in self.store.things_of(owner) if own or not t.hidden)
            _, _, page = _page_of(call, things)
            return [call.render.thing(t, full=full) for t in page]

    # -- things --------------------------------------------------------------

    def thing_get(self, call: Call) -> JSONValue:
        """R6 ``GET /things/:id`` (hidden things too: hiding only affects listings)."""
        thing = self._thing_or_404(call.args[0])
        with self.store.lock:
            return call.render.thing(thing, full=call.flag("full") and self.mode != "early-2012")

    def things_many(self, call: Call) -> JSONValue:
        """R7 ``GET /things/:id,:id``: in order, unknown skipped, 404 if none exists."""
        ids = list(dict.fromkeys(p for p in call.args[0].split(",") if p))
        if len(ids) > MAX_COUNT:
            raise V2Error(400, "invalid_parameters", f"At most {MAX_COUNT} ids", "things")
        found: list[FakeThing] = []
        for ident in ids:
            try:
                found.append(self._thing_or_404(ident))
            except V2Error:
                continue
        if not found:
            raise _not_found("thing(s)", "things")
        full = call.flag("full") and self.mode != "early-2012"
        with self.store.lock:
            return [call.render.thing(t, full=full) for t in found]

    def _find_url(self, url: str) -> FakeThing | None:
        wanted = _norm_url(url)
        with self.store.lock:
            exact = self.store.thing_by_url(url)
            if exact is not None:
                return exact
            return next((t for t in self.store.things.values() if _norm_url(t.url) == wanted), None)

    def lookup(self, call: Call) -> JSONValue:
        """R8 ``GET /things/lookup?url=``: 302 to the thing, or 404 with a message body."""
        url = unquote(call.args[0]) if call.args else call.params.get("url")
        if not url:
            raise V2Error(400, "invalid_parameters", "url: give the URL to look up", "things")
        auto = parse_auto_submit(url)
        owner_name = None
        if auto is not None:
            owner_name = auto.get("user_id")
            url = auto.get("url", "")
        thing = self._find_url(url) if url else None
        if thing is None:
            raise _Answer(404, {"message": "not_found", "description": "No thing was found"})
        if owner_name and owner_name.casefold() != thing.owner.username.casefold():
            raise V2Error(
                400,
                "validation",
                "Owner mismatch. Current thing owned by other account.",
                "things",
            )
        location = f"{call.render.api}/things/{thing.int_id}"
        answer = Outgoing(302, JSON_TYPE, dumps({"message": "found", "location": location}))
        answer.headers.append(("Location", location))
        return answer

    def _thing_fields(self, call: Call, *, create: bool) -> dict[str, object]:
        """Validate R9/R10 parameters into :class:`FakeThing` fields (400 ``validation``)."""
        p = call.params
        fields: dict[str, object] = {}

        def invalid(text: str) -> V2Error:
            return V2Error(400, "validation", text, "things")

        if create:
            url = p.get("url", "")
            parts = urlsplit(url) if url and not any(c.isspace() for c in url) else None
            if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
                raise invalid("Invalid url")
            fields["url"] = url
        for name in ("title", "description"):
            if name in p:
                if "\x00" in p[name]:
                    raise invalid(f"Invalid {name}")
                fields[name] = p[name].strip()
        if "title" in fields and not fields["title"]:
            raise invalid("Invalid title: empty")
        if len(str(fields.get("title", ""))) > 100:
            raise invalid("Invalid title: at most 100 characters")
        if len(str(fields.get("description", ""))) > 1000:
            raise invalid("Invalid description: at most 1000 characters")
        if "category" in p:
            if p["category"] not in CATEGORY_IDS_V2:
                raise invalid(f"Invalid category {p['category']!r}")
            fields["category"] = p["category"]
        if "language" in p:
            if p["language"] not in LANGUAGE_IDS_V2:
                raise invalid(f"Invalid language {p['language']!r}")
            fields["language"] = p["language"]
        if "tags" in p:
            raw = p["tags"]
            if raw.startswith("\x1e"):  # a JSON array, see _json_param
                items = raw[1:].split("\x1e") if len(raw) > 1 else []
                if any("," in t for t in items):
                    raise invalid("Invalid tags: a tag may not contain a comma")
            else:
                items = raw.split(",")
            fields["tags"] = tuple(dict.fromkeys(t.strip() for t in items if t.strip()))
        if "hidden" in p:
            folded = p["hidden"].strip().lower()
            if folded not in ("true", "false", "1", "0"):
                raise invalid("Invalid hidden: use true or false")
            fields["hidden"] = folded in ("true", "1")
        return fields

    def _create(self, owner: FakeUser, fields: dict[str, object]) -> FakeThing:
        url = str(fields["url"])
        existing = self._find_url(url)
        if existing is not None:
            raise V2Error(
                400, "validation", f"URL already registered as thing {existing.int_id}", "things"
            )
        tags = fields.get("tags", ())
        assert isinstance(tags, tuple)
        try:
            return self.store.add_thing(
                owner,
                url=url,
                title=str(fields.get("title") or url),
                description=str(fields.get("description", "")),
                category=str(fields.get("category", "rest")),
                language=str(fields.get("language", "en_GB")),
                tags=tags,
                hidden=bool(fields.get("hidden", False)),
                clicks=0,
                created=None,
                categories=CATEGORY_IDS_V2,
            )
        except ValueError as error:
            raise V2Error(400, "validation", str(error), "things") from None

    def thing_create(self, call: Call) -> JSONValue:
        """R9 ``POST /things``: 201 with the id and the API link."""
        owner = call.need_scope("thing", "things")
        thing = self._create(owner, self._thing_fields(call, create=True))
        body = {
            "id": thing.int_id,
            "link": f"{call.render.api}/things/{thing.int_id}",
            "message": "ok",
            "description": "Thing was created successfully",
        }
        return Outgoing(201, JSON_TYPE, dumps(body))

    def _own_thing(self, call: Call) -> FakeThing:
        user = call.need_scope("thing", "things")
        thing = self._thing_or_404(call.args[0])
        if thing.owner is not user:
            raise V2Error(403, "forbidden", "This thing is not yours", "things")
        return thing

    def thing_update(self, call: Call) -> JSONValue:
        """R10 ``PATCH /things/:id`` (or POST with ``_method=patch``); ``url`` is ignored."""
        thing = self._own_thing(call)
        fields = self._thing_fields(call, create=False)
        fields["updated"] = int(self.store.clock())
        try:
            self.store.update_thing(thing, **fields)
        except ValueError as error:
            raise V2Error(400, "validation", str(error), "things") from None
        return {"message": "ok", "description": "Thing was updated correctly"}

    def thing_delete(self, call: Call) -> JSONValue:
        """R11 ``DELETE /things/:id``: 204; its flattrs and subscriptions go too."""
        thing = self._own_thing(call)
        self.store.remove_thing(thing)
        self.v2.forget_thing(thing)
        return Outgoing(204, JSON_TYPE, b"")

    def search(self, call: Call) -> JSONValue:
        """R12 ``GET /things/search``: ``{"total_items", "items", "page", "things"}``."""
        p = call.params
        sort = p.get("sort", "relevance")
        if sort not in SORTS:
            raise V2Error(400, "invalid_parameters", f"sort: unknown value {sort!r}", "things")
        tests: list[Callable[[FakeThing], bool]] = []
        if p.get("query", "").strip():
            words = [w.casefold() for w in p["query"].split()]

            def by_text(t: FakeThing) -> bool:
                text = " ".join((t.title, t.description, *t.tags)).casefold()
                return all(w in text for w in words)

            tests.append(by_text)
        if p.get("url"):
            wanted = _norm_url(p["url"])
            tests.append(lambda t: _norm_url(t.url) == wanted)
        if p.get("tags", "").strip():
            tests.append(_tag_matcher(p["tags"]))
        for key in ("language", "category"):
            if p.get(key):
                values = {v.strip() for v in p[key].split(",") if v.strip()}
                tests.append(lambda t, k=key, vs=values: getattr(t, k) in vs)  # type: ignore[misc]
        if p.get("user"):
            name = p["user"].casefold()
            tests.append(lambda t: t.owner.username.casefold() == name)
        include_own_hidden = call.token is not None and "extendedread" in call.token.scopes
        full = call.flag("full") and self.mode != "early-2012"
        with self.store.lock:
            matches = [
                t
                for t in self.store.things.values()
                if (not t.hidden or (include_own_hidden and t.owner is call.user))
                and all(test(t) for test in tests)
            ]
            matches = self._sorted(matches, sort)
            page, _, shown = _page_of(call, matches)
            return {
                "total_items": len(matches),
                "items": len(shown),
                "page": page,
                "things": [call.render.thing(t, full=full) for t in shown],
            }

    def _sorted(self, things: list[FakeThing], sort: str) -> list[FakeThing]:
        newest = _newest_first(things)
        span = SORTS[sort]
        if span is None:
            return newest
        if span == 0:
            return sorted(newest, key=lambda t: t.clicks, reverse=True)
        since = self.store.clock() - span
        recent: dict[int, int] = {}
        for record in self.v2.flattrs:
            if record.created >= since:
                recent[record.thing.int_id] = recent.get(record.thing.int_id, 0) + 1
        return sorted(newest, key=lambda t: recent.get(t.int_id, 0), reverse=True)

    # -- flattrs -----------------------------------------------------------

    def _flattr_list(self, call: Call, records: list[FlattrRecord]) -> JSONValue:
        full = call.flag("full") and self.mode != "early-2012"
        with self.store.lock:
            _, _, page = _page_of(call, records)
            return [call.render.flattr(r, full=full) for r in page]

    def user_flattrs(self, call: Call) -> JSONValue:
        """R13 ``GET /users/:username/flattrs`` and R14 ``GET /user/flattrs``."""
        user = self._user_or_404(call.args[0], "flattrs") if call.args else call.need_user()
        if self.v2.extras_for(user).hide_flattrs and user is not call.user:
            return []
        with self.v2.lock:
            records = [f for f in reversed(self.v2.flattrs) if f.user is user]
        return self._flattr_list(call, records)

    def thing_flattrs(self, call: Call) -> JSONValue:
        """R15 ``GET /things/:id/flattrs`` (anonymous allowed; hiding users left out)."""
        thing = self._thing_or_404(call.args[0], "flattrs")
        records = [
            f
            for f in self.v2.flattrs_of_thing(thing)
            if not self.v2.extras_for(f.user).hide_flattrs or f.user is call.user
        ]
        return self._flattr_list(call, records)

    def _flattr(self, call: Call, user: FakeUser, thing: FakeThing) -> JSONValue:
        if thing.owner is user:
            raise V2Error(403, "flattr_owner", "You may not flattr your own thing", "flattrs")
        extras = self.v2.extras_for(user)
        now = int(self.store.clock())
        with self.store.lock:
            if call.render.flattred(thing):
                raise V2Error(
                    403,
                    "flattr_once",
                    "You may not flattr this thing more than once this period",
                    "flattrs",
                )
            if extras.means is not None and extras.means <= 0:
                code = "no_money" if self.mode == "2014" else "no_means"
                raise V2Error(401, code, "You have no means to flattr with", "flattrs")
            if extras.means is not None:
                extras.means -= 1
            self.store.click(thing, user)
            self.v2.flattrs.append(FlattrRecord(user, thing, now))
            return {
                "message": "ok",
                "description": "Thing was successfully flattred",
                "thing": call.render.mini_thing(thing),
                "location": f"{call.render.api}/things/{thing.int_id}",
            }

    def flattr_thing(self, call: Call) -> JSONValue:
        """R16 ``POST /things/:id/flattr``."""
        user = call.need_scope("flattr", "flattrs")
        return self._flattr(call, user, self._thing_or_404(call.args[0], "flattrs"))

    def flattr_url(self, call: Call) -> JSONValue:
        """R17 ``POST /flattr``: a registered URL or an auto-submit URL (created if new)."""
        user = call.need_scope("flattr", "flattrs")
        url = call.params.get("url", "")
        if not url:
            raise V2Error(400, "invalid_parameters", "url: give the URL to flattr", "flattrs")
        auto = parse_auto_submit(url)
        if auto is None:
            thing = self._find_url(url)
            if thing is None:
                raise V2Error(404, "not_found", "Thing does not exist", "flattrs")
            return self._flattr(call, user, thing)
        owner_name, inner = auto.get("user_id", ""), auto.get("url", "")
        if not owner_name or not inner:
            raise V2Error(
                400, "invalid_parameters", "the auto-submit URL needs user_id and url", "flattrs"
            )
        owner = self.store.user_by_name(owner_name)
        if owner is None:
            raise _not_found("user", "flattrs")
        thing = self._find_url(inner)
        if thing is None:
            given = {k: v for k, v in auto.items() if k not in ("user_id", "owner")}
            sub = Call(call.req, (), given, owner, None, "json", call.render)
            thing = self._create(owner, self._thing_fields(sub, create=True))
        elif thing.owner is not owner:
            raise V2Error(
                400,
                "validation",
                "Owner mismatch. Current thing owned by other account.",
                "flattrs",
            )
        return self._flattr(call, user, thing)

    # -- R18, R19: activities ---------------------------------------------

    def activities(self, call: Call) -> JSONValue:
        """R18/R19: Activity Streams JSON, ``type`` ``outgoing`` (default) or ``incoming``."""
        user = self._user_or_404(call.args[0], "activities") if call.args else call.need_user()
        kind = call.params.get("type", "outgoing")
        if kind not in ("outgoing", "incoming"):
            raise V2Error(400, "invalid_parameters", "type: outgoing or incoming", "activities")
        with self.v2.lock:
            if kind == "outgoing":
                hidden = self.v2.extras_for(user).hide_flattrs and user is not call.user
                records = [] if hidden else [f for f in self.v2.flattrs if f.user is user]
            else:
                records = [f for f in self.v2.flattrs if f.thing.owner is user]
            newest = sorted(records, key=lambda f: f.created, reverse=True)[:30]
            return {"items": [call.render.activity(f) for f in newest]}

    # -- subscriptions -----------------------------------------------------

    def subscriptions(self, call: Call) -> JSONValue:
        """R20 ``GET /user/subscriptions``, newest first."""
        user = call.need_scope("flattr", "subscriptions")
        with self.store.lock:
            mine = [s for s in self.v2.subscriptions if s.user is user]
            mine.sort(key=lambda s: s.created, reverse=True)
            return [call.render.subscription(s) for s in mine]

    def subscribe(self, call: Call) -> JSONValue:
        """R21 ``POST /things/:id/subscriptions`` (200, not 201)."""
        user = call.need_scope("flattr", "subscriptions")
        thing = self._thing_or_404(call.args[0], "subscriptions")
        if thing.owner is user:
            raise V2Error(
                403,
                "thing_owner",
                "You are not allowed to subscribe to your own thing",
                "subscriptions",
            )
        now = int(self.store.clock())
        with self.store.lock:
            if self.v2.subscription(user, thing) is not None:
                raise V2Error(
                    403, "subscribed", "User already subscribed to thing", "subscriptions"
                )
            self.v2.subscriptions.append(Subscription(user, thing, now, now))
            return {
                "message": "ok",
                "description": "Successfully subscribed to Thing",
                "thing": call.render.mini_thing(thing),
            }

    def _subscription_or_404(self, call: Call) -> Subscription:
        user = call.need_scope("flattr", "subscriptions")
        thing = self._thing_or_404(call.args[0], "subscriptions")
        sub = self.v2.subscription(user, thing)
        if sub is None:
            raise _not_found("subscription", "subscriptions")
        return sub

    def toggle(self, call: Call) -> JSONValue:
        """R22 ``PUT /things/:id/subscriptions``: pause a running one, restart a paused one."""
        sub = self._subscription_or_404(call)
        with self.v2.lock:
            sub.active = not sub.active
            if sub.active:
                sub.started = int(self.store.clock())
                return {"message": "started", "description": "Subscription started"}
            return {"message": "paused", "description": "Subscription paused"}

    def unsubscribe(self, call: Call) -> JSONValue:
        """R23 ``DELETE /things/:id/subscriptions``: 204."""
        sub = self._subscription_or_404(call)
        with self.v2.lock:
            self.v2.subscriptions.remove(sub)
        return Outgoing(204, JSON_TYPE, b"")

    # -- catalogue and rate limit ----------------------------------------------------------

    @staticmethod
    def _catalogue(call: Call, entries: tuple[tuple[str, str], ...]) -> JSONValue:
        if call.fmt == "txt":
            text = "".join(f"{i};{t}\n" for i, t in entries)
            return Outgoing(200, "text/plain;charset=utf-8", text.encode())
        return [{"id": i, "text": t} for i, t in entries]

    def categories(self, call: Call) -> JSONValue:
        """R24 ``GET /categories`` (``.txt``: ``id;text`` lines)."""
        return self._catalogue(call, CATEGORIES_V2)

    def languages(self, call: Call) -> JSONValue:
        """R25 ``GET /languages``: the 45 languages, ``en_GB`` first."""
        return self._catalogue(call, LANGUAGES_V2)

    def rate_limit(self, call: Call) -> JSONValue:
        """R26 ``GET /rate_limit``: not counted, no ``X-RateLimit-*`` headers."""
        key = f"token:{call.token.token}" if call.token else "anonymous"
        window = self.v2.peek_window(key)
        reset = int(window.start + 3600)
        return {
            "hourly_limit": self.limit,
            "remaining_hits": max(0, self.limit - window.count),
            "current_hits": window.count,
            "reset_time_in_seconds": reset,
            "reset_time": time.strftime("%a, %d %b %Y %H:%M:%S +0000 GMT", time.gmtime(reset)),
        }


def _json_param(name: str, value: object) -> str:
    """One JSON body value as the string a form would carry.

    A JSON array of tags is kept apart (joined with a record separator) so a comma
    inside one tag can be refused instead of splitting it.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    if name == "tags" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\x1e" + "\x1e".join(value)
    raise V2Error(400, "invalid_parameters", f"{name}: unexpected JSON value")
