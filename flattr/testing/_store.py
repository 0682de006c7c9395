"""The fake server's state: users, things, consumers and tokens, behind one lock.

Every method that reads or changes state takes :attr:`Store.lock`, so the
HTTP handler threads and the test thread can use one :class:`Store` at once.
The objects handed out (:class:`FakeUser`, :class:`FakeThing`) are the live
records: read them freely, but change them only through the store's methods,
which also write the change to the state file when there is one
(:mod:`flattr.testing._state`). Rate-limit counters are never written, nor
are nonces (kept by :mod:`flattr.testing._nonces`): they matter for minutes,
not across a restart.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import os
import re
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, TypeVar, get_args

from flattr._catalog import CATEGORY_IDS, LANGUAGE_IDS, SCOPE_ALIASES, SCOPES

from ._state import StateFile, Table, decode_list, encode_list, register

__all__ = [
    "ACCESS_TOKENS",
    "CLICKS",
    "CONSUMERS",
    "REQUEST_TOKENS",
    "THINGS",
    "USERS",
    "AccessToken",
    "Click",
    "Consumer",
    "Credentials",
    "FakeThing",
    "FakeUser",
    "RequestToken",
    "Store",
    "TokenState",
    "normalize_scopes",
    "xml_safe",
]

R = TypeVar("R")

#: Characters XML 1.0 cannot carry at all (C0 controls except tab, LF, CR; U+FFFE/U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(value: str) -> bool:
    """Tell whether ``value`` can be written into an XML 1.0 document.

    :param value: any text.
    :returns: ``False`` when it holds a character XML 1.0 forbids.
    """
    return _NOT_XML.search(value) is None


def _command_line_safe(secret: str) -> str:
    """``secret`` without a leading ``-``, which a command line would take for an option.

    (``flattr --consumer-secret -abc`` fails; the sandbox prints its secret to be pasted.)
    """
    return "A" + secret[1:] if secret.startswith("-") else secret


def normalize_scopes(names: Iterable[str]) -> tuple[str, ...]:
    """Map scope names onto :data:`flattr._catalog.SCOPES`, dropping unknown ones.

    :param names: scope names as a client sent them (``readextended`` is accepted).
    :returns: the known scopes, in catalogue order, without duplicates.
    """
    wanted = {SCOPE_ALIASES.get(n.strip(), n.strip()) for n in names}
    return tuple(s for s in SCOPES if s in wanted)


@dataclass(frozen=True, slots=True)
class Credentials:
    """A key and its secret: a consumer, or an OAuth token.

    :param key: the public half.
    :param secret: the private half; never shown by :func:`repr`.
    """

    key: str
    secret: str = field(repr=False)


@dataclass(slots=True, eq=False)
class FakeUser:
    """A Flattr user known to the fake server.

    The record is live: the fake updates it (for example ``active``) in place.
    """

    id: int
    username: str
    firstname: str = ""
    lastname: str = ""
    city: str = ""
    country: str = ""
    email: str = ""
    description: str = ""
    language: str = "en_GB"
    active: bool = True

    @property
    def gravatar(self) -> str:
        """The gravatar URL, built from the e-mail address as Flattr did.

        :returns: ``https://secure.gravatar.com/avatar/<md5>?s=120&r=pg``.
        """
        digest = hashlib.md5(self.email.strip().lower().encode(), usedforsecurity=False)
        return f"https://secure.gravatar.com/avatar/{digest.hexdigest()}?s=120&r=pg"


@dataclass(slots=True, eq=False)
class FakeThing:
    """A thing registered on the fake server.

    ``id`` is the 32-hex id the REST API uses, ``int_id`` the website number,
    ``description`` is what the XML calls ``story``. ``clicks`` and
    ``clicked_by`` (user ids) change when someone flattrs it.
    """

    id: str
    int_id: int
    owner: FakeUser
    url: str
    title: str
    description: str
    category: str = "text"
    language: str = "en_GB"
    tags: tuple[str, ...] = ()
    hidden: bool = False
    clicks: int = 0
    created: int = 0
    clicked_by: set[int] = field(default_factory=set, repr=False)
    #: API v2 only: the thing's image URL (``""``: none) and last update (0: never).
    image: str = ""
    updated: int = 0


@dataclass(slots=True, eq=False)
class Consumer:
    """A registered application (consumer key and secret)."""

    key: str
    secret: str = field(repr=False)
    name: str = "Example app"


TokenState = Literal["pending", "approved", "denied", "used"]


@dataclass(slots=True, eq=False)
class RequestToken:
    """A temporary credential between request_token and access_token."""

    key: str
    secret: str = field(repr=False)
    consumer_key: str
    callback: str
    state: TokenState = "pending"
    verifier: str = field(default="", repr=False)
    user_id: int | None = None
    scopes: tuple[str, ...] = ()
    form_key: str = field(default_factory=lambda: secrets.token_urlsafe(16), repr=False)


@dataclass(slots=True, eq=False)
class AccessToken:
    """A token credential: one user's grant to one consumer."""

    key: str
    secret: str = field(repr=False)
    consumer_key: str
    user_id: int
    scopes: tuple[str, ...]
    revoked: bool = False
    calls: deque[float] = field(default_factory=deque, repr=False)


