"""The fake server's state: users, things, consumers, tokens and nonces, behind one lock.

Every method that reads or changes state takes :attr:`Store.lock`, so the
HTTP handler threads and the test thread can use one :class:`Store` at once.
The objects handed out (:class:`FakeUser`, :class:`FakeThing`) are the live
records: read them freely, but change them only through the fake.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from flattr._catalog import CATEGORY_IDS, LANGUAGE_IDS, SCOPE_ALIASES, SCOPES

#: Characters XML 1.0 cannot carry at all (C0 controls except tab, LF, CR; U+FFFE/U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(value: str) -> bool:
    """Tell whether ``value`` can be written into an XML 1.0 document.

    :param value: any text.
    :returns: ``False`` when it holds a character XML 1.0 forbids.
    """
    return _NOT_XML.search(value) is None


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


class Store:
    """All mutable state of one fake server, guarded by :attr:`lock`.

    :param clock: returns the current Unix time (seconds) for ``created``,
        nonce windows and rate limits.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.users: dict[int, FakeUser] = {}
        self.things: dict[str, FakeThing] = {}
        self._by_url: dict[str, FakeThing] = {}
        self.consumers: dict[str, Consumer] = {}
        self.request_tokens: dict[str, RequestToken] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.nonces: dict[tuple[str, str, str], float] = {}
        self._user_ids = itertools.count(1)
        self._int_ids = itertools.count(10001)

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
    ) -> FakeThing:
        """Register a thing with no further validation than the XML needs.

        :raises ValueError: unknown category/language, text XML cannot carry,
            or a URL that is already registered (message says so).
        """
        if category not in CATEGORY_IDS:
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

    def things_of(self, owner: FakeUser) -> list[FakeThing]:
        """All things ``owner`` registered, hidden ones included, oldest first."""
        with self.lock:
            return [t for t in self.things.values() if t.owner is owner]

    # -- consumers and tokens ---------------------------------------------

    def add_consumer(self, key: str | None, secret: str | None, name: str) -> Consumer:
        """Register an application; random key and secret unless given."""
        consumer = Consumer(
            key=key or secrets.token_hex(10), secret=secret or secrets.token_urlsafe(30), name=name
        )
        with self.lock:
            if consumer.key in self.consumers:
                raise ValueError(f"consumer key {consumer.key!r} is taken")
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
            self.access_tokens[token.key] = token
        return token

    def use_nonce(self, consumer_key: str, token_key: str, nonce: str, window: float) -> bool:
        """Record a nonce; tell whether it was fresh within the last ``window`` seconds.

        :returns: ``False`` when the same consumer, token and nonce were seen.
        """
        now = self.clock()
        key = (consumer_key, token_key, nonce)
        with self.lock:
            # Insertion order is time order (give or take a fake clock), so
            # expired nonces are pruned from the front: O(1) per request.
            while self.nonces:
                oldest = next(iter(self.nonces))
                if now - self.nonces[oldest] <= window:
                    break
                del self.nonces[oldest]
            seen = self.nonces.get(key)
            if seen is not None and now - seen <= window:
                return False
            self.nonces.pop(key, None)
            self.nonces[key] = now
            return True

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
