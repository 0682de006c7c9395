"""The values API v2 returns, as frozen dataclasses with aware datetimes.

Each ``from_json`` reads one decoded JSON object strictly (see
:mod:`flattr.v2._json`) and raises :class:`~flattr.errors.ResponseError`
naming the field that is missing or of the wrong type. Unknown extra fields
are ignored, as the reference asks of clients.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flattr._redact import mask
from flattr.errors import ValidationError
from flattr.v2 import _json

__all__ = [
    "AccessToken",
    "Flattr",
    "MiniThing",
    "Owner",
    "RateLimit",
    "Subscription",
    "Thing",
    "User",
]


@dataclass(frozen=True, slots=True)
class AccessToken:
    """An OAuth 2 bearer token and the scopes it carries.

    Flattr's v2 tokens do not expire; they last until the user revokes the
    application. Treat ``token`` like a password: it is left out of
    ``repr`` and ``str``.

    >>> from flattr import v2
    >>> v2.AccessToken("0123456789abcdef", ("flattr",))
    AccessToken(token='0123…', scopes=('flattr',))
    """

    token: str = field(repr=False)
    scopes: tuple[str, ...] = ()
    token_type: str = "bearer"

    def __repr__(self) -> str:
        return f"AccessToken(token={mask(self.token)!r}, scopes={self.scopes!r})"

    __str__ = __repr__

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-serialisable dict (it holds the token: store it privately)."""
        return {"token": self.token, "scopes": list(self.scopes), "token_type": self.token_type}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AccessToken:
        """Rebuild a token from :meth:`to_dict` output.

        :param data: the dict.
        :returns: the token.
        :raises ValidationError: when ``token`` is missing or empty, or ``scopes``
            is not a list of strings.
        """
        token = data.get("token")
        if not isinstance(token, str) or not token:
            raise ValidationError("token", "a stored v2 token needs a non-empty string 'token'")
        scopes = data.get("scopes", [])
        if not isinstance(scopes, list | tuple) or not all(isinstance(s, str) for s in scopes):
            raise ValidationError("scopes", "must be a list of scope names")
        token_type = data.get("token_type", "bearer")
        if not isinstance(token_type, str):
            raise ValidationError("token_type", "must be a string")
        return cls(token, tuple(scopes), token_type)