class Click(NamedTuple):
    """One user's flattr of one thing, as the state file keeps it."""

    thing_id: str
    user_id: int


# -- the state file's tables (see flattr.testing._state) ------------------

CONSUMERS: Table[Consumer] = register(Table.of_attributes("consumers", "key secret name"))
USERS: Table[FakeUser] = register(
    Table.of_attributes(
        "users",
        "id username firstname lastname city country email description language active",
    )
)
THINGS: Table[FakeThing] = register(
    Table.of_attributes(
        "things",
        "id int_id owner_id url title description category language tags hidden clicks created",
        convert={"owner_id": lambda t: t.owner.id, "tags": lambda t: encode_list(t.tags)},
    )
)
CLICKS: Table[Click] = register(Table.of_attributes("clicks", "thing_id user_id", keys=2))
REQUEST_TOKENS: Table[RequestToken] = register(
    Table.of_attributes(
        "request_tokens",
        "key secret consumer_key callback state verifier user_id scopes form_key",
        convert={"scopes": lambda t: encode_list(t.scopes)},
    )
)
ACCESS_TOKENS: Table[AccessToken] = register(
    Table.of_attributes(
        "access_tokens",
        "key secret consumer_key user_id scopes revoked",
        convert={"scopes": lambda t: encode_list(t.scopes)},
    )
)

_TOKEN_STATES = frozenset(get_args(TokenState))


