"""Immutable values: OAuth tokens and the objects the REST API returns.

Every class is a frozen dataclass: safe to share between threads, to hash and
to print. Secret fields are left out of ``repr``. Tokens convert to and from
plain dicts (:meth:`AccessToken.to_dict`) so applications can keep them in a
session, a database or a JSON file.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flattr._redact import mask
from flattr.errors import ValidationError

__all__ = [
    "AccessToken",
    "Category",
    "Language",
    "Owner",
    "RequestToken",
    "Thing",
    "ThingStatus",
    "User",
]


def _require_str(data: Mapping[str, Any], name: str, kind: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise ValidationError(name, f"a stored {kind} needs a non-empty string {name!r}")
    return value


@dataclass(frozen=True, slots=True)
class RequestToken:
    """The temporary token of step 1 of the OAuth flow.

    Keep it (for example in the user's session, via :meth:`to_dict`) between
    sending the user to :meth:`FlattrAuth.authorize_url` and handling the
    callback; it is needed once more to fetch the access token.
    """

    key: str
    secret: str = field(repr=False)
    #: Whether the server confirmed the callback (OAuth 1.0a); always true for
    #: tokens returned by :meth:`FlattrAuth.fetch_request_token`.
    callback_confirmed: bool = True

    def __repr__(self) -> str:
        return f"RequestToken(key={mask(self.key)!r}, callback_confirmed={self.callback_confirmed})"

    __str__ = __repr__

    def to_dict(self) -> dict[str, Any]:
        """A plain, JSON-serialisable dict (it holds the secret: store it privately)."""
        return {
            "key": self.key,
            "secret": self.secret,
            "callback_confirmed": self.callback_confirmed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RequestToken:
        """Rebuild a token from :meth:`to_dict` output.

        :raises ValidationError: when ``key`` or ``secret`` is missing or empty.
        """
        return cls(
            _require_str(data, "key", "request token"),
            _require_str(data, "secret", "request token"),
            bool(data.get("callback_confirmed", True)),
        )


@dataclass(frozen=True, slots=True)
class AccessToken:
    """The long-lived token that lets a :class:`~flattr.FlattrClient` act for a user.

    It stays valid until the user revokes the application on Flattr. Treat the
    secret like a password.

    >>> token = AccessToken("abcdef123456", "s3cr3t")
    >>> token
    AccessToken(key='abcd…')
    >>> AccessToken.from_dict(token.to_dict()) == token
    True
    """

    key: str
    secret: str = field(repr=False)

    def __repr__(self) -> str:
        return f"AccessToken(key={mask(self.key)!r})"

    __str__ = __repr__

    def to_dict(self) -> dict[str, str]:
        """A plain, JSON-serialisable dict (it holds the secret: store it privately)."""
        return {"key": self.key, "secret": self.secret}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AccessToken:
        """Rebuild a token from :meth:`to_dict` output.

        :raises ValidationError: when ``key`` or ``secret`` is missing or empty.
        """
        return cls(
            _require_str(data, "key", "access token"),
            _require_str(data, "secret", "access token"),
        )


class ThingStatus(enum.StrEnum):
    """How a thing relates to the authenticated user."""

    #: The user may flattr it.
    OK = "ok"
    #: The user owns it (and cannot flattr it).
    OWNER = "owner"
    #: The user or the owner is inactive; no flattrs either way.
    INACTIVE = "inactive"
    #: The user has already flattred it this period.
    CLICKED = "clicked"


@dataclass(frozen=True, slots=True, kw_only=True)
class Category:
    """A thing category, such as ``text`` ("Written text")."""

    id: str
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Language:
    """A content language, such as ``en_GB`` ("English")."""

    id: str
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Owner:
    """The owner of a thing, as a thing response names it."""

    id: int
    username: str


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    """A Flattr user.

    Fields the server left out of its answer are ``None``; ``email`` is only
    sent for the token's own user with the ``extendedread`` scope.
    """

    id: int
    username: str
    firstname: str | None = None
    lastname: str | None = None
    city: str | None = None
    country: str | None = None
    gravatar: str | None = None
    email: str | None = None
    description: str | None = None
    thingcount: int | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Thing:
    """A registered thing: a blog post, an episode, any content to flattr.

    ``description`` is what the server calls ``story``. ``int_id`` is the
    number in website URLs (``https://flattr.com/thing/<int_id>``); very old
    answers lack it.
    """

    id: str
    url: str
    title: str
    description: str
    category: Category
    language: str
    owner: Owner
    created: datetime
    clicks: int
    status: ThingStatus
    tags: tuple[str, ...] = ()
    int_id: int | None = None
