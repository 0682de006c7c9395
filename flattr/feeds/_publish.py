"""Publishing a feed: plan each entry, register the new ones in parallel, report on all."""

from __future__ import annotations

import contextlib
import logging
import os
import queue
from collections.abc import Callable, Mapping, Set
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from flattr import _extras, _validate

# Imported at run time under names of their own, so the documentation links each
# generation's client in publish_feed's signature.
from flattr.client import FlattrClient as V1FlattrClient
from flattr.errors import FlattrError, RegistrationError, UncertainResultError, ValidationError
from flattr.feeds import _source, _targets
from flattr.feeds._mapping import (
    FeedContext,
    ThingDraft,
    entry_link,
    entry_title,
    flattr_language,
    map_entry,
    normalize_url,
)
from flattr.feeds._report import (
    EntryResult,
    Failed,
    PublishProgress,
    PublishReport,
    Registered,
    Skipped,
    SkipReason,
    short_error,
)
from flattr.models import Thing
from flattr.v2 import FlattrClient as V2FlattrClient

if TYPE_CHECKING:
    from flattr.client import FlattrClient

__all__ = [
    "DEFAULT_FETCH_TIMEOUT",
    "DEFAULT_MAX_FEED_BYTES",
    "MAX_WORKERS",
    "WINDOW_PER_WORKER",
    "FeedSource",
    "publish_feed",
]

log = logging.getLogger("flattr.feeds")

#: Seconds allowed for connecting to a feed URL and for each read.
DEFAULT_FETCH_TIMEOUT: Final = 30.0
#: The largest feed accepted, from a URL or a file (big podcast feeds run to a few MiB).
DEFAULT_MAX_FEED_BYTES: Final = 16 * 1024 * 1024
#: Most parallel registrations allowed.
MAX_WORKERS: Final = 32
#: Registrations handed to the threads at once, per worker: enough that a
#: thread never waits for the next one, few enough that work queued stays small.
WINDOW_PER_WORKER: Final = 2

#: What ``source`` may be: a feed URL, a path, or the feed document itself.
FeedSource = str | bytes | os.PathLike[str]


def _owned_things(client: FlattrClient, wanted: Set[str]) -> Mapping[str, Thing]:
    """The user's things whose normalised URL is in ``wanted``, by that URL.

    The list is read one thing at a time and only the feed's are kept, so an
    account of 100,000 things costs the memory of its answer, not of 100,000
    :class:`Thing` objects.
    """
    target: object = client
    if isinstance(target, _targets.V2Target):
        return target.owned(wanted)  # type: ignore[return-value]  # looked up, not listed
    owned: dict[str, Thing] = {}
    for thing in client.iter_things():
        try:
            key = normalize_url(thing.url)
        except ValidationError:
            key = thing.url
        if key in wanted:
            owned.setdefault(key, thing)
    return owned


def _look_up(client: FlattrClient, url: str) -> tuple[Thing | None, FlattrError | None]:
    try:
        return client.thing_by_url(url), None
    except FlattrError as exc:
        return None, exc


def _register(
    client: FlattrClient, index: int, draft: ThingDraft, warnings: tuple[str, ...]
) -> EntryResult:
    """Register one draft; never re-sends, resolves doubt with ``thing_by_url``."""
    common: dict[str, Any] = {"index": index, "url": draft.url, "title": draft.title}
    try:
        thing = client.register_thing(
            url=draft.url,
            title=draft.title,
            category=draft.category,
            description=draft.description,
            language=draft.language,
            tags=draft.tags,
            hidden=draft.hidden,
        )
    except RegistrationError as exc:
        if not exc.duplicate:
            return Failed(**common, error=exc, draft=draft, warnings=warnings)
        existing, lookup_error = _look_up(client, draft.url)
        if existing is not None:
            detail = f"the server says so; owner: {existing.owner.username}"
        elif lookup_error is not None:
            detail = f"the server says so; looking it up failed ({short_error(lookup_error)})"
        else:
            detail = "the server says so, but thing_by_url does not find it"
        return Skipped(
            **common,
            reason=SkipReason.ALREADY_REGISTERED,
            detail=detail,
            thing=existing,
            draft=draft,
            warnings=warnings,
        )
    except UncertainResultError as exc:
        existing, lookup_error = _look_up(client, draft.url)
        if existing is not None:
            log.info("register %s: the answer was lost, but the thing exists", draft.url)
            note = "the server's answer was lost; thing_by_url confirmed the registration"
            return Registered(**common, draft=draft, thing=existing, warnings=(*warnings, note))
        if lookup_error is not None:
            note = f"checking with thing_by_url failed too ({short_error(lookup_error)})"
            warnings = (*warnings, note)
        return Failed(**common, error=exc, draft=draft, warnings=warnings)
    except FlattrError as exc:
        return Failed(**common, error=exc, draft=draft, warnings=warnings)
    log.info("registered %s as thing %s", draft.url, thing.id)
    return Registered(**common, draft=draft, thing=thing, warnings=warnings)