class Store:
    """All mutable state of one fake server, guarded by :attr:`lock`.

    :param clock: returns the current Unix time (seconds) for ``created``,
        nonce windows and rate limits.
    :param state: an SQLite file to keep the state in (see
        :mod:`flattr.testing._state`); ``None`` keeps it in memory only.
    :raises flattr.testing.StateError: the state file cannot be used.
    """

    def __init__(
        self, clock: Callable[[], float], state: str | os.PathLike[str] | None = None
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.users: dict[int, FakeUser] = {}
        self.things: dict[str, FakeThing] = {}
        self._by_url: dict[str, FakeThing] = {}
        self.consumers: dict[str, Consumer] = {}
        self.request_tokens: dict[str, RequestToken] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self._user_ids = itertools.count(1)
        self._int_ids = itertools.count(10001)
        self.state: StateFile | None = None
        """The open state file, or ``None`` in memory."""
        self.restored = False
        """Whether the state file already held a fake's state when it was opened."""
        if state is not None:
            self.state = StateFile(state)
            try:
                self._load(self.state)
            except BaseException:
                self.state.close()
                raise
            self.restored = self.state.existed

    # -- persistence ------------------------------------------------------

    def save(self, table: Table[R], record: R) -> None:
        """Write ``record`` to the state file (nothing without one).

        Call it before changing memory, so a failed write changes nothing.

        :raises flattr.testing.StateError: the write failed.
        """
        if self.state is not None:
            self.state.put(table, record)

    def saved_rows(self, table: Table[Any]) -> list[tuple[Any, ...]]:
        """The rows of ``table`` in the state file, oldest first (none without one)."""
        return [] if self.state is None else self.state.rows(table)

    def transaction(self) -> AbstractContextManager[None]:
        """Make the :meth:`save` calls inside one commit (a no-op without a state file)."""
        return nullcontext() if self.state is None else self.state.transaction()

    @property
    def closed(self) -> bool:
        """Whether the state file was closed (always ``False`` in memory)."""
        return self.state is not None and self.state.closed

    def close(self) -> None:
        """Close the state file, if any, letting another fake open it (idempotent)."""
        with self.lock:
            if self.state is not None:
                self.state.close()

    def _load(self, state: StateFile) -> None:
        try:
            for key, secret, name in state.rows(CONSUMERS):
                self.consumers[key] = Consumer(key=key, secret=secret, name=name)
            for row in state.rows(USERS):
                uid, name, first, last, city, country, email, about, lang, active = row
                user = FakeUser(uid, name, first, last, city, country, email, about, lang)
                user.active = bool(active)
                self.users[user.id] = user
            for row in state.rows(THINGS):
                thing = FakeThing(
                    id=row[0],
                    int_id=row[1],
                    owner=self.users[row[2]],
                    url=row[3],
                    title=row[4],
                    description=row[5],
                    category=row[6],
                    language=row[7],
                    tags=decode_list(row[8]),
                    hidden=bool(row[9]),
                    clicks=row[10],
                    created=row[11],
                )
                self.things[thing.id] = thing
                self._by_url[thing.url] = thing
            for thing_id, user_id in state.rows(CLICKS):
                self.things[thing_id].clicked_by.add(user_id)
            for row in state.rows(REQUEST_TOKENS):
                if row[4] not in _TOKEN_STATES:
                    raise ValueError(f"request token state {row[4]!r}")
                key, secret, consumer_key, callback, state_name, verifier, user_id = row[:7]
                request = RequestToken(
                    key,
                    secret,
                    consumer_key,
                    callback,
                    state=state_name,
                    verifier=verifier,
                    user_id=user_id,
                    scopes=decode_list(row[7]),
                    form_key=row[8],
                )
                self.request_tokens[request.key] = request
            for key, secret, consumer_key, user_id, scopes, revoked in state.rows(ACCESS_TOKENS):
                access = AccessToken(
                    key, secret, consumer_key, user_id, decode_list(scopes), bool(revoked)
                )
                self.access_tokens[access.key] = access
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            raise state.damaged("the state file is damaged: a record does not fit", exc) from None
        self._user_ids = itertools.count(max(self.users, default=0) + 1)
        self._int_ids = itertools.count(
            max((t.int_id for t in self.things.values()), default=10000) + 1
        )

    # -- users and things -------------------------------------------------

    def add_user(
        self,
        username: str,
        *,
        firstname: str,
        lastname: str,
        city: str,
        country: str,
        email: str,
        description: str,
        language: str,
        active: bool,
    ) -> FakeUser:
        """Create a user; see :meth:`flattr.testing.FakeFlattr.add_user`.

        :raises ValueError: a bad or taken username, an unknown language, or
            text XML cannot carry.
        :raises flattr.testing.StateError: the state file cannot be written.
        """
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", username):
            raise ValueError(f"username {username!r}: use letters, digits, '_', '.' or '-'")
        if language not in LANGUAGE_IDS:
            raise ValueError(f"language {language!r} is not a Flattr language id")
        texts = (firstname, lastname, city, country, email, description)
        if not all(xml_safe(t) for t in texts):
            raise ValueError("user text holds a character XML cannot carry")
        with self.lock:
            if self.user_by_name(username) is not None:
                raise ValueError(f"username {username!r} is taken")
            user = FakeUser(
                id=next(self._user_ids),
                username=username,
                firstname=firstname,
                lastname=lastname,
                city=city,
                country=country,
                email=email,
                description=description,
                language=language,
                active=active,
            )
            self.save(USERS, user)
            self.users[user.id] = user
            return user

    def user_by_name(self, username: str) -> FakeUser | None:
        """Find a user by name (exact, case-insensitive).

        :returns: the user, or ``None``.
        """
        folded = username.casefold()
        with self.lock:
            return next((u for u in self.users.values() if u.username.casefold() == folded), None)

    def add_thing(
        self,
        owner: FakeUser,
        *,
        url: str,
        title: str,
        description: str,
        category: str,
        language: str,
        tags: Iterable[str],
        hidden: bool,
        clicks: int,
        created: int | None,
        categories: frozenset[str] = CATEGORY_IDS,
    ) -> FakeThing:
        """Register a thing with no further validation than the XML needs.

        :param categories: the category ids allowed (API v2 has one more).
        :raises ValueError: unknown category/language, text XML cannot carry,
            or a URL that is already registered (message says so).
        :raises flattr.testing.StateError: the state file cannot be written.
        """
        if category not in categories:
            raise ValueError(f"category {category!r} is not a Flattr category id")
        if language not in LANGUAGE_IDS:
            raise ValueError(f"language {language!r} is not a Flattr language id")
        tag_tuple = tuple(tags)
        for text in (url, title, description, *tag_tuple):
            if not xml_safe(text):
                raise ValueError("thing text holds a character XML cannot carry")
        with self.lock:
            if owner.id not in self.users:
                raise ValueError(f"user {owner.username!r} does not belong to this fake")
            if self.thing_by_url(url) is not None:
                raise ValueError("url: this URL is already registered")
            thing = FakeThing(
                id=secrets.token_hex(16),
                int_id=next(self._int_ids),
                owner=owner,
                url=url,
                title=title,
                description=description,
                category=category,
                language=language,
                tags=tag_tuple,
                hidden=hidden,
                clicks=clicks,
                created=int(self.clock()) if created is None else created,
            )
            self.save(THINGS, thing)
            self.things[thing.id] = thing
            self._by_url[thing.url] = thing
            return thing

    def thing_by_url(self, url: str) -> FakeThing | None:
        """Find the thing registered for exactly ``url``.

        :returns: the thing, or ``None``.
        """
        with self.lock:
            return self._by_url.get(url)

    def find_thing(self, ident: str) -> FakeThing | None:
        """Find a thing by its 32-hex id or its numeric ``int_id``.

        :returns: the thing, or ``None``.
        """
        with self.lock:
            if len(ident) == 32 and ident in self.things:
                return self.things[ident]
            if ident.isdigit():
                number = int(ident)
                return next((t for t in self.things.values() if t.int_id == number), None)
            return None

    def update_thing(self, thing: FakeThing, **changes: object) -> None:
        """Change fields of a live thing (API v2 update), under the lock.

        :param changes: field names of :class:`FakeThing` and their new values.
        :raises ValueError: a change that is not a thing field, or text XML cannot carry.
        :raises flattr.testing.StateError: the state file cannot be written.
        """
        for name, value in changes.items():
            if name not in FakeThing.__dataclass_fields__ or name in ("id", "int_id", "owner"):
                raise ValueError(f"{name!r} is not a field that can change")
            texts = value if isinstance(value, tuple) else (value,)
            if any(isinstance(t, str) and not xml_safe(t) for t in texts):
                raise ValueError("thing text holds a character XML cannot carry")
        self._change(THINGS, thing, **changes)

    def remove_thing(self, thing: FakeThing) -> None:
        """Delete a thing and its clicks (API v2 delete); unknown things are ignored.

        :raises flattr.testing.StateError: the state file cannot be written.
        """
        with self.lock:
            if self.things.get(thing.id) is not thing:
                return
            if self.state is not None:
                with self.state.transaction():
                    for user_id in thing.clicked_by:
                        self.state.delete(CLICKS, Click(thing.id, user_id))
                    self.state.delete(THINGS, thing)
            del self.things[thing.id]
            self._by_url.pop(thing.url, None)

    def things_of(self, owner: FakeUser) -> list[FakeThing]:
        """All things ``owner`` registered, hidden ones included, oldest first."""
        with self.lock:
            return [t for t in self.things.values() if t.owner is owner]

    def click(self, thing: FakeThing, user: FakeUser) -> None:
        """Record that ``user`` flattred ``thing`` (the caller checked it may).

        :raises flattr.testing.StateError: the state file cannot be written.
        """
        with self.lock:
            if self.state is not None:
                with self.state.transaction():
                    self.state.put(CLICKS, Click(thing.id, user.id))
                    self.state.put(THINGS, dataclasses.replace(thing, clicks=thing.clicks + 1))
            thing.clicked_by.add(user.id)
            thing.clicks += 1

    # -- consumers and tokens ---------------------------------------------

    def add_consumer(self, key: str | None, secret: str | None, name: str) -> Consumer:
        """Register an application; random key and secret unless given."""
        consumer = Consumer(
            key=key or secrets.token_hex(10),
            secret=secret or _command_line_safe(secrets.token_urlsafe(30)),
            name=name,
        )
        with self.lock:
            if consumer.key in self.consumers:
                raise ValueError(f"consumer key {consumer.key!r} is taken")
            self.save(CONSUMERS, consumer)
            self.consumers[consumer.key] = consumer
        return consumer

    def new_request_token(self, consumer_key: str, callback: str) -> RequestToken:
        """Issue a fresh, pending request token."""
        token = RequestToken(
            key=secrets.token_hex(16),
            secret=secrets.token_urlsafe(24),
            consumer_key=consumer_key,
            callback=callback,
        )
        with self.lock:
            self.save(REQUEST_TOKENS, token)
            self.request_tokens[token.key] = token
        return token

    def new_access_token(
        self, consumer_key: str, user_id: int, scopes: tuple[str, ...]
    ) -> AccessToken:
        """Issue an access token for ``user_id`` with ``scopes``."""
        token = AccessToken(
            key=secrets.token_hex(16),
            secret=secrets.token_urlsafe(24),
            consumer_key=consumer_key,
            user_id=user_id,
            scopes=scopes,
        )
        with self.lock:
            self.save(ACCESS_TOKENS, token)
            self.access_tokens[token.key] = token
        return token

    def _change(self, table: Table[R], record: R, **changes: Any) -> None:
        """Set ``changes`` on ``record``: first in the state file, then in memory."""
        with self.lock:
            if self.state is not None:
                self.state.put(table, dataclasses.replace(record, **changes))  # type: ignore[type-var]
            for name, value in changes.items():
                setattr(record, name, value)

    def approve_request_token(
        self, token: RequestToken, user_id: int, scopes: tuple[str, ...], verifier: str
    ) -> None:
        """Mark ``token`` approved by ``user_id`` for ``scopes``, with ``verifier``.

        :raises flattr.testing.StateError: the state file cannot be written.
        """
        self._change(
            REQUEST_TOKENS,
            token,
            state="approved",
            user_id=user_id,
            scopes=scopes,
            verifier=verifier,
        )

    def deny_request_token(self, token: RequestToken) -> None:
        """Mark ``token`` denied.

        :raises flattr.testing.StateError: the state file cannot be written.
        """
        self._change(REQUEST_TOKENS, token, state="denied")

    def use_request_token(self, token: RequestToken) -> None:
        """Mark ``token`` traded for an access token (it cannot be traded again).

        :raises flattr.testing.StateError: the state file cannot be written.
        """
        self._change(REQUEST_TOKENS, token, state="used")

    def revoke_access_token(self, key: str) -> None:
        """Revoke the access token ``key``.

        :raises KeyError: no such access token.
        :raises flattr.testing.StateError: the state file cannot be written.
        """
        with self.lock:
            self._change(ACCESS_TOKENS, self.access_tokens[key], revoked=True)

    def count_call(self, token: AccessToken, limit: int | None) -> bool:
        """Count one REST call against ``token``'s hourly budget.

        :returns: ``False`` when the call is over ``limit`` (it is not counted).
        """
        if limit is None:
            return True
        now = self.clock()
        with self.lock:
            while token.calls and now - token.calls[0] >= 3600:
                token.calls.popleft()
            if len(token.calls) >= limit:
                return False
            token.calls.append(now)
            return True
