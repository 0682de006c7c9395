"""API v2 JSON: the objects (thing, user, flattr, subscription, activity) and the encoder.

Field order follows the official examples (``thing_full.json`` for things).
``resource`` URLs point at the fake itself (so a client can follow them);
``link`` URLs point at flattr.com pages, which the fake does not serve.
"""

from __future__ import annotations

import calendar
import json
import time
from dataclasses import dataclass
from typing import Any, Final

from ._store import FakeThing, FakeUser
from ._v2store import FlattrRecord, Subscription, V2Store

__all__ = ["JSON_TYPE", "MODES", "Renderer", "dumps", "month_start"]

JSON_TYPE: Final[str] = "application/json;charset=utf-8"
#: How the API behaved at three points of its life (``FakeFlattr(v2_mode=...)``).
MODES: Final[tuple[str, ...]] = ("late-2012", "early-2012", "2014")
WEB: Final[str] = "https://flattr.com"

JSONValue = Any


def dumps(value: JSONValue) -> bytes:
    """Encode like the captured answers: ASCII only, and slashes escaped (PHP style)."""
    return json.dumps(value, ensure_ascii=True).replace("/", "\\/").encode("ascii")


def month_start(now: float) -> int:
    """Unix time of the first second of ``now``'s UTC calendar month."""
    tm = time.gmtime(now)
    return calendar.timegm((tm.tm_year, tm.tm_mon, 1, 0, 0, 0))