def _check_options(
    workers: object,
    category: object,
    language: object,
    hidden: object,
    on_progress: object,
) -> tuple[int, str | None, str | None, bool]:
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise ValidationError("workers", f"must be a whole number from 1 to {MAX_WORKERS}")
    checked_category = None if category is None else _validate.category(category)
    checked_language = None
    if language is not None:
        checked_language = flattr_language(language)
        if checked_language is None:
            _validate.language(language)  # raises, naming the field and the choices
    if on_progress is not None and not callable(on_progress):
        raise ValidationError("on_progress", "must be a callable or None")
    return workers, checked_category, checked_language, _validate.hidden(hidden)


def publish_feed(
    client: V1FlattrClient | V2FlattrClient,
    source: FeedSource,
    *,
    dry_run: bool = False,
    workers: int = 4,
    category: str | None = None,
    language: str | None = None,
    hidden: bool = False,
    on_progress: Callable[[PublishProgress], object] | None = None,
    fetch_timeout: float = DEFAULT_FETCH_TIMEOUT,
    ca_certs: str | None = None,
    max_feed_bytes: int = DEFAULT_MAX_FEED_BYTES,
) -> PublishReport:
    r"""Register one thing per entry of a feed, skipping what is already registered.

    The user's things are listed once; an entry whose URL (normalised) is
    among them is skipped, so running it again after a failure registers only
    what is missing. The list is read one thing at a time and only the
    feed's URLs are kept, so an account of any size (up to the client's
    ``max_list_bytes``) can publish. The rest are registered by ``workers``
    threads sharing ``client`` (one connection each), with at most
    ``2 * workers`` registrations handed to them at once: reading the feed
    waits while that window is full, so the cost per entry stays the same
    however long the feed. An entry that fails never stops the
    others, and nothing is sent twice: a register whose answer was lost
    (:class:`~flattr.UncertainResultError`) is looked up with
    :meth:`~flattr.FlattrClient.thing_by_url` and counts as registered when
    found, as failed otherwise; a URL the server says is taken counts as
    skipped.

    How an entry becomes a thing: the URL is its link made absolute
    (``xml:base``, then the feed's link, then the feed's URL) and normalised;
    the description is the summary or content as plain text, cut to 1000
    characters on a word boundary (the title when there is none, with a
    warning); tags come from its categories; the language is the entry's or
    the feed's mapped onto Flattr's 45 (``en-us`` → ``en_GB``); the category
    is ``audio``/``video`` for an entry with such an enclosure, else ``text``.

    :param client: an API 0.0.1 client whose token has the ``read`` and ``publish``
        scopes, or an API v2 client (:class:`flattr.v2.FlattrClient`) whose token
        has the ``thing`` scope. With v2, each of the feed's URLs is looked up
        (``lookup``) instead of listing the user's things, things are created
        with ``create_thing``, and the report holds :class:`flattr.v2.Thing`\ s.
    :param source: an ``http(s)://`` feed URL, a path (``str`` or
        :class:`os.PathLike`) to a feed file, or the feed document itself
        (``bytes``, or a ``str`` starting with ``<``).
    :param dry_run: send no register call; the report's ``registered`` lists
        what would be registered. The user's things are still listed.
    :param workers: parallel registrations, 1 to 32.
    :param category: the category of every thing, instead of guessing it.
    :param language: the language for entries whose own (and the feed's)
        language is missing or not one of Flattr's; a Flattr id like
        ``"en_GB"`` or a tag like ``"en-us"``. Without it, such entries fail
        with a :class:`~flattr.ValidationError`.
    :param hidden: register every thing as hidden.
    :param on_progress: called in the calling thread once per finished entry
        (skipped and failed ones too) with a :class:`PublishProgress`; an
        exception it raises stops publishing (registrations under way are
        finished first, the report is lost, and a re-run is safe).
    :param fetch_timeout: seconds allowed for connecting to a feed URL and for each read.
    :param ca_certs: a PEM bundle of CAs to trust for an ``https://`` feed URL.
    :param max_feed_bytes: the largest feed accepted.
    :returns: the report; every entry is in exactly one of its lists.
    :raises ValidationError: a bad option, or a ``source`` that is not a
        feed (a malformed document with no entries, an HTML page, a missing
        file), before anything is registered.
    :raises TransportError: the feed URL could not be fetched (``TLSError``
        for an untrusted certificate).
    :raises ResponseTooLargeError: the feed is larger than ``max_feed_bytes``.
    :raises FlattrError: listing the user's things failed (e.g.
        :class:`~flattr.AuthenticationError`); nothing was registered.
    :raises ModuleNotFoundError: feedparser is not installed (it comes with
        ``pip install 'flattr[feeds]'``), before anything is fetched.
    """
    _extras.require("feeds")
    workers, category, fallback_language, hidden = _check_options(
        workers, category, language, hidden, on_progress
    )
    client = _targets.publisher(client)
    loaded = _source.load(
        source, timeout=fetch_timeout, max_bytes=max_feed_bytes, ca_certs=ca_certs
    )
    feed = _source.parse(loaded)
    context = FeedContext(
        base_url=feed.base_url,
        feed_title=feed.title,
        feed_language=feed.language,
        category=category,
        language=fallback_language,
        hidden=hidden,
    )
    total = len(feed.entries)
    results: dict[int, EntryResult] = {}

    def finish(result: EntryResult) -> None:
        results[result.index] = result
        if on_progress is not None:
            on_progress(PublishProgress(len(results), total, result))

    # Every entry is mapped first, so that only the user's things with one of
    # the feed's URLs are kept from the list, however long it is.
    mapped = [_map(index, entry, context) for index, entry in enumerate(feed.entries)]
    wanted = {each[0].url for each in mapped if isinstance(each, tuple)}
    owned = _owned_things(client, wanted) if total else {}
    first_with_url: dict[str, int] = {}
    with contextlib.closing(_Registrar(client, workers)) as registrar:
        for index, each in enumerate(mapped):
            outcome = _plan(index, each, owned, first_with_url, dry_run)
            if isinstance(outcome, _Pending):
                while registrar.full:
                    for result in registrar.finished(block=True):
                        finish(result)
                registrar.submit(outcome)
            else:
                finish(outcome)
            for result in registrar.finished(block=False):
                finish(result)
        while registrar.busy:
            for result in registrar.finished(block=True):
                finish(result)

    ordered = [results[index] for index in sorted(results)]
    return PublishReport(
        source=loaded.label,
        feed_title=feed.title,
        dry_run=dry_run,
        registered=tuple(r for r in ordered if isinstance(r, Registered)),
        skipped=tuple(r for r in ordered if isinstance(r, Skipped)),
        failed=tuple(r for r in ordered if isinstance(r, Failed)),
        warnings=feed.warnings,
    )


