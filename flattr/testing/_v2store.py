"""State only API v2 has: OAuth 2 clients, codes and bearer tokens, flattrs, subscriptions.

Users and things live in the shared :class:`~flattr.testing._store.Store`
(so a thing registered through 0.0.1 is a v2 thing too); this module keeps
what 0.0.1 never had. Everything is guarded by the shared store's lock.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from typing import Final

from ._store import FakeThing, FakeUser, Store

__all__ = [
    "AuthRequest",
    "BearerToken",
    "AuthCode",
    "BearerRecord",
    "CODE_LIFETIME",
    "FlattrRecord",
    "OAuth2Client",
    "SCOPES_V2",
    "Subscription",
    "UserExtras",
    "V2Store",
]

#: The v2 scope names, in the order the docs list them.
SCOPES_V2: Final[tuple[str, ...]] = ("flattr", "thing", "email", "extendedread")
#: Seconds an authorisation code stays valid.
CODE_LIFETIME: Final[int] = 600
_ALNUM = string.ascii_letters + string.digits


def random_text(length: int) -> str:
    """Random letters and digits (the shape of Flattr's codes and client ids)."""
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


@dataclass(frozen=True, slots=True)
class OAuth2Client:
    """A registered OAuth 2 application.

    :param client_id: the public id.
    :param client_secret: the secret; never shown by :func:`repr`.
    :param redirect_uri: the registered callback (``None``: a "client" type
        application, whose users copy the code from a page).
    :param name: shown on the consent page.
    """

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str | None
    name: str = "Example app"


@dataclass(slots=True, eq=False)
class AuthRequest:
    """An authorize request waiting for the user's decision on the consent page."""

    key: str
    client_id: str
    response_type: str
    redirect_uri: str | None  # as sent, None when absent
    target: str | None  # where the answer goes (sent or registered)
    scopes: tuple[str, ...]
    state: str | None
    form_key: str = field(default_factory=lambda: secrets.token_urlsafe(16), repr=False)


@dataclass(slots=True, eq=False)
class AuthCode:
    """A one-shot authorisation code."""

    code: str = field(repr=False)
    client_id: str
    redirect_uri: str | None
    user_id: int
    scopes: tuple[str, ...]
    expires: float
    used: bool = False
    tokens: list[str] = field(default_factory=list, repr=False)


@dataclass(slots=True, eq=False)
class BearerRecord:
    """A bearer token: one user's grant to one client. Tokens never expire."""

    token: str = field(repr=False)
    client_id: str
    user_id: int
    scopes: tuple[str, ...]
    revoked: bool = False


@dataclass(slots=True, eq=False)
class FlattrRecord:
    """One v2 flattr: who flattred what, when."""

    user: FakeUser
    thing: FakeThing
    created: int


@dataclass(slots=True, eq=False)
class Subscription:
    """A user's subscription to a thing."""

    user: FakeUser
    thing: FakeThing
    created: int
    started: int
    active: bool = True


@dataclass(slots=True, eq=False)
class UserExtras:
    """v2 user fields 0.0.1 did not have.

    :param means: flattrs the user can still pay for (``None``: unlimited).
    """

    registered: int
    url: str = ""
    means: int | None = None
    hide_flattrs: bool = False


@dataclass(slots=True)
class RateWindow:
    """A fixed one-hour rate-limit window."""

    start: float
    count: int = 0


class V2Store:
    """The v2-only state next to a shared :class:`Store`.

    :param store: users and things, shared with 0.0.1 (its lock guards this too).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lock = store.lock
        self.clients: dict[str, OAuth2Client] = {}
        self.requests: dict[str, AuthRequest] = {}
        self.codes: dict[str, AuthCode] = {}
        self.tokens: dict[str, BearerRecord] = {}
        self.flattrs: list[FlattrRecord] = []
        self.subscriptions: list[Subscription] = []
        self.extras: dict[int, UserExtras] = {}
        self.rates: dict[str, RateWindow] = {}

    def add_client(
        self,
        client_id: str | None,
        client_secret: str | None,
        redirect_uri: str | None,
        name: str,
    ) -> OAuth2Client:
        """Register an OAuth 2 application (random id and secret unless given).

        :raises ValueError: the client id is taken.
        """
        client = OAuth2Client(
            client_id=client_id or random_text(64),
            client_secret=client_secret or random_text(40),
            redirect_uri=redirect_uri,
            name=name,
        )
        with self.lock:
            if client.client_id in self.clients:
                raise ValueError(f"client id {client.client_id!r} is taken")
            self.clients[client.client_id] = client
        return client

    def new_token(self, client_id: str, user_id: int, scopes: tuple[str, ...]) -> BearerRecord:
        """Issue a bearer token (40 hex characters, as in the docs' example)."""
        record = BearerRecord(secrets.token_hex(20), client_id, user_id, scopes)
        with self.lock:
            self.tokens[record.token] = record
        return record

    def extras_for(self, user: FakeUser) -> UserExtras:
        """The v2 fields of ``user`` (created on first use, registered "now")."""
        with self.lock:
            found = self.extras.get(user.id)
            if found is None:
                found = self.extras[user.id] = UserExtras(registered=int(self.store.clock()))
            return found

    def flattrs_of_thing(self, thing: FakeThing) -> list[FlattrRecord]:
        """v2 flattrs ``thing`` received, newest first."""
        with self.lock:
            return [f for f in reversed(self.flattrs) if f.thing is thing]

    def subscription(self, user: FakeUser, thing: FakeThing) -> Subscription | None:
        """``user``'s subscription to ``thing``, or ``None``."""
        with self.lock:
            return next(
                (s for s in self.subscriptions if s.user is user and s.thing is thing), None
            )

    def forget_thing(self, thing: FakeThing) -> None:
        """Drop the flattrs and subscriptions of a deleted thing."""
        with self.lock:
            self.flattrs = [f for f in self.flattrs if f.thing is not thing]
            self.subscriptions = [s for s in self.subscriptions if s.thing is not thing]

    def count_call(self, key: str, limit: int) -> tuple[bool, RateWindow]:
        """Count one rate-limited call against ``key``'s current hour.

        The call that goes over the limit is counted too, as the reference
        decides.

        :returns: whether the call is within the limit, and the window.
        """
        now = self.store.clock()
        with self.lock:
            window = self.rates.get(key)
            if window is None or now - window.start >= 3600:
                window = self.rates[key] = RateWindow(start=now)
            window.count += 1
            return window.count <= limit, window

    def peek_window(self, key: str) -> RateWindow:
        """The current window of ``key`` without counting (for ``/rate_limit``)."""
        now = self.store.clock()
        with self.lock:
            window = self.rates.get(key)
            if window is None or now - window.start >= 3600:
                return RateWindow(start=now)
            return RateWindow(window.start, window.count)


@dataclass(frozen=True, slots=True)
class BearerToken:
    """A v2 bearer token handed to a test by :meth:`~flattr.testing.FakeFlattr.issue_v2_token`.

    :param token: the ``access_token`` to send as ``Authorization: Bearer``;
        never shown by :func:`repr`.
    :param scopes: the granted v2 scopes.
    :param username: whose token it is.
    :param client_id: the application it was granted to.
    """

    token: str = field(repr=False)
    scopes: tuple[str, ...]
    username: str
    client_id: str
