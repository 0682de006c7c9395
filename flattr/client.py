"""FlattrClient: one method per REST 0.0.1 resource, signed with a stored access token.

>>> import flattr
>>> from flattr.testing import FakeFlattr
>>> with FakeFlattr() as fake:
...     token = fake.issue_access_token(scopes=("read", "publish"))
...     client = flattr.FlattrClient(fake.consumer.key, fake.consumer.secret, token,
...                                  base_url=fake.base_url)
...     client.me().username
'alice'
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final, Protocol
from urllib.parse import quote

from flattr import _catalog, _responses, _validate, _xml
from flattr._http import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    Credentials,
    Request,
    Transport,
)
from flattr._redact import Secret, mask
from flattr.errors import NotFoundError, ValidationError
from flattr.models import Category, Language, Thing, User

__all__ = ["DEFAULT_MAX_LIST_BYTES", "FlattrClient", "KeyAndSecret", "TokenLike"]

#: The largest ``thing/listbyuser`` answer accepted by default: the 0.0.1 list
#: has no paging, and 100,000 things come to about 110 MB.
DEFAULT_MAX_LIST_BYTES: Final = 256 * 1024 * 1024


class KeyAndSecret(Protocol):
    """Any object with a token's ``key`` and ``secret`` (an old ``oauth2.Token``, say)."""

    @property
    def key(self) -> str:
        """The token's public key."""
        ...

    @property
    def secret(self) -> str:
        """The token's secret."""
        ...


#: What ``access_token`` may be: an :class:`~flattr.AccessToken`, any object
#: with ``.key`` and ``.secret`` (such as an old ``oauth2.Token``), or a
#: ``(key, secret)`` pair.
TokenLike = KeyAndSecret | tuple[str, str]


def _token_pair(token: object) -> tuple[str, Secret]:
    if isinstance(token, tuple | list):
        if len(token) != 2:
            raise ValidationError("access_token", "a pair must be (key, secret)")
        key, secret = token[0], _wrapped(token[1])
    else:
        key, secret = getattr(token, "key", None), _wrapped(getattr(token, "secret", None))
        if key is None or secret is None:
            raise ValidationError(
                "access_token",
                "must be an AccessToken, an object with .key and .secret, or a (key, secret) pair",
            )
    del token  # a pair would show its secret in this frame's locals
    return (
        _validate.credential("access_token.key", key),
        _validate.secret("access_token.secret", secret),
    )


def _wrapped(value: object) -> object:
    """A string secret wrapped at once, anything else as it is (the check names it)."""
    return Secret(value) if isinstance(value, str) else value


def _segment(value: str) -> str:
    """One percent-encoded path segment (``/`` included, so it stays one segment)."""
    return quote(value, safe="")


