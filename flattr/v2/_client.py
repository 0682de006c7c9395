"""FlattrClient for API v2: one method per resource, with a bearer token or anonymously.

Reads are retried by the transport as in 0.0.1; writes (POST, PATCH, DELETE)
never are. Lists are iterators that fetch one page when iteration reaches it.
Every check of the arguments happens when the method is called, before any
request, even for the iterators.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final, TypeVar
from urllib.parse import parse_qsl, quote, urljoin, urlsplit

from flattr import _validate
from flattr._http import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    BearerSigner,
    Request,
    Response,
    Transport,
)
from flattr._redact import mask, scrub, scrubbed
from flattr.errors import Advice, AuthenticationError, NotFoundError, ResponseError, ValidationError
from flattr.models import Category, Language
from flattr.v2 import _catalog, _json, _responses
from flattr.v2._models import AccessToken, Flattr, RateLimit, Subscription, Thing, User
from flattr.v2._validate import (
    check_category,
    check_language,
    check_lookup_url,
    check_tags,
    check_text,
    check_thing_id,
    check_username,
    one_or_more,
)

__all__ = ["FlattrClient"]

log = logging.getLogger("flattr.v2")

T = TypeVar("T")

_JSON: Final = "application/json"
_ACCEPT: Final = (("Accept", _JSON),)
#: A loop guard: the most pages one iteration fetches (100 000 items at 100 a page).
_MAX_PAGES: Final = 1000
_THING_PATH: Final = re.compile(r"/things/([1-9][0-9]{0,17})/?$")
_UPDATABLE: Final = ("title", "description", "category", "language", "tags", "hidden")


# -- argument checks (v2 shares 0.0.1's URL and tag rules, not its length limits) ----


def _segment(value: str) -> str:
    return quote(value, safe="")


def _token(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, AccessToken):
        value = value.token
    elif not isinstance(value, str):
        raise ValidationError(
            "token", "must be a v2.AccessToken, the token string, or None (anonymous)"
        )
    return _validate.credential("token", value)


class FlattrClient:
    """Calls API v2 for one user (bearer token) or anonymously (``None``).

    One client may be shared by threads: each gets its own keep-alive
    connection.

    :param token: a :class:`~flattr.v2.AccessToken`, the token string, or
        ``None`` for anonymous calls (public resources only).
    :param base_url: the API host (``https://api.flattr.com``; ``/rest/v2`` is
        appended), or a :class:`flattr.testing.FakeFlattr`'s ``base_url``.
    :param timeout: seconds allowed for connecting and for each read.
    :param ca_certs: a PEM bundle of CAs to trust for this server.
    :param retries: how often a read is retried after a connection failure or a
        502/503/504 answer. Writes are never retried.
    :param max_response_bytes: the largest answer accepted.
    :param page_size: items per page for the iterators (1 to 100).
    :param allow_cleartext_http: allow a plain ``http://`` base URL to a host that
        is not loopback (every request, and the token, would go in clear text).
    :ivar scopes: the scopes of the :class:`~flattr.v2.AccessToken` given (``()``
        for a token string or an anonymous client).
    :param transport: a transport to share (its options win over the ones above).
    :raises ValidationError: for a token that is empty or not a string.
    """

    def __init__(
        self,
        token: AccessToken | str | None,
        *,
        base_url: str = _catalog.API_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT,
        ca_certs: str | None = None,
        retries: int = 2,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        page_size: int = _catalog.MAX_PAGE_SIZE,
        transport: Transport | None = None,
        allow_cleartext_http: bool = False,
    ) -> None:
        try:
            checked = _token(token)
        except ValidationError as exc:
            # the bad value is in this frame and the ones below: out of the traceback
            scrub(exc)
            del token
            raise
        self.scopes: tuple[str, ...] = token.scopes if isinstance(token, AccessToken) else ()
        self._signer = BearerSigner(checked)
        self._masked = "anonymous" if checked is None else mask(checked)
        # nothing below may show the token if it raises
        del token, checked
        self.base_url = _validate.base_url(base_url, allow_cleartext_http=allow_cleartext_http)
        parts = urlsplit(self.base_url)
        self._origin = (parts.scheme, (parts.hostname or "").lower(), parts.port)
        self._rest = f"{self.base_url}{_catalog.REST_PREFIX}"
        if (
            isinstance(page_size, bool)
            or not isinstance(page_size, int)
            or not 1 <= page_size <= _catalog.MAX_PAGE_SIZE
        ):
            raise ValidationError("page_size", f"must be 1 to {_catalog.MAX_PAGE_SIZE}")
        self.page_size = page_size
        self._transport = transport or Transport(
            timeout=timeout,
            ca_certs=ca_certs,
            retries=retries,
            max_response_bytes=max_response_bytes,
        )

    def __repr__(self) -> str:
        # getattr: a repr of a half-built client (in a traceback's locals) must work too
        base_url = getattr(self, "base_url", None)
        return f"v2.FlattrClient(base_url={base_url!r}, token={getattr(self, '_masked', '…')!r})"

    def __enter__(self) -> FlattrClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the idle connections of every thread; the client stays usable."""
        self._transport.close()

    @property
    def anonymous(self) -> bool:
        """Whether this client calls without a token."""
        return self._signer.anonymous

    # -- the paths every call takes -----------------------------------------

    def _need_token(self, what: str) -> None:
        if self._signer.anonymous:
            raise AuthenticationError(
                401,
                f"{what} needs an access token; this client is anonymous",
                code="unauthorized",
                hint="Pass a v2.AccessToken (from v2.FlattrAuth.fetch_token) to v2.FlattrClient",
                advice=Advice.AUTHORIZE_AGAIN,
            )

    def _send(self, request: Request) -> Response:
        # The transport clears its own frames (and httplib2's) of what it raises.
        return self._transport.send(request, self._signer)

    def _get(self, path: str, query: tuple[tuple[str, str], ...] = ()) -> Any:
        request = Request("GET", self._rest + path, query=query, headers=_ACCEPT)
        response = self._send(request)
        try:  # not a context manager: this is every call's path
            return _responses.json_body(request, response)
        except BaseException as exc:
            scrub(exc)
            raise

    def _write(
        self,
        method: str,
        path: str,
        fields: Mapping[str, object] | None = None,
        *,
        ok: tuple[int, ...] = (200,),
    ) -> Any:
        body = None if fields is None else json.dumps(fields, ensure_ascii=False).encode()
        request = Request(
            method,
            self._rest + path,
            body=body,
            content_type=_JSON if body is not None else None,
            headers=_ACCEPT,
            idempotent=False,
        )
        response = self._send(request)
        with scrubbed():
            if response.status == 204 and 204 in ok:
                return None
            return _responses.json_body(request, response, ok=ok)

    def _pages(
        self, path: str, query: tuple[tuple[str, str], ...], read: Callable[[Any], list[Any]]
    ) -> Iterator[Any]:
        count = self.page_size
        for page in range(1, _MAX_PAGES + 1):
            items = read(self._get(path, (*query, ("page", str(page)), ("count", str(count)))))
            yield from items
            if len(items) < count:
                return

    def _list(
        self, path: str, query: tuple[tuple[str, str], ...], parse: Callable[..., T]
    ) -> Iterator[T]:
        what = f"GET {path}"

        def read(data: Any) -> list[Any]:
            return _json.array(data, what)

        for item in self._pages(path, query, read):
            yield parse(item)

    # -- users --------------------------------------------------------------

    def me(self) -> User:
        """The user the token belongs to (``GET /user``).

        :returns: the user, with ``email``/``registered`` when the scopes allow.
        :raises AuthenticationError: anonymous client (nothing sent) or a bad token.
        """
        self._need_token("me()")
        return User.from_json(self._get("/user"))

    def user(self, username: str) -> User:
        """A user by name (``GET /users/:username``).

        :param username: the user name.
        :returns: the user (public fields only).
        :raises ValidationError: for an empty name or one with ``/``.
        :raises NotFoundError: no such user.
        """
        return User.from_json(self._get(f"/users/{_segment(check_username(username))}"))

    # -- things -------------------------------------------------------------

    def thing(self, thing_id: int) -> Thing:
        """One thing by id (``GET /things/:id``).

        :param thing_id: a positive integer.
        :returns: the thing (``flattred``/``subscribed`` only with a token).
        :raises ValidationError: for an id that is not a positive integer.
        :raises NotFoundError: no such thing.
        """
        return Thing.from_json(self._get(f"/things/{_checked_id(thing_id)}"))

    def things(self, ids: Iterable[int]) -> tuple[Thing, ...]:
        """Several things in one call (``GET /things/:id,:id``).

        :param ids: 1 to 100 thing ids.
        :returns: the things that exist, in the server's order; ``()`` if none does.
        :raises ValidationError: for no ids, more than 100, or a bad id.
        """
        if isinstance(ids, str | bytes) or not isinstance(ids, Iterable):
            raise ValidationError("ids", "must be a sequence of thing ids")
        checked = list(dict.fromkeys(check_thing_id(each, "ids") for each in ids))
        if not checked:
            raise ValidationError("ids", "name at least one thing id")
        if len(checked) > _catalog.MAX_IDS:
            raise ValidationError("ids", f"at most {_catalog.MAX_IDS} ids per call")
        try:
            data = self._get("/things/" + ",".join(map(str, checked)))
        except NotFoundError:
            return ()
        if isinstance(data, dict):  # one id: the server answers the object itself
            data = [data]
        return tuple(Thing.from_json(item) for item in _json.array(data, "GET /things/:ids"))

    def lookup(self, url: str) -> Thing | None:
        """The thing registered for a URL, or an auto-submit URL's thing (``/things/lookup``).

        The server answers with a redirect to the thing; it is followed only
        to this client's own origin (scheme, host and port), so the token is
        never sent elsewhere. A redirect to another host that names a thing
        (``.../things/<id>``) is resolved by asking this client's server for
        that id; any other redirect is a :class:`~flattr.ResponseError`.

        :param url: the content URL (or auto-submit URL).
        :returns: the thing, or ``None`` when no thing has that URL.
        :raises ValidationError: for a URL that is not absolute http(s).
        """
        checked = check_lookup_url(url)
        request = Request(
            "GET",
            f"{self._rest}/things/lookup",
            query=(("url", checked),),
            headers=_ACCEPT,
        )
        response = self._send(request)
        with scrubbed():
            status = response.status
            if status == 404:
                return None
            if status in (301, 302, 303, 307, 308):
                return self._follow_lookup(request, response)
            data = _json.obj(_responses.json_body(request, response), "GET /things/lookup")
            if data.get("message") == "not_found":
                return None
            if "location" in data and "id" not in data:
                return self._follow_lookup(request, response, data.get("location"))
            return Thing.from_json(data)

    def _follow_lookup(
        self, request: Request, response: Response, location: object = None
    ) -> Thing | None:
        if location is None:
            location = response.headers.get("location")
            if not location and response.body:
                body = _json.loads(response.body, what="GET /things/lookup", status=302)
                location = body.get("location") if isinstance(body, dict) else None
        if not isinstance(location, str) or not location:
            raise ResponseError(
                "GET /things/lookup: a redirect without a location", status=response.status
            )
        target = urlsplit(urljoin(request.url, location))
        origin = (target.scheme, (target.hostname or "").lower(), target.port)
        if origin == self._origin and not target.username and not target.password:
            follow = Request(
                "GET",
                f"{target.scheme}://{target.netloc}{target.path}",
                query=tuple(parse_qsl(target.query)),
                headers=_ACCEPT,
            )
            answer = self._send(follow)
            if answer.status == 404:
                return None
            return Thing.from_json(_responses.json_body(follow, answer))
        match = _THING_PATH.search(target.path)
        if match is None:
            raise ResponseError(
                f"GET /things/lookup: redirected to another host ({target.hostname}) "
                "and not to a thing; not followed",
                status=response.status,
            )
        log.debug(
            "lookup redirected to %s; asking our own server for thing %s",
            target.hostname,
            match.group(1),
        )
        try:
            return self.thing(int(match.group(1)))
        except NotFoundError:
            return None

    def search(
        self,
        query: str | None = None,
        *,
        tags: str | None = None,
        url: str | None = None,
        language: str | Iterable[str] | None = None,
        category: str | Iterable[str] | None = None,
        user: str | None = None,
        sort: str | None = None,
    ) -> Iterator[Thing]:
        """Search things (``GET /things/search``), page by page as iteration goes.

        :param query: free text.
        :param tags: a tag expression: ``|`` or, ``&`` and, ``!`` not
            (``"game | games ! software"``).
        :param url: only things with this URL.
        :param language: a language id, or several.
        :param category: a category id, or several.
        :param user: only things of this user.
        :param sort: ``relevance`` (the server's default), ``trend``, ``flattrs``,
            ``flattrs_month``, ``flattrs_week`` or ``flattrs_day``.
        :returns: an iterator over the matching things.
        :raises ValidationError: for a bad argument, when called (nothing is sent).
        """
        params: list[tuple[str, str]] = []
        if query is not None:
            params.append(("query", check_text("query", query, multiline=False)))
        if tags is not None:
            params.append(("tags", check_text("tags", tags, multiline=False)))
        if url is not None:
            params.append(("url", _validate.thing_url(url)))
        if language is not None:
            params.append(("language", one_or_more("language", language, check_language)))
        if category is not None:
            params.append(("category", one_or_more("category", category, check_category)))
        if user is not None:
            params.append(("user", check_username(user, "user")))
        if sort is not None:
            if sort not in _catalog.SEARCH_SORTS:
                allowed = ", ".join(sorted(_catalog.SEARCH_SORTS))
                raise ValidationError("sort", f"unknown sort {sort!r}; choose from {allowed}")
            params.append(("sort", sort))

        def read(data: Any) -> list[Any]:
            body = _json.obj(data, "GET /things/search")
            return _json.array(body.get("things"), "GET /things/search things")

        return (
            Thing.from_json(item) for item in self._pages("/things/search", tuple(params), read)
        )

    def user_things(self, username: str | None = None) -> Iterator[Thing]:
        """A user's things, newest first, page by page (``/users/:u/things``).

        :param username: the user; ``None`` for the token's own user (``/user/things``,
            hidden things included).
        :returns: an iterator over the things.
        :raises AuthenticationError: ``None`` on an anonymous client (nothing sent).
        """
        if username is None:
            self._need_token("user_things() without a username")
            path = "/user/things"
        else:
            path = f"/users/{_segment(check_username(username))}/things"
        return self._list(path, (), Thing.from_json)

    def create_thing(
        self,
        url: str,
        *,
        title: str | None = None,
        description: str | None = None,
        category: str | None = None,
        language: str | None = None,
        tags: Iterable[str] = (),
        hidden: bool = False,
    ) -> int:
        """Register a thing (``POST /things``, scope ``thing``); never retried.

        Options left as ``None`` are not sent, so the server's defaults apply
        (the URL as title, category ``rest``, language ``en_GB``).

        :param url: the content's absolute http(s) URL.
        :param title: its title.
        :param description: its description.
        :param category: a category id.
        :param language: a language id.
        :param tags: tags, none with a comma.
        :param hidden: hide it from listings and search.
        :returns: the new thing's id.
        :raises ValidationError: for a bad argument or an anonymous client; nothing is sent.
        :raises APIError: the server refused (code ``validation`` for bad data).
        :raises UncertainResultError: no answer came back; look the URL up
            with :meth:`lookup` before trying again.
        """
        fields: dict[str, object] = {"url": _validate.thing_url(url)}
        fields.update(
            _thing_fields(
                title=title,
                description=description,
                category=category,
                language=language,
                tags=tags,
                hidden=hidden,
            )
        )
        if hidden is False:
            del fields["hidden"]
        if not fields.get("tags"):
            fields.pop("tags", None)
        self._need_token("create_thing()")
        data = _json.obj(self._write("POST", "/things", fields, ok=(200, 201)), "POST /things")
        return _json.positive_id(data, "id", "POST /things")

    def update_thing(self, thing_id: int, **fields: Any) -> None:
        """Change a thing's title, description, category, language, tags or hidden flag.

        (``PATCH /things/:id``, scope ``thing``); never retried. Its URL cannot change.

        :param thing_id: the thing.
        :param fields: any of ``title``, ``description``, ``category``,
            ``language``, ``tags`` (a sequence), ``hidden`` (a bool).
        :raises ValidationError: for no field, an unknown one, a bad value, or
            an anonymous client; nothing is sent.
        :raises ForbiddenError: not the caller's thing (``forbidden``) or no
            ``thing`` scope (``insufficient_scope``).
        """
        checked_id = _checked_id(thing_id)
        unknown = sorted(set(fields) - set(_UPDATABLE))
        if unknown:
            name = unknown[0]
            why = (
                "cannot be changed"
                if name == "url"
                else f"is not a thing field ({', '.join(_UPDATABLE)})"
            )
            raise ValidationError(name, why)
        if not fields:
            raise ValidationError("fields", f"name at least one of {', '.join(_UPDATABLE)}")
        for name, value in fields.items():
            if value is None:
                raise ValidationError(name, "must not be None (leave the field out to keep it)")
        values = _thing_fields(**{name: fields.get(name) for name in _UPDATABLE})
        body: dict[str, object] = {name: values[name] for name in _UPDATABLE if name in fields}
        self._need_token("update_thing()")
        self._write("PATCH", f"/things/{checked_id}", body)

    def delete_thing(self, thing_id: int) -> None:
        """Delete a thing (``DELETE /things/:id``, scope ``thing``); never retried.

        :param thing_id: the thing.
        :raises ForbiddenError: not the caller's thing, or no ``thing`` scope.
        :raises NotFoundError: no such thing.
        """
        checked_id = _checked_id(thing_id)
        self._need_token("delete_thing()")
        self._write("DELETE", f"/things/{checked_id}", ok=(200, 204))

    # -- flattrs ------------------------------------------------------------

    def flattr(self, thing_id: int) -> None:
        """Flattr a thing (``POST /things/:id/flattr``, scope ``flattr``); never retried.

        :param thing_id: the thing.
        :raises ForbiddenError: ``code`` ``flattr_once`` (already this month) or
            ``flattr_owner`` (your own thing).
        :raises AuthenticationError: ``code`` ``no_means``: nothing to flattr with.
        :raises NotFoundError: no such thing.
        """
        checked_id = _checked_id(thing_id)
        self._need_token("flattr()")
        self._write("POST", f"/things/{checked_id}/flattr")

    def flattr_url(self, url: str) -> int:
        """Flattr a URL: a registered thing's or an auto-submit URL (``POST /flattr``).

        An auto-submit URL (:func:`flattr.auto_submit_url`) whose content has
        no thing yet creates it, then flattrs it. Never retried.

        :param url: the URL.
        :returns: the id of the thing flattred.
        :raises ValidationError: for a URL that is not absolute http(s).
        :raises NotFoundError: the URL is neither registered nor auto-submit.
        """
        checked = check_lookup_url(url)
        self._need_token("flattr_url()")
        data = _json.obj(self._write("POST", "/flattr", {"url": checked}), "POST /flattr")
        thing = data.get("thing")
        if isinstance(thing, dict):
            return _json.positive_id(thing, "id", "POST /flattr thing")
        location = data.get("location")
        match = _THING_PATH.search(urlsplit(location).path) if isinstance(location, str) else None
        if match is None:
            raise ResponseError("POST /flattr: the answer names no thing")
        return int(match.group(1))

    def flattrs(self, username: str | None = None) -> Iterator[Flattr]:
        """The flattrs a user made, newest first, page by page.

        :param username: the user; ``None`` for the token's own user.
        :returns: an iterator over the flattrs.
        :raises AuthenticationError: ``None`` on an anonymous client (nothing sent).
        """
        if username is None:
            self._need_token("flattrs() without a username")
            path = "/user/flattrs"
        else:
            path = f"/users/{_segment(check_username(username))}/flattrs"
        return self._list(path, (), Flattr.from_json)

    # -- subscriptions ------------------------------------------------------

    def subscriptions(self) -> tuple[Subscription, ...]:
        """The token's user's subscriptions (``GET /user/subscriptions``, scope ``flattr``).

        :returns: the subscriptions, newest first.
        :raises AuthenticationError: anonymous client (nothing sent) or a bad token.
        """
        self._need_token("subscriptions()")
        data = _json.array(self._get("/user/subscriptions"), "GET /user/subscriptions")
        return tuple(Subscription.from_json(item) for item in data)

    def subscribe(self, thing_id: int) -> None:
        """Subscribe to a thing (``POST /things/:id/subscriptions``); never retried.

        :param thing_id: the thing.
        :raises ForbiddenError: ``thing_owner`` (your own), ``subscribed`` (already).
        """
        checked_id = _checked_id(thing_id)
        self._need_token("subscribe()")
        self._write("POST", f"/things/{checked_id}/subscriptions")

    def unsubscribe(self, thing_id: int) -> None:
        """End a subscription (``DELETE /things/:id/subscriptions``); never retried.

        :param thing_id: the thing.
        :raises NotFoundError: no such thing or no subscription to it.
        """
        checked_id = _checked_id(thing_id)
        self._need_token("unsubscribe()")
        self._write("DELETE", f"/things/{checked_id}/subscriptions", ok=(200, 204))

    # -- catalogues ---------------------------------------------------------

    def categories(self) -> tuple[Category, ...]:
        """Every category (``GET /categories``), as :class:`flattr.Category`.

        :returns: the categories; ``name`` holds v2's ``text``.
        """
        data = _json.array(self._get("/categories"), "GET /categories")
        return tuple(_entry(Category, item, "category") for item in data)

    def languages(self) -> tuple[Language, ...]:
        """Every language (``GET /languages``) as :class:`flattr.Language`."""
        data = _json.array(self._get("/languages"), "GET /languages")
        return tuple(_entry(Language, item, "language") for item in data)

    def rate_limit(self) -> RateLimit:
        """The caller's rate-limit state (``GET /rate_limit``, not itself counted)."""
        return RateLimit.from_json(self._get("/rate_limit"))


def _checked_id(value: object) -> int:
    return check_thing_id(value)


def _entry(cls: Callable[..., T], data: object, what: str) -> T:
    value = _json.obj(data, what)
    return cls(id=_json.string(value, "id", what), name=_json.string(value, "text", what))


def _thing_fields(
    *,
    title: object,
    description: object,
    category: object,
    language: object,
    tags: object,
    hidden: object,
) -> dict[str, object]:
    """The checked thing fields that were given (``None`` means "not given")."""
    fields: dict[str, object] = {}
    if title is not None:
        fields["title"] = check_text("title", title, multiline=False)
    if description is not None:
        fields["description"] = check_text("description", description, multiline=True)
    if category is not None:
        fields["category"] = check_category(category)
    if language is not None:
        fields["language"] = check_language(language)
    if tags is not None:
        fields["tags"] = check_tags(tags)
    if hidden is not None:
        fields["hidden"] = _validate.hidden(hidden)
    return fields