@dataclass(frozen=True, slots=True)
class Renderer:
    """Builds JSON objects as one caller sees them.

    :param api: the REST base as the caller reached it (``http://host:port/rest/v2``).
    :param v2: v2 state (flattrs, subscriptions, user extras).
    :param viewer: the token's user, ``None`` when anonymous.
    :param scopes: the token's scopes.
    :param mode: one of :data:`MODES`.
    :param now: the server's current Unix time.
    """

    api: str
    v2: V2Store
    viewer: FakeUser | None
    scopes: tuple[str, ...]
    mode: str
    now: float

    # -- users ------------------------------------------------------------

    def mini_user(self, user: FakeUser) -> dict[str, JSONValue]:
        """``type``, ``resource`` (lower-cased name), ``link``, ``username``."""
        return {
            "type": "user",
            "resource": f"{self.api}/users/{user.username.lower()}",
            "link": f"{WEB}/profile/{user.username}",
            "username": user.username,
        }

    def user(self, user: FakeUser, *, private: bool = False) -> dict[str, JSONValue]:
        """The user object; ``private`` adds what the token's scopes allow (``GET /user``)."""
        extras = self.v2.extras_for(user)
        body = self.mini_user(user)
        body.update(
            firstname=user.firstname,
            lastname=user.lastname,
            avatar=self._avatar(user),
            about=user.description,
            city=user.city,
            country=user.country,
            url=extras.url,
        )
        if private and ("email" in self.scopes or "extendedread" in self.scopes):
            body["email"] = user.email
        if private and "extendedread" in self.scopes:
            body["registered_at"] = extras.registered
        if self.mode == "2014":
            body["id"] = _short_id(user.id)
            body["active_supporter"] = 0
        return body

    @staticmethod
    def _avatar(user: FakeUser) -> str:
        if not user.email:
            return ""
        return user.gravatar.replace("?s=120&", "?s=48&")

    # -- things -----------------------------------------------------------

    def _hidden(self, thing: FakeThing) -> bool | int:
        return int(thing.hidden) if self.mode == "2014" else thing.hidden

    def flattred(self, thing: FakeThing) -> bool:
        """Whether the viewer flattred ``thing`` this calendar month.

        A 0.0.1 click has no date; it counts as this month's flattr.
        """
        viewer = self.viewer
        if viewer is None:
            return False
        start = month_start(self.now)
        with self.v2.lock:
            mine = [f for f in self.v2.flattrs if f.thing is thing and f.user is viewer]
            if not mine:
                return viewer.id in thing.clicked_by
            return any(f.created >= start for f in mine)

    def mini_thing(self, thing: FakeThing, *, owner: bool = False) -> dict[str, JSONValue]:
        """The mini thing; ``owner`` adds its mini owner (as in flattr lists)."""
        body: dict[str, JSONValue] = {
            "type": "thing",
            "resource": f"{self.api}/things/{thing.int_id}",
            "link": f"{WEB}/thing/{thing.int_id}",
            "id": thing.int_id,
            "url": thing.url,
            "title": thing.title,
            "image": thing.image,
            "flattrs": thing.clicks,
        }
        if owner:
            body["owner"] = self.mini_user(thing.owner)
        return body

    def thing(self, thing: FakeThing, *, full: bool = False) -> dict[str, JSONValue]:
        """The thing in the view of :attr:`viewer` (public, non-owner or owner)."""
        body: dict[str, JSONValue] = {
            "type": "thing",
            "resource": f"{self.api}/things/{thing.int_id}",
            "link": f"{WEB}/thing/{thing.int_id}",
            "id": thing.int_id,
            "url": thing.url,
            "language": thing.language,
            "category": thing.category,
            "owner": self.user(thing.owner) if full else self.mini_user(thing.owner),
            "hidden": self._hidden(thing),
            "image": thing.image,
            "created_at": thing.created,
            "tags": list(thing.tags),
            "flattrs": thing.clicks,
            "description": thing.description,
            "title": thing.title,
        }
        if full or self.mode == "2014":
            users = len(thing.clicked_by)
            body["flattrs_user_count"] = str(users) if self.mode == "2014" else users
        if self.viewer is not None and self.viewer is thing.owner:
            last = [f.created for f in self.v2.flattrs_of_thing(thing)]
            body["last_flattr_at"] = max(last, default=0)
            body["updated_at"] = thing.updated
        if self.viewer is not None:
            body["flattred"] = self.flattred(thing)
            if self.mode != "early-2012":
                body["subscribed"] = self.v2.subscription(self.viewer, thing) is not None
        return body

    # -- flattrs, subscriptions, activities -------------------------------

    def flattr(self, record: FlattrRecord, *, full: bool = False) -> dict[str, JSONValue]:
        """A flattr object: mini thing with owner and mini user, or both full."""
        return {
            "type": "flattr",
            "thing": self.thing(record.thing, full=True)
            if full
            else self.mini_thing(record.thing, owner=True),
            "owner": self.user(record.user) if full else self.mini_user(record.user),
            "created_at": record.created,
        }

    def subscription(self, sub: Subscription) -> dict[str, JSONValue]:
        """A subscription, holding the thing as the caller sees it."""
        return {
            "type": "subscription",
            "active": sub.active,
            "created_at": sub.created,
            "started_at": sub.started,
            "thing": self.thing(sub.thing),
        }

    def activity(self, record: FlattrRecord) -> dict[str, JSONValue]:
        """One Activity Streams 1.0 item for a flattr (verb ``like``)."""
        name = record.user.username
        published = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(record.created))
        return {
            "published": published,
            "title": f'{name} flattred "{record.thing.title}"',
            "actor": {
                "displayName": name,
                "url": f"{WEB}/profile/{name}",
                "objectType": "person",
            },
            "verb": "like",
            "object": {
                "displayName": record.thing.title,
                "url": f"{WEB}/thing/{record.thing.int_id}",
                "objectType": "bookmark",
            },
            "id": f"tag:flattr.com,{published[:10]}:{name}/flattr/{record.thing.int_id}",
        }


def _short_id(number: int) -> str:
    """A short opaque user id, like the 2013 ``"3bpQBK"``."""
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    text = ""
    number += 1_000_000_000
    while number:
        number, digit = divmod(number, len(alphabet))
        text = alphabet[digit] + text
    return text
