"""Where :func:`~flattr.publish_feed` registers things: API 0.0.1 or API v2.

The publishing loop speaks to its client through three calls of the 0.0.1
:class:`~flattr.FlattrClient`: list the user's things, find a thing by URL,
register one. An API 0.0.1 client is used as it is; an API v2 client is
wrapped in :class:`V2Target`, which answers the same three calls with v2's
resources:

- instead of listing every thing the user owns, each of the feed's URLs is
  looked up once (``/things/lookup``, a few at a time) before anything is
  created, so an account's size does not matter and a dry run knows what
  exists; a thing found there
  is skipped as "you own it" when the token's user owns it, and otherwise
  left to the create, which the server refuses as a duplicate;
- a thing is created with ``create_thing`` and read back by its id;
- a 400 ``validation`` answer that says the URL is already registered
  becomes a duplicate :class:`~flattr.RegistrationError`, so the loop skips
  the entry as it does for 0.0.1; a lost answer stays an
  :class:`~flattr.UncertainResultError`, which the loop resolves with a
  lookup, never by creating again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, cast

from flattr import v2
from flattr.errors import APIError, FlattrError, RegistrationError, ValidationError

if TYPE_CHECKING:
    from flattr.client import FlattrClient

__all__ = ["V2Target", "publisher"]

log = logging.getLogger("flattr.feeds")


class _Lookups(Mapping[str, v2.Thing]):
    """The things registered for the feed's URLs, each looked up once, when first asked.

    A lookup that fails counts as "not found": the create that follows then
    either succeeds or is refused as a duplicate, and both are reported.
    """

    def __init__(self, target: V2Target) -> None:
        self._target = target

    def __getitem__(self, url: str) -> v2.Thing:
        thing = self._target.known(url)
        if thing is None or thing.owner.username != self._target.username():
            raise KeyError(url)
        return thing

    def __iter__(self) -> Iterator[str]:
        return iter(self._target.found())

    def __len__(self) -> int:
        return len(self._target.found())


class V2Target:
    """An API v2 client dressed as the three 0.0.1 calls the publishing loop makes.

    :param client: a :class:`flattr.v2.FlattrClient` whose token has the ``thing`` scope.
    """

    def __init__(self, client: v2.FlattrClient) -> None:
        self.client = client
        self._lock = threading.Lock()
        self._seen: dict[str, v2.Thing | None] = {}
        self._me: str | None = None

    def __repr__(self) -> str:
        return f"V2Target({self.client!r})"

    def known(self, url: str) -> v2.Thing | None:
        """The thing for ``url`` (looked up once; a failed lookup is ``None``)."""
        with self._lock:
            if url in self._seen:
                return self._seen[url]
        try:
            thing = self.client.lookup(url)
        except FlattrError as exc:
            log.info("lookup %s failed (%s); creating will tell", url, exc)
            return None
        with self._lock:
            self._seen[url] = thing
        return thing

    def username(self) -> str | None:
        """The token's user (asked once); ``None`` when asking failed."""
        if self._me is None:
            try:
                self._me = self.client.me().username
            except FlattrError as exc:
                log.info("GET /user failed (%s); no thing counts as yours", exc)
                return None
        return self._me

    def found(self) -> list[str]:
        """The URLs looked up so far that have a thing."""
        me = self.username()
        with self._lock:
            return [
                url
                for url, thing in self._seen.items()
                if thing is not None and thing.owner.username == me
            ]

    def owned(
        self, wanted: Iterable[str] | None = None, *, threads: int = 4
    ) -> Mapping[str, v2.Thing]:
        """What the loop skips: the feed's URLs whose thing the token's user owns.

        :param wanted: the feed's URLs, when known up front: they are looked up
            at once, ``threads`` at a time. Without them, each URL is looked up
            when the loop first asks about it.
        :param threads: parallel lookups for ``wanted`` (1 to 32).
        :returns: a read-only mapping from URL to thing.
        """
        if wanted is not None:
            urls = [url for url in dict.fromkeys(wanted)]
            with ThreadPoolExecutor(
                max_workers=max(1, min(threads, 32)), thread_name_prefix="flattr-lookup"
            ) as pool:
                for _ in pool.map(self.known, urls):
                    pass
        return _Lookups(self)

    def thing_by_url(self, url: str) -> v2.Thing | None:
        """Look the URL up now (after a lost or refused create).

        :raises FlattrError: the lookup failed.
        """
        thing = self.client.lookup(url)
        with self._lock:
            self._seen[url] = thing
        return thing

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
    ) -> v2.Thing:
        """Create the thing and read it back.

        :raises RegistrationError: the server says the URL is already registered
            (``duplicate`` is true) or refused the fields.
        :raises UncertainResultError: the answer was lost; look the URL up.
        """
        try:
            thing_id = self.client.create_thing(
                url,
                title=title,
                description=description,
                category=category,
                language=language,
                tags=tags,
                hidden=hidden,
            )
        except ValidationError:
            raise
        except APIError as exc:
            if exc.status == 400 and exc.code == "validation":
                raise RegistrationError(
                    exc.status,
                    exc.message,
                    code=exc.code,
                    method=exc.method,
                    path=exc.path,
                    hint=exc.hint,
                    advice=exc.advice,
                ) from exc
            raise
        return self.client.thing(thing_id)

    def things(self) -> tuple[Any, ...]:
        """Nothing: v2 looks each URL up instead of listing every thing (see :meth:`owned`)."""
        return ()

    def iter_things(self) -> Iterator[Any]:
        """Nothing, as :meth:`things`."""
        return iter(())


def publisher(client: FlattrClient | v2.FlattrClient) -> FlattrClient:
    """The object the publishing loop calls: a 0.0.1 client itself, a v2 client wrapped.

    :raises ValidationError: for anything else.
    """
    if isinstance(client, v2.FlattrClient):
        # V2Target answers the three calls the loop makes, with v2 things in the results.
        return cast("FlattrClient", V2Target(client))
    from flattr.client import FlattrClient

    if not isinstance(client, FlattrClient):
        raise ValidationError("client", "must be a flattr.FlattrClient or a flattr.v2.FlattrClient")
    return client