@dataclass(frozen=True, slots=True)
class _Pending:
    """An entry to register."""

    index: int
    draft: ThingDraft
    warnings: tuple[str, ...]


#: What :func:`_map` made of an entry: a failure, or its draft and warnings.
_Mapped = Failed | tuple[ThingDraft, tuple[str, ...]]


def _map(index: int, entry: Mapping[str, Any], context: FeedContext) -> _Mapped:
    """An entry as a draft with its warnings, or the failure to map it."""
    try:
        return map_entry(entry, context)
    except ValidationError as exc:
        return Failed(
            index=index,
            url=entry_link(entry, context.base_url),
            title=entry_title(entry),
            error=exc,
        )


def _plan(
    index: int,
    mapped: _Mapped,
    owned: Mapping[str, Thing],
    first_with_url: dict[str, int],
    dry_run: bool,
) -> EntryResult | _Pending:
    """What to do with one mapped entry: a result already, or a registration to send."""
    if isinstance(mapped, Failed):
        return mapped
    draft, warnings = mapped
    common: dict[str, Any] = {
        "index": index,
        "url": draft.url,
        "title": draft.title,
        "draft": draft,
        "warnings": warnings,
    }
    if draft.url in owned:
        return Skipped(
            **common,
            reason=SkipReason.ALREADY_REGISTERED,
            detail="you own it",
            thing=owned[draft.url],
        )
    if draft.url in first_with_url:
        return Skipped(
            **common,
            reason=SkipReason.DUPLICATE_ENTRY,
            detail=f"same URL as entry {first_with_url[draft.url] + 1}",
        )
    first_with_url[draft.url] = index
    if dry_run:
        return Registered(**common, thing=None)
    return _Pending(index, draft, warnings)


class _Registrar:
    """Runs registrations on up to ``workers`` threads, at most a window of them at once.

    Each finished registration puts its future on a queue (a done-callback),
    so collecting results costs the same per entry however many are pending:
    no wait over every future still under way.
    """

    def __init__(self, client: FlattrClient, workers: int) -> None:
        self._client = client
        self._workers = workers
        self.window = workers * WINDOW_PER_WORKER
        self._executor: ThreadPoolExecutor | None = None
        self._done: queue.SimpleQueue[Future[EntryResult]] = queue.SimpleQueue()
        self._in_flight = 0

    @property
    def busy(self) -> bool:
        """Whether registrations are still under way or waiting."""
        return self._in_flight > 0

    @property
    def full(self) -> bool:
        """Whether the window is full: the next submit must wait for a result."""
        return self._in_flight >= self.window

    def submit(self, pending: _Pending) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self._workers, thread_name_prefix="flattr-publish"
            )
        future = self._executor.submit(
            _register, self._client, pending.index, pending.draft, pending.warnings
        )
        self._in_flight += 1
        future.add_done_callback(self._done.put)

    def finished(self, *, block: bool) -> list[EntryResult]:
        """The results finished so far; with ``block``, waits for at least one."""
        done: list[Future[EntryResult]] = []
        if block and self._in_flight:
            done.append(self._done.get())
        while True:
            try:
                done.append(self._done.get_nowait())
            except queue.Empty:
                break
        self._in_flight -= len(done)
        return [future.result() for future in done]

    def close(self) -> None:
        """Cancel what has not started; wait for what has (a register is never abandoned)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