@dataclass(frozen=True, slots=True, kw_only=True)
class Owner:
    """A user as other objects name them (a "mini user"): the username and two links."""

    username: str
    link: str | None = None
    resource: str | None = None

    @classmethod
    def from_json(cls, data: object, what: str = "owner") -> Owner:
        """Read a mini (or full) user object."""
        value = _json.obj(data, what)
        return cls(
            username=_json.string(value, "username", what),
            link=_json.opt_str(value, "link", what),
            resource=_json.opt_str(value, "resource", what),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    """A Flattr user (``/users/:username``, ``/user``).

    ``email`` and ``registered`` are only sent for the token's own user with
    the ``email`` or ``extendedread`` scope; empty texts from the server are
    ``""``, an empty ``url`` or ``avatar`` is ``None``.
    """

    username: str
    firstname: str = ""
    lastname: str = ""
    about: str = ""
    city: str = ""
    country: str = ""
    url: str | None = None
    avatar: str | None = None
    link: str | None = None
    resource: str | None = None
    email: str | None = None
    registered: datetime | None = None
    #: The short opaque id servers sent from 2013 (``"3bpQBK"``), else ``None``.
    id: str | None = None

    @classmethod
    def from_json(cls, data: object, what: str = "user") -> User:
        """Read a user object."""
        value = _json.obj(data, what)
        return cls(
            username=_json.string(value, "username", what),
            firstname=_json.opt_str(value, "firstname", what) or "",
            lastname=_json.opt_str(value, "lastname", what) or "",
            about=_json.opt_str(value, "about", what) or "",
            city=_json.opt_str(value, "city", what) or "",
            country=_json.opt_str(value, "country", what) or "",
            url=_json.opt_str(value, "url", what),
            avatar=_json.opt_str(value, "avatar", what),
            link=_json.opt_str(value, "link", what),
            resource=_json.opt_str(value, "resource", what),
            email=_json.opt_str(value, "email", what),
            registered=_json.opt_timestamp(value, "registered_at", what),
            id=_json.opt_str(value, "id", what),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Thing:
    """A thing: content that can be flattred.

    ``hidden`` is a bool whether the server sent ``false`` or ``0``;
    ``flattred`` and ``subscribed`` are ``None`` when the server did not say
    (anonymous calls); ``last_flattr`` and ``updated`` are only sent to the
    owner, and ``updated`` is ``None`` when the thing was never updated.
    """

    id: int
    url: str
    title: str
    description: str
    language: str
    category: str
    owner: Owner
    created: datetime
    flattrs: int
    hidden: bool = False
    tags: tuple[str, ...] = ()
    image: str | None = None
    link: str | None = None
    resource: str | None = None
    flattrs_user_count: int | None = None
    flattred: bool | None = None
    subscribed: bool | None = None
    last_flattr: datetime | None = None
    updated: datetime | None = None

    @classmethod
    def from_json(cls, data: object, what: str = "thing") -> Thing:
        """Read a thing object."""
        value = _json.obj(data, what)
        return cls(
            id=_json.positive_id(value, "id", what),
            url=_json.string(value, "url", what),
            title=_json.string(value, "title", what),
            description=_json.opt_str(value, "description", what) or "",
            language=_json.string(value, "language", what),
            category=_json.string(value, "category", what),
            owner=Owner.from_json(value.get("owner"), f"{what} owner"),
            created=_json.timestamp(value, "created_at", what),
            flattrs=_json.count(value, "flattrs", what) or 0,
            hidden=_json.boolean(value, "hidden", what, default=False),
            tags=_json.string_list(value, "tags", what),
            image=_json.opt_str(value, "image", what),
            link=_json.opt_str(value, "link", what),
            resource=_json.opt_str(value, "resource", what),
            flattrs_user_count=_json.count(value, "flattrs_user_count", what, required=False),
            flattred=_json.opt_bool(value, "flattred", what),
            subscribed=_json.opt_bool(value, "subscribed", what),
            last_flattr=_json.opt_timestamp(value, "last_flattr_at", what),
            updated=_json.opt_timestamp(value, "updated_at", what),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class MiniThing:
    """A thing as a flattr or a flattr answer names it: id, URL, title, image, flattrs."""

    id: int
    url: str | None = None
    title: str | None = None
    image: str | None = None
    flattrs: int | None = None
    link: str | None = None
    resource: str | None = None
    #: Present inside flattr lists, absent in the answer of a flattr.
    owner: Owner | None = None

    @classmethod
    def from_json(cls, data: object, what: str = "thing") -> MiniThing:
        """Read a mini (or full) thing object."""
        value = _json.obj(data, what)
        owner = value.get("owner")
        return cls(
            id=_json.positive_id(value, "id", what),
            url=_json.opt_str(value, "url", what),
            title=_json.opt_str(value, "title", what),
            image=_json.opt_str(value, "image", what),
            flattrs=_json.count(value, "flattrs", what, required=False),
            link=_json.opt_str(value, "link", what),
            resource=_json.opt_str(value, "resource", what),
            owner=None if owner is None else Owner.from_json(owner, f"{what} owner"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Flattr:
    """One flattr: who (``owner``) flattred what (``thing``), and when."""

    thing: MiniThing
    owner: Owner
    created: datetime

    @classmethod
    def from_json(cls, data: object, what: str = "flattr") -> Flattr:
        """Read a flattr object."""
        value = _json.obj(data, what)
        return cls(
            thing=MiniThing.from_json(value.get("thing"), f"{what} thing"),
            owner=Owner.from_json(value.get("owner"), f"{what} owner"),
            created=_json.timestamp(value, "created_at", what),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscription:
    """A subscription to a thing; ``paused`` while it is not running."""

    thing: Thing
    created: datetime
    paused: bool
    #: When it was last started or restarted.
    started: datetime | None = None

    @classmethod
    def from_json(cls, data: object, what: str = "subscription") -> Subscription:
        """Read a subscription object."""
        value = _json.obj(data, what)
        return cls(
            thing=Thing.from_json(value.get("thing"), f"{what} thing"),
            created=_json.timestamp(value, "created_at", what),
            paused=not _json.boolean(value, "active", what),
            started=_json.opt_timestamp(value, "started_at", what),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimit:
    """The caller's rate-limit state (``/rate_limit``): calls allowed, left, and the reset."""

    limit: int
    remaining: int
    current: int
    #: When the hourly period ends (aware, UTC).
    reset: datetime

    @classmethod
    def from_json(cls, data: object, what: str = "rate_limit") -> RateLimit:
        """Read the ``/rate_limit`` answer."""
        value = _json.obj(data, what)
        return cls(
            limit=_json.count(value, "hourly_limit", what) or 0,
            remaining=_json.count(value, "remaining_hits", what) or 0,
            current=_json.count(value, "current_hits", what, required=False) or 0,
            reset=_json.timestamp(value, "reset_time_in_seconds", what),
        )