class FlattrClient:
    """Calls the REST API on behalf of one user.

    One client may be shared by many threads: each thread gets its own
    keep-alive connection.

    :param consumer_key: the application's consumer key.
    :param consumer_secret: the application's consumer secret.
    :param access_token: the user's token from :meth:`FlattrAuth.fetch_access_token`,
        any object with ``.key``/``.secret``, or a ``(key, secret)`` pair.
    :param base_url: the server root (``https://api.flattr.com`` by default).
    :param timeout: seconds allowed for connecting and for each read.
    :param connect_timeout: seconds allowed for connecting, when that should
        differ from ``timeout``.
    :param deadline: seconds allowed for a whole call, retries included
        (default: four times ``timeout``).
    :param ca_certs: a PEM bundle of CAs to trust for this server.
    :param retries: how often a read is retried after a connection failure or a
        502/503/504 answer. Registering and clicking are never retried.
    :param max_response_bytes: the largest response body accepted, except
        for the lists of a user's things.
    :param max_list_bytes: the largest list of a user's things accepted
        (:meth:`things`, :meth:`iter_things`); such a list is parsed one
        thing at a time, so it costs the memory of its bytes, not of a tree.
    :param proxy: a proxy for every request (``http://host:port``,
        ``socks5://host:port``); without it ``HTTPS_PROXY``, ``HTTP_PROXY``
        and ``NO_PROXY`` decide, as in requests (see :doc:`/transport`).
    :param transport: a :class:`~flattr.Transport` to use (and share with
        :class:`~flattr.FlattrAuth` or other clients) instead of building one
        from the options above.
    :param allow_cleartext_http: allow a plain ``http://`` ``base_url`` to a
        host that is not loopback. Every request, and so the token, then
        travels in clear text; without it such a URL is refused.
    :raises ValidationError: for an empty key, secret or token part, a
        ``base_url`` that is malformed or insecure, or a ``max_list_bytes``
        that is not a positive whole number.
    """

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        access_token: TokenLike,
        *,
        base_url: str = _catalog.DEFAULT_BASE_URL,
        timeout: float = DEFAULT_TIMEOUT,
        connect_timeout: float | None = None,
        deadline: float | None = None,
        ca_certs: str | None = None,
        retries: int = 2,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_list_bytes: int = DEFAULT_MAX_LIST_BYTES,
        proxy: str | None = None,
        transport: Transport | None = None,
        allow_cleartext_http: bool = False,
    ) -> None:
        # Masked before anything can fail: a traceback shows this frame's locals.
        masked = _wrapped(consumer_secret)
        del consumer_secret
        token: object = access_token
        if isinstance(token, tuple | list) and len(token) == 2:
            token = (token[0], _wrapped(token[1]))
        del access_token
        token_key, token_secret = _token_pair(token)
        del token
        if isinstance(max_list_bytes, bool) or not isinstance(max_list_bytes, int):
            raise ValidationError("max_list_bytes", "must be a whole number of bytes")
        if max_list_bytes < 1:
            raise ValidationError("max_list_bytes", "must be at least 1")
        self.max_list_bytes = max_list_bytes
        self._credentials = Credentials(
            _validate.credential("consumer_key", consumer_key),
            _validate.secret("consumer_secret", masked),
            token_key,
            token_secret,
        )
        self.base_url = _validate.base_url(base_url, allow_cleartext_http=allow_cleartext_http)
        self._rest = f"{self.base_url}{_catalog.REST_PREFIX}"
        self._transport = transport or Transport(
            timeout=timeout,
            connect_timeout=connect_timeout,
            deadline=deadline,
            ca_certs=ca_certs,
            retries=retries,
            max_response_bytes=max_response_bytes,
            proxy=proxy,
        )

    def __repr__(self) -> str:
        # Also called on a half-built client, when a traceback shows __init__'s locals.
        credentials = getattr(self, "_credentials", None)
        key = credentials.consumer_key if credentials else ""
        token = (credentials.token_key or "") if credentials else ""
        return (
            f"FlattrClient(base_url={getattr(self, 'base_url', None)!r}, "
            f"consumer_key={mask(key)!r}, token={mask(token)!r})"
        )

    def __enter__(self) -> FlattrClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the idle connections of every thread; the client stays usable."""
        self._transport.close()

    # -- the one path every call takes --------------------------------------

    def _get(
        self,
        path: str,
        query: tuple[tuple[str, str], ...] = (),
        *,
        idempotent: bool = True,
    ) -> bytes:
        request = Request("GET", self._rest + path, query=query, idempotent=idempotent)
        return _responses.xml_body(request, self._transport.send(request, self._credentials))

    # -- users ----------------------------------------------------------------

    def me(self) -> User:
        """The user the access token belongs to (``user/me``).

        ``email`` is filled in only when the token has the ``extendedread`` scope.

        :raises AuthenticationError: the token was revoked or the keys are wrong.
        """
        return _xml.parse_user(self._get("user/me"))

    def user(self, *, id: int | None = None, name: str | None = None) -> User:
        """A user by numeric id or by user name (exactly one of the two).

        :raises ValidationError: neither or both given, or a malformed value.
        :raises NotFoundError: no such user.
        """
        if (id is None) == (name is None):
            raise ValidationError("id", "give exactly one of id= or name=")
        if id is not None:
            path = f"user/get/id/{_validate.user_id(id)}"
        else:
            path = f"user/get/name/{_segment(_validate.username(name))}"
        return _xml.parse_user(self._get(path))

    # -- things ---------------------------------------------------------------

    def thing(self, thing_id: str | int) -> Thing:
        """One thing by its 32-hex ``id`` (or its numeric ``int_id``).

        :raises NotFoundError: no such thing.
        """
        return _xml.parse_thing(self._get(f"thing/get/id/{_segment(_validate.thing_id(thing_id))}"))

    def things(self, user_id: int | None = None) -> tuple[Thing, ...]:
        """All things a user owns; ``None`` means the authenticated user.

        For an account with many things, :meth:`iter_things` needs far less memory.

        :raises NotFoundError: no such user.
        :raises ResponseTooLargeError: the list is larger than ``max_list_bytes``.
        """
        return tuple(self.iter_things(user_id))

    def iter_things(self, user_id: int | None = None) -> Iterator[Thing]:
        """All things a user owns, one at a time; ``None`` means the authenticated user.

        The list is fetched before this returns (so a missing user or a
        revoked token raises here); its things are then parsed and checked
        as the iterator is consumed, so only the answer's bytes and the
        current thing are held, never all the things at once. The 0.0.1 API
        has no paging: the answer may be as large as ``max_list_bytes``.

        >>> import flattr
        >>> from flattr.testing import FakeFlattr
        >>> with FakeFlattr() as fake:
        ...     alice = fake.session_user
        ...     for n in range(3):
        ...         _ = fake.add_thing(alice, url=f"https://blog.example/{n}", title=f"Post {n}")
        ...     token = fake.issue_access_token(scopes=("read",))
        ...     client = flattr.FlattrClient(fake.consumer.key, fake.consumer.secret, token,
        ...                                  base_url=fake.base_url)
        ...     [thing.url for thing in client.iter_things()]
        ['https://blog.example/0', 'https://blog.example/1', 'https://blog.example/2']

        :param user_id: whose things; ``None`` for the authenticated user.
        :returns: an iterator of things, in the server's order.
        :raises ValidationError: a malformed ``user_id``, before any I/O.
        :raises NotFoundError: no such user.
        :raises ResponseTooLargeError: the list is larger than ``max_list_bytes``.
        :raises ResponseError: while iterating, a malformed or unsafe answer
            (the things before it have been yielded).
        """
        suffix = "" if user_id is None else str(_validate.user_id(user_id, "user_id"))
        request = Request(
            "GET",
            f"{self._rest}thing/listbyuser/id/{suffix}",
            # Uncompressed, so the cap bounds what is held, not what it expands to.
            headers=(("Accept-Encoding", "identity"),),
            max_bytes=self.max_list_bytes,
            limit_name="max_list_bytes",
        )
        body = _responses.xml_body(request, self._transport.send(request, self._credentials))
        return _xml.iter_things(body)

    def thing_by_url(self, url: str) -> Thing | None:
        """The thing registered for ``url``, or ``None`` when there is none.

        Use it after an :class:`~flattr.errors.UncertainResultError` or a
        duplicate :class:`~flattr.errors.RegistrationError` to find out
        whether (and as what) a URL is registered.
        """
        checked = _validate.thing_url(url)
        try:
            return _xml.parse_thing(self._get("thing/get/", (("url", checked),)))
        except NotFoundError:
            return None

    def register_thing(
        self,
        *,
        url: str,
        title: str,
        category: str,
        description: str,
        language: str,
        tags: Iterable[str] = (),
        hidden: bool = False,
    ) -> Thing:
        r"""Register a new thing owned by the authenticated user (needs ``publish``).

        Every field is checked before anything is sent. Surrounding blanks of
        the title, description and tags are trimmed and description newlines
        normalised to ``\\n``, because the server's answers cannot carry them.
        The request is sent once and never retried.

        :param url: the absolute http(s) URL of the content.
        :param title: 5 to 100 characters.
        :param category: a category id (``text``, ``images``, ``video``,
            ``audio``, ``software``, ``rest``).
        :param description: 5 to 1000 characters.
        :param language: a language id such as ``en_GB``.
        :param tags: tags without commas.
        :param hidden: hide the thing from public listings.
        :returns: the new thing, with its ``id`` and ``int_id``.
        :raises ValidationError: a field is invalid (``.field`` names it).
        :raises RegistrationError: the server refused, e.g. the URL is taken
            (``.duplicate``); look it up with :meth:`thing_by_url`.
        :raises UncertainResultError: no answer came back; check with
            :meth:`thing_by_url` before trying again.
        :raises ForbiddenError: the token lacks the ``publish`` scope.
        """
        document = _xml.thing_document(
            url=_validate.thing_url(url),
            title=_validate.title(title),
            category=_validate.category(category),
            description=_validate.description(description),
            language=_validate.language(language),
            tags=_validate.tags(tags),
            hidden=_validate.hidden(hidden),
        )
        request = Request(
            "POST",
            self._rest + "thing/register",
            form=(("data", document),),
            idempotent=False,
        )
        response = self._transport.send(request, self._credentials)
        return _xml.parse_thing(_responses.xml_body(request, response, registration=True))

    def click(self, thing_id: str | int) -> None:
        """Flattr a thing as the authenticated user (needs ``click``).

        Although the API does it with a GET, it changes state, so it is never
        retried.

        :raises ForbiddenError: own thing, already flattred, inactive user, or
            the token lacks the ``click`` scope.
        :raises NotFoundError: no such thing.
        :raises UncertainResultError: no answer came back.
        """
        self._get(f"thing/click/id/{_segment(_validate.thing_id(thing_id))}", idempotent=False)

    def search(self, query: str) -> tuple[Thing, ...]:
        """Free-text search over public things (``thing/search``).

        :raises ValidationError: an empty query, or one longer than 256
            characters.
        """
        return _xml.parse_things(self._get(f"thing/search/q/{_segment(_validate.query(query))}"))

    def browse(
        self,
        *,
        query: str | None = None,
        tags: Iterable[str] = (),
        categories: Iterable[str] = (),
        languages: Iterable[str] = (),
        users: Iterable[int | str] = (),
    ) -> tuple[Thing, ...]:
        """Public things matching every given criterion (any value within a list).

        :raises ValidationError: no criterion at all, or an invalid value.
        """
        criteria: list[tuple[str, str]] = []
        if query is not None:
            criteria.append(("query", _validate.query(query)))
        for key, values in (
            ("tag", _validate.tags(tags)),
            ("category", tuple(_validate.category(c) for c in categories)),
            ("language", tuple(_validate.language(v) for v in languages)),
            ("user", tuple(_browse_user(u) for u in users)),
        ):
            if values:
                criteria.append((key, ",".join(values)))
        if not criteria:
            raise ValidationError(
                "criteria", "give at least one of query, tags, categories, languages, users"
            )
        path = "/".join(f"{key}/{_segment(value)}" for key, value in criteria)
        return _xml.parse_things(self._get(f"thing/browse/{path}"))

    # -- catalogue ------------------------------------------------------------

    def categories(self) -> tuple[Category, ...]:
        """The categories a thing can be registered in."""
        return _xml.parse_categories(self._get("feed/categories"))

    def languages(self) -> tuple[Language, ...]:
        """The languages a thing can be registered in."""
        return _xml.parse_languages(self._get("feed/languages"))


def _browse_user(value: int | str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(_validate.user_id(value))
    name = _validate.username(value)
    if "," in name:
        raise ValidationError("users", f"a user name must not contain a comma: {name!r}")
    return name
